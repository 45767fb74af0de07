// Writing responses the way Starlette/uvicorn write them: content-length on plain bodies,
// `content-type: application/json` (no charset) for JSON, none at all for the empty /health
// bodies and vLLM's plain-text LoRA answers, `server: uvicorn`, and one uvicorn access line
// per response, logged when the response head goes out.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { EngineConfig } from './config.js';
import { emit, uvicornLine } from './log-lines.js';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  cfg: EngineConfig;
  method: string;
  path: string;
}

export function accessLog(ctx: Ctx, status: number): void {
  if (!ctx.cfg.accessLog || ctx.path.startsWith('/fake/')) return;
  const { req } = ctx;
  const client = `${req.socket.remoteAddress ?? '-'}:${req.socket.remotePort ?? 0}`;
  emit(ctx.cfg.engine, uvicornLine(ctx.cfg.engine, 'INFO', `${client} - "${req.method} ${req.url} HTTP/${req.httpVersion}" ${status} ${STATUS_CODES[status] ?? ''}`));
}

function head(ctx: Ctx, status: number, headers: Record<string, string | number>): void {
  accessLog(ctx, status);
  ctx.res.writeHead(status, { date: new Date().toUTCString(), server: 'uvicorn', ...headers });
}

export function sendBody(ctx: Ctx, status: number, body: string, contentType: string | null): void {
  if (ctx.res.headersSent || ctx.res.destroyed) return;
  const buf = Buffer.from(body);
  head(ctx, status, { 'content-length': buf.length, ...(contentType ? { 'content-type': contentType } : {}) });
  ctx.res.end(buf);
}

export const sendJson = (ctx: Ctx, status: number, body: unknown) => sendBody(ctx, status, JSON.stringify(body), 'application/json');

/** Starts a StreamingResponse(media_type="text/event-stream"); Starlette adds the charset. */
export function startSse(ctx: Ctx): void {
  head(ctx, 200, { 'content-type': 'text/event-stream; charset=utf-8', 'transfer-encoding': 'chunked' });
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON object body, or undefined when the text is not JSON (the engines' 400 path). */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
