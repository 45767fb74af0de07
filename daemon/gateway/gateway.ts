// The gateway's entry for POST /v1/*, the hot path of every inference request.
// Two doors to the same handler: the wire path (raw HTTP/1.1, see
// http/wire/server.ts) takes requests it can read without Node's parser, and
// a plain node handler in front of express takes those Node's server parsed
// (a connection handed over after a GET, a chunked upload...). Everything
// else under /v1 (GET /v1/models...) stays on the express router.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../http/errors.js';
import { allowOrigin, apiKeyGuard, duplicateHost, hostGuard, originGuard } from '../http/security.js';
import type { WireOptions } from '../http/wire/server.js';
import type { ClientResponse, RequestHeaders } from './client-response.js';
import { handleInference, refuseRequest, type GatewayDeps } from './handler.js';

export type FastHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface Gateway {
  /** For Node's server: true when the request was the gateway's and is being served. */
  node: FastHandler;
  /** For the wire path. */
  wire: Pick<WireOptions, 'accepts' | 'admit' | 'handle'>;
}

/**
 * The target under /v1 of a POST the gateway serves, query included (it goes
 * to the engine as sent, like the body), or null.
 */
function gatewayRoute(method: string | undefined, url: string): string | null {
  if (method !== 'POST' || !url.startsWith('/v1/')) return null;
  return url.slice(3);
}

export function createGateway(deps: GatewayDeps): Gateway {
  const host = hostGuard(deps.settings);
  const origins = originGuard(deps.settings);
  const key = apiKeyGuard(deps.settings.apiKey);
  const limit = deps.settings.maxBodyBytes;
  // Every request is checked before its body is read, in express's order:
  // Host, Origin, then the API key. A refusal by the first two is for a page
  // we do not serve; past them, an Origin is an allowed one and gets its CORS
  // fields on whatever answer follows, a 401 included, so a page can read it.
  const foreign = (headers: RequestHeaders): HttpError | null => {
    const h = headers.get('host');
    return host(h) ?? origins(headers.get('origin'), h);
  };
  const cors = (headers: RequestHeaders, res: ClientResponse) => {
    const origin = headers.get('origin');
    if (origin !== undefined) allowOrigin(res, origin);
  };
  const fail = (res: ClientResponse, err: unknown, t0: number) => refuseRequest(deps, res, err, t0);
  const serve = (headers: RequestHeaders, res: ClientResponse, route: string, body: Buffer, t0: number) =>
    void handleInference(deps, headers, res, route, body, t0);
  return {
    node(req, res) {
      const route = gatewayRoute(req.method, req.url ?? '');
      if (route === null) return false;
      const t0 = performance.now();
      const headers = nodeHeaders(req.headers);
      // Before the body: a refused client need not upload it (Node discards what is left).
      let refused = duplicateHost(req.rawHeaders) ?? foreign(headers);
      if (!refused) {
        cors(headers, res);
        refused = key(headers);
      }
      if (refused) fail(res, refused, t0);
      else
        readBody(req, limit).then(
          (body) => serve(headers, res, route, body, t0),
          // A client gone mid-body lands here too, as a 499 with nothing written.
          (err: unknown) => fail(res, err, t0),
        );
      return true;
    },
    wire: {
      // Over the limit goes to Node's path, which answers 413 and drains the upload.
      accepts: (method, url, length) => length <= limit && gatewayRoute(method, url) !== null,
      admit(_method, _url, headers) {
        // No response exists yet: the refusal is written on the one the wire path makes for it.
        const refused = foreign(headers);
        if (refused) return (res) => fail(res, refused, performance.now());
        const badKey = key(headers);
        if (!badKey) return null;
        return (res) => {
          cors(headers, res);
          fail(res, badKey, performance.now());
        };
      },
      // Only admitted requests get here: an Origin they carry is an allowed one.
      handle(req, res) {
        const t0 = performance.now();
        cors(req.headers, res);
        serve(req.headers, res, gatewayRoute(req.method, req.url)!, req.body, t0);
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
