// Typed errors carry their HTTP status; one middleware renders them, in
// OpenAI's envelope on /v1 and in ours on /api (STYLE example 8).
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, field?: string) => new HttpError(400, 'invalid_request', message, field);
export const notFound = (message: string, code = 'not_found') => new HttpError(404, code, message);
export const conflict = (message: string, code = 'conflict', field?: string) => new HttpError(409, code, message, field);

/** Turns the first zod issue into a 400 that names the field and what was expected. */
export function fromZod(error: z.ZodError, prefix = ''): HttpError {
  const issue = error.issues[0]!;
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  return badRequest(field ? `${field}: ${issue.message}` : issue.message, field || undefined);
}

/** Anything with a numeric `status` and a `code` (PlanError, AllocationError...) is an HTTP error. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof z.ZodError) return fromZod(err);
  if (err && typeof err === 'object') {
    const e = err as { status?: unknown; code?: unknown; message?: unknown; field?: unknown; type?: unknown };
    // body-parser errors: malformed JSON, too large.
    if (e.type === 'entity.parse.failed') return badRequest('request body is not valid JSON');
    if (e.type === 'entity.too.large') return new HttpError(413, 'body_too_large', 'request body is too large');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 600 && typeof e.message === 'string') {
      return new HttpError(
        e.status,
        typeof e.code === 'string' ? e.code : 'error',
        e.message,
        typeof e.field === 'string' ? e.field : undefined,
      );
    }
  }
  return new HttpError(500, 'internal_error', 'internal error');
}

export type ErrorFlavor = 'berth' | 'openai';

export function errorBody(err: HttpError, flavor: ErrorFlavor): unknown {
  if (flavor === 'openai') {
    const type = err.status >= 500 ? 'server_error' : 'invalid_request_error';
    return { error: { message: err.message, type, param: err.field ?? null, code: err.code } };
  }
  return { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
}

export function errorMiddleware(flavor: ErrorFlavor, log: Logger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const httpErr = toHttpError(err);
    if (httpErr.status >= 500) log.error({ err }, 'request failed');
    res.status(httpErr.status).set(httpErr.headers).json(errorBody(httpErr, flavor));
  };
}
