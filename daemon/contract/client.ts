// The one client for /api/v1, built from the route table. The renderer,
// Electron main, the CLI and the tests all call the daemon through it; only
// the transport differs (fetch in a browser and in Electron, node:http in the
// CLI, which must not pay for undici's start-up).
import type { ApiErrorBody } from './api.js';
import { api, fillPath, queryString, type AnswerOf, type Api, type BodyOf, type ParamsOf, type QueryOf, type RouteName } from './routes.js';

export interface TransportRequest {
  method: string;
  /** Path and query string, e.g. `/api/v1/deployments/x/logs?tail=10`. */
  path: string;
  body?: unknown;
  signal?: AbortSignal;
}

export interface TransportAnswer {
  status: number;
  /** The parsed JSON body; undefined for an empty body (204). */
  body: unknown;
}

/** Sends one request. Throws only when the daemon could not be reached. */
export type Transport = (req: TransportRequest) => Promise<TransportAnswer>;

/** The daemon answered with its error envelope (or something that was not ours). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type IsEmpty<T> = [T] extends [undefined] ? true : keyof T extends never ? true : false;

/** What a call takes: only the parts its route has. */
export type CallArgs<R> = (IsEmpty<ParamsOf<R>> extends true ? {} : { params: ParamsOf<R> }) &
  (QueryOf<R> extends undefined ? {} : { query?: QueryOf<R> }) &
  (BodyOf<R> extends undefined ? {} : { body: BodyOf<R> }) & { signal?: AbortSignal };

type NeedsArgs<R> = IsEmpty<ParamsOf<R>> extends true ? (BodyOf<R> extends undefined ? false : true) : true;

export type Client = {
  [K in RouteName]: NeedsArgs<Api[K]> extends true
    ? (args: CallArgs<Api[K]>) => Promise<AnswerOf<Api[K]>>
    : (args?: CallArgs<Api[K]>) => Promise<AnswerOf<Api[K]>>;
};

function asApiError(status: number, body: unknown): ApiError {
  const e = (body as ApiErrorBody | undefined)?.error;
  if (e && typeof e.message === 'string') return new ApiError(status, String(e.code), e.message, e.field);
  return new ApiError(status, 'unexpected_answer', `the daemon answered ${status}`, undefined);
}

export function createClient(transport: Transport): Client {
  const client: Record<string, (args?: Record<string, unknown>) => Promise<unknown>> = {};
  for (const [name, r] of Object.entries(api)) {
    client[name] = async (args = {}) => {
      const path =
        fillPath(r.path, (args.params ?? {}) as Record<string, string>) +
        queryString(args.query as Record<string, string | number | boolean | undefined> | undefined);
      const answer = await transport({ method: r.method, path, body: args.body, signal: args.signal as AbortSignal | undefined });
      if (answer.status < 200 || answer.status >= 300) throw asApiError(answer.status, answer.body);
      return answer.body;
    };
  }
  return client as unknown as Client;
}

/** The daemon could not be reached at all (not running, wrong port). */
export class UnreachableError extends Error {
  constructor(
    readonly baseUrl: string,
    cause: unknown,
  ) {
    super(`the Berth daemon is not reachable at ${baseUrl || 'this address'}`, { cause });
    this.name = 'UnreachableError';
  }
}

/**
 * A transport over fetch. `baseUrl` is empty in the browser UI (same origin,
 * where the session cookie authenticates it); Electron main and the tests pass
 * the daemon's URL and, when set, the API key.
 */
export function fetchTransport(opts: { baseUrl?: string; apiKey?: string | null; fetch?: typeof fetch } = {}): Transport {
  const baseUrl = opts.baseUrl ?? '';
  const doFetch = opts.fetch ?? fetch;
  return async ({ method, path, body, signal }) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await doFetch(baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        credentials: 'same-origin',
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new UnreachableError(baseUrl, err);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed };
  };
}
