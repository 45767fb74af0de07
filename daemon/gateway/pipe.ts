// Streams an engine's response to the client as it arrives: no buffering, no
// re-chunking (the SSE tap only holds back an incomplete event when it must
// strip the usage chunk Berth itself asked for). Usage is read on the side.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Backend } from '../contract/deployment.js';
import { SseUsageTap } from './sse-usage.js';
import type { UpstreamResponse } from './upstream.js';
import { usageFromJson } from './usage.js';

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, not the message.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);
// Reading usage from a JSON body is a byte scan, not a parse (cheap even for
// large embeddings answers), but the body must be kept until it ends.
const MAX_USAGE_SCAN_BYTES = 64 * 1024 * 1024;

export interface PipeOptions {
  backend: Backend;
  /** Berth injected stream_options.include_usage; the client must not see its chunk. */
  stripInjectedUsage: boolean;
  extraHeaders: Record<string, string>;
  onFirstToken?: () => void;
}

export interface PipeResult {
  status: number;
  usage: { promptTokens: number; completionTokens: number } | null;
  /** The stream broke after bytes reached the client (engine died, client left). */
  broken: boolean;
}

export function pipeResponse(up: UpstreamResponse, res: ServerResponse, opts: PipeOptions): Promise<PipeResult> {
  const headers: Record<string, string | string[]> = {};
  for (const k in up.headers) {
    const v = up.headers[k];
    if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  }
  const contentType = String(up.headers['content-type'] ?? '');
  const isSse = contentType.startsWith('text/event-stream');
  const tap = isSse ? new SseUsageTap({ stripInjectedUsage: opts.stripInjectedUsage, backend: opts.backend, onFirstToken: opts.onFirstToken }) : null;
  if (tap && opts.stripInjectedUsage) delete headers['content-length'];
  Object.assign(headers, opts.extraHeaders);
  res.writeHead(up.statusCode, headers);
  // Headers go out now, not with the first body chunk: a streaming client
  // sees the response start as soon as the engine's does.
  if (isSse) res.flushHeaders();

  const body = up.body as unknown as Readable;
  const json: Buffer[] = [];
  let jsonBytes = 0;
  return new Promise<PipeResult>((resolve) => {
    let settled = false;
    const finish = (broken: boolean) => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      res.off('drain', onDrain);
      let usage = tap?.usage ?? null;
      if (!tap && !broken && jsonBytes <= MAX_USAGE_SCAN_BYTES && contentType.includes('json')) usage = usageFromJson(json.length === 1 ? json[0]! : Buffer.concat(json));
      resolve({ status: up.statusCode, usage, broken });
    };
    const onData = (chunk: Buffer) => {
      let out = chunk;
      if (tap) out = tap.push(chunk);
      else if (jsonBytes <= MAX_USAGE_SCAN_BYTES) {
        json.push(chunk);
        jsonBytes += chunk.length;
      }
      // Backpressure: a slow client pauses the engine's socket, never an unbounded buffer here.
      if (out.length && !res.write(out)) body.pause();
    };
    const onDrain = () => body.resume();
    body.on('data', onData);
    res.on('drain', onDrain);
    body.once('end', () => {
      const rest = tap?.end();
      if (rest?.length) res.write(rest);
      res.end();
      finish(false);
    });
    body.once('error', () => {
      // Bytes already reached the client: nothing can be retried; make the break visible.
      if (!res.destroyed) res.destroy();
      finish(true);
    });
    res.once('close', () => {
      if (!res.writableFinished) {
        body.destroy();
        finish(true);
      }
    });
  });
}
