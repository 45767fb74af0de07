// The gateway's entry for POST /v1/*, the hot path of every inference request.
// Two doors to the same handler: the wire path (raw HTTP/1.1, see
// http/wire/server.ts) takes requests it can read without Node's parser, and
// a plain node handler in front of express takes those Node's server parsed
// (a connection handed over after a GET, a chunked upload...). Everything
// else under /v1 (GET /v1/models...) stays on the express router.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, HttpError, toHttpError } from '../http/errors.js';
import { apiKeyGuard, duplicateHost, hostGuard } from '../http/security.js';
import type { WireOptions } from '../http/wire/server.js';
import type { ClientResponse, RequestHeaders } from './client-response.js';
import { handleInference, type GatewayDeps } from './handler.js';

export type FastHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface Gateway {
  /** For Node's server: true when the request was the gateway's and is being served. */
  node: FastHandler;
  /** For the wire path. */
  wire: Pick<WireOptions, 'accepts' | 'handle'>;
}

/** The route under /v1 of a POST the gateway serves, or null. */
function gatewayRoute(method: string | undefined, url: string): string | null {
  if (method !== 'POST' || !url.startsWith('/v1/')) return null;
  const q = url.indexOf('?');
  return url.slice(3, q === -1 ? undefined : q);
}

export function createGateway(deps: GatewayDeps): Gateway {
  const host = hostGuard(deps.settings);
  const key = apiKeyGuard(deps.settings.apiKey);
  const limit = deps.settings.maxBodyBytes;
  const denied = (headers: RequestHeaders) => host(headers.get('host')) ?? key(headers.get('authorization'));
  const fail = (res: ClientResponse, err: unknown) => {
    const e = toHttpError(err);
    if (e.status >= 500 && e.code === 'internal_error') deps.log.error({ err }, 'gateway request failed');
    sendError(res, e);
  };
  const serve = async (headers: RequestHeaders, res: ClientResponse, route: string, body: Buffer, t0: number) => {
    try {
      await handleInference(deps, headers, res, route, body, t0);
    } catch (err) {
      fail(res, err);
    }
  };
  return {
    node(req, res) {
      const route = gatewayRoute(req.method, req.url ?? '');
      if (route === null) return false;
      const t0 = performance.now();
      const headers = nodeHeaders(req.headers);
      // Before the body: a refused client need not upload it (Node discards what is left).
      const refused = duplicateHost(req.rawHeaders) ?? denied(headers);
      if (refused) fail(res, refused);
      else
        readBody(req, limit).then(
          (body) => serve(headers, res, route, body, t0),
          (err: unknown) => fail(res, err),
        );
      return true;
    },
    wire: {
      // Over the limit goes to Node's path, which answers 413 and drains the upload.
      accepts: (method, url, length) => length <= limit && gatewayRoute(method, url) !== null,
      handle(req, res) {
        const t0 = performance.now();
        const refused = denied(req.headers);
        if (refused) fail(res, refused);
        else void serve(req.headers, res, gatewayRoute(req.method, req.url)!, req.body, t0);
      },
    },
  };
}

/** Node's header object as a lookup (it has already joined repeated fields, but for set-cookie). */
function nodeHeaders(h: IncomingMessage['headers']): RequestHeaders {
  return {
    get(name) {
      const v = h[name];
      return Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

function sendError(res: ClientResponse, e: HttpError): void {
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
