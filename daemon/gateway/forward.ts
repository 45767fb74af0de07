// One request to one engine, its response streamed straight into the
// client's response, over the wire client's pooled connections: no stream
// object, promise or AbortSignal per chunk, which is most of a proxy's
// per-request cost in Node. Chunks are written as they
// arrive (no buffering, no re-chunking); a slow client pauses the engine's
// socket; a client that leaves aborts the engine's request.
import type { ExchangeControl, ResponseHandler } from '../http/wire/client.js';
import type { ResponseHead } from '../http/wire/head.js';
import type { Backend } from '../contract/deployment.js';
import { SseUsageTap } from './sse-usage.js';
import type { ClientResponse } from './client-response.js';
import { enginePool } from './upstream.js';
import { usageFromJson, type TokenUsage } from './token-usage.js';

// Reading usage from a JSON body is a byte scan, not a parse, but the body
// must be kept until it ends; past this size it is passed through unread.
const MAX_USAGE_SCAN_BYTES = 64 * 1024 * 1024;

export interface ForwardOptions {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  backend: Backend;
  /** Berth injected stream_options.include_usage; the client must not see its chunk. */
  stripInjectedUsage: boolean;
  /** A 5xx is not passed on but reported, so the caller can fall back. */
  divert5xx: boolean;
  extraHeaders: Record<string, string>;
  /** A stream's first generated token was written to the client (time to first token). */
  onFirstToken?: () => void;
}

export type ForwardResult =
  /** No response byte came: the engine refused or dropped the connection (retry-safe). */
  | { kind: 'no-response'; error: Error }
  /** The engine answered 5xx and the caller asked to divert it. Nothing reached the client. */
  | { kind: 'diverted'; status: number }
  | { kind: 'done'; status: number; usage: TokenUsage | null; /** broke after bytes reached the client */ broken: boolean };

export function forward(res: ClientResponse, opts: ForwardOptions): Promise<ForwardResult> {
  let resolve!: (r: ForwardResult) => void;
  const done = new Promise<ForwardResult>((r) => (resolve = r));
  let started = false;
  let settled = false;
  let diverting = false;
  let status = 0;
  let tap: SseUsageTap | null = null;
  let json: Buffer[] | null = null;
  let jsonBytes = 0;
  /** The response's last data, held for onEnd, which follows at once: it leaves with the end, in one write. */
  let last: Buffer | null = null;
  let ctl: ExchangeControl | null = null;
  let tokenMetered = false;

  // Object-literal methods rather than arrow functions: this runs on every
  // request, and tsx names each arrow at creation (a defineProperty each).
  const h: ResponseHandler & { settle(r: ForwardResult): void; onClientClose(): void; onDrain(): void; meterFirstToken(): void } = {
    settle(r) {
      if (settled) return;
      settled = true;
      res.off('close', h.onClientClose);
      res.off('drain', h.onDrain);
      resolve(r);
    },
    onClientClose() {
      if (res.writableFinished) return;
      ctl?.abort(new Error('client closed the connection'));
      h.settle({ kind: 'done', status: status || 499, usage: null, broken: true });
    },
    onDrain() {
      ctl?.resume();
    },
    onStart(controller) {
      ctl = controller;
      if (res.destroyed) controller.abort(new Error('client closed the connection'));
    },
    onHeaders(head) {
      status = head.status;
      if (status >= 500 && opts.divert5xx) {
        diverting = true;
        return;
      }
      started = true;
      const contentType = head.contentType;
      const sse = contentType.startsWith('text/event-stream');
      if (sse) tap = new SseUsageTap({ stripInjectedUsage: opts.stripInjectedUsage, backend: opts.backend });
      else if (contentType.includes('json')) json = [];
      // Stripping usage changes the length: then Content-Length must not go through.
      const dropLength = sse && opts.stripInjectedUsage && head.contentLength >= 0;
      if (res.writeHeadRaw && !dropLength) {
        let fields = head.endToEnd;
        for (const k in opts.extraHeaders) fields += `${k}: ${opts.extraHeaders[k]}\r\n`;
        res.writeHeadRaw(status, fields, head.contentLength >= 0, head.hasDate);
      } else res.writeHead(status, clientHeaders(head, opts.extraHeaders, dropLength));
      // A stream's headers go out now, not with its first event.
      if (tap) res.flushHeaders();
    },
    onData(chunk, isLast, framed) {
      if (diverting) return;
      let data = chunk;
      if (tap) data = tap.push(chunk);
      else if (json) {
        if (jsonBytes + chunk.length <= MAX_USAGE_SCAN_BYTES) json.push(chunk);
        else json = null;
        jsonBytes += chunk.length;
      }
      if (isLast) {
        last = data;
        return;
      }
      if (data.length) {
        // Unchanged by the tap: the engine's own chunk framing can go on as is.
        const ok = framed !== undefined && data === chunk && res.writeFramed ? res.writeFramed(framed, data) : res.write(data);
        if (!ok) ctl?.pause();
      }
      h.meterFirstToken();
    },
    meterFirstToken() {
      // After the write: the token's way to the client does not wait on the metrics.
      if (tokenMetered || !tap?.sawFirstToken) return;
      tokenMetered = true;
      opts.onFirstToken?.();
    },
    onEnd() {
      if (diverting) return h.settle({ kind: 'diverted', status });
      const rest = tap?.end();
      if (rest?.length) last = last?.length ? Buffer.concat([last, rest]) : rest;
      res.end(last?.length ? last : undefined);
      h.meterFirstToken();
      const usage = tap ? tap.usage : json ? usageFromJson(json.length === 1 ? json[0]! : Buffer.concat(json)) : null;
      h.settle({ kind: 'done', status, usage, broken: false });
    },
    onError(error) {
      if (!started && !diverting) return h.settle({ kind: 'no-response', error });
      if (diverting) return h.settle({ kind: 'diverted', status });
      // Bytes already reached the client: nothing can be retried; make the break visible.
      if (!res.destroyed) res.destroy();
      h.settle({ kind: 'done', status, usage: null, broken: true });
    },
  };
  res.on('close', h.onClientClose);
  res.on('drain', h.onDrain);
  try {
    enginePool.request({ origin: opts.origin, path: opts.path, method: 'POST', headers: opts.headers, body: opts.body }, h);
  } catch (err) {
    // Refused before anything was sent (the caller checks what it can beforehand).
    res.off('close', h.onClientClose);
    res.off('drain', h.onDrain);
    throw err;
  }
  return done;
}

/** The engine's end-to-end headers and ours, as an object (for Node's response). */
function clientHeaders(head: ResponseHead, extra: Record<string, string>, dropLength: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const headers = head.endToEndHeaders();
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined) out[k] = v;
  }
  if (dropLength) delete out['content-length'];
  for (const k in extra) out[k] = extra[k]!;
  return out;
}
