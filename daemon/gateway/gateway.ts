// The gateway's entry for POST /v1/*: a plain node handler in front of
// express, because this is the hot path of every inference request and
// express's routing and body parsing cost more than the proxying itself.
// Everything else under /v1 (GET /v1/models...) stays on the express router.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, HttpError, toHttpError } from '../http/errors.js';
import { apiKeyGuard, hostGuard } from '../http/security.js';
import { handleInference, type GatewayDeps } from './handler.js';

export type FastHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export function createGateway(deps: GatewayDeps): FastHandler {
  const host = hostGuard(deps.settings);
  const key = apiKeyGuard(deps.settings.apiKey);
  const serve = async (req: IncomingMessage, res: ServerResponse, route: string) => {
    const t0 = performance.now();
    try {
      const denied = host(req.headers.host) ?? key(req.headers.authorization);
      if (denied) throw denied;
      const raw = await readBody(req, deps.settings.maxBodyBytes);
      await handleInference(deps, req, res, route, raw, t0);
    } catch (err) {
      const e = toHttpError(err);
      if (e.status >= 500 && e.code === 'internal_error') deps.log.error({ err }, 'gateway request failed');
      sendError(res, e);
    }
  };
  return (req, res) => {
    const url = req.url ?? '';
    if (req.method !== 'POST' || !url.startsWith('/v1/')) return false;
    const q = url.indexOf('?');
    void serve(req, res, url.slice(3, q === -1 ? undefined : q));
    return true;
  };
}

function sendError(res: ServerResponse, e: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(e, 'openai'));
  res.writeHead(e.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...e.headers });
  res.end(body);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, 'body_too_large', `request body is larger than ${limit} bytes`);
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    // Drain what the client still sends, so it reads our answer instead of a reset.
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}
