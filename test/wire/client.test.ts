import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ClientError,
  ClientPool,
  type ClientPoolOptions,
  type ClientRequest,
  type ExchangeControl,
} from '../../daemon/http/wire/client.js';
import type { HeaderMap } from '../../daemon/http/wire/head.js';

// ---------------------------------------------------------------- fixtures

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function newPool(opts?: ClientPoolOptions): ClientPool {
  const pool = new ClientPool(opts);
  cleanups.push(() => pool.close());
  return pool;
}

interface HttpFixture {
  server: Server;
  origin: string;
  /** TCP connections the server accepted. */
  connections: () => number;
  /** Requests the server received. */
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer; socket: Socket }[];
}

async function httpServer(handle: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<HttpFixture> {
  const requests: HttpFixture['requests'] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body, socket: req.socket });
      handle(req, res, body);
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, requests };
}

interface RawFixture {
  origin: string;
  connections: () => number;
}

/**
 * A raw TCP server. `onRequest` gets each request head (bodies are empty in
 * these tests), the socket and the index of its connection (0 first).
 */
async function rawServer(onRequest: (socket: Socket, head: string, conn: number, nth: number) => void): Promise<RawFixture> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: NetServer = createNetServer((socket) => {
    const conn = connections++;
    let nth = 0;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0 && !socket.destroyed; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        onRequest(socket, head, conn, nth++);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    server.close();
    await once(server, 'close');
  });
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

interface Outcome {
  events: string[];
  status: number | null;
  headers: HeaderMap | null;
  chunks: Buffer[];
  error: ClientError | null;
  started: boolean | null;
  ctl: ExchangeControl | null;
}

interface Hooks {
  onStart?(o: Outcome): void;
  onHeaders?(o: Outcome): void;
  onData?(o: Outcome): void;
}

/** Runs one exchange; resolves at onEnd or onError with everything the handler saw. */
function send(pool: ClientPool, req: Partial<ClientRequest> & { origin: string }, hooks: Hooks = {}): Promise<Outcome> {
  const o: Outcome = { events: [], status: null, headers: null, chunks: [], error: null, started: null, ctl: null };
  return new Promise((resolve) => {
    pool.request(
      { method: 'GET', path: '/', headers: {}, body: Buffer.alloc(0), ...req },
      {
        onStart(ctl) {
          o.events.push('start');
          o.ctl = ctl;
          hooks.onStart?.(o);
        },
        onHeaders(head) {
          o.events.push('headers');
          o.status = head.status;
          o.headers = head.headers;
          hooks.onHeaders?.(o);
        },
        onData(chunk) {
          o.events.push('data');
          // Copy: the view may point into a buffer the socket reuses.
          o.chunks.push(Buffer.from(chunk));
          hooks.onData?.(o);
        },
        onEnd() {
          o.events.push('end');
          resolve(o);
        },
        onError(err, responseStarted) {
          o.events.push('error');
          o.error = err;
          o.started = responseStarted;
          resolve(o);
        },
      },
    );
  });
}

const text = (o: Outcome): string => Buffer.concat(o.chunks).toString();
/** The events with repeated data collapsed, for order checks. */
const shape = (o: Outcome): string => o.events.filter((e, i) => !(e === 'data' && o.events[i - 1] === 'data')).join(' ');

// ---------------------------------------------------------------- tests

/** A broken exchange fails its test instead of hanging the run. */
const LIMIT = { timeout: 3000 };

describe('ClientPool', () => {
  it('reads a JSON response with Content-Length and sends a well-formed request', LIMIT, async () => {
    const payload = JSON.stringify({ id: 'cmpl-1', choices: [{ text: 'héllo' }] });
    const srv = await httpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), 'X-Engine': 'vllm' });
      res.end(payload);
    });
    const pool = newPool();
    const body = Buffer.from('{"prompt":"hi"}');
    const o = await send(pool, {
      origin: srv.origin,
      method: 'POST',
      path: '/v1/completions?x=1',
      headers: { 'content-type': 'application/json', 'x-request-id': 'r1' },
      body,
    });
    assert.equal(shape(o), 'start headers data end');
    assert.equal(o.status, 200);
    assert.equal(o.headers!['content-type'], 'application/json');
    assert.equal(o.headers!['x-engine'], 'vllm');
    assert.equal(o.headers!['content-length'], String(Buffer.byteLength(payload)));
    assert.equal(o.headers!['transfer-encoding'], undefined);
    assert.deepEqual(Buffer.concat(o.chunks), Buffer.from(payload));

    assert.equal(srv.requests.length, 1);
    const r = srv.requests[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/v1/completions?x=1');
    assert.equal(r.headers.host, new URL(srv.origin).host);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['x-request-id'], 'r1');
    assert.equal(r.headers['content-length'], String(body.length));
    assert.deepEqual(r.body, body);
  });

  it('hands on a chunked stream as it arrives, de-chunked', LIMIT, async () => {
    const parts = ['data: {"a":1}\n\n', 'data: {"b":2}\n\n', 'data: [DONE]\n\n'];
    const srv = await httpServer(async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      for (const p of parts) {
        res.write(p);
        await sleep(15);
      }
      res.end();
    });
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin });
    assert.equal(o.status, 200);
    assert.equal(o.headers!['transfer-encoding'], 'chunked');
    assert.equal(shape(o), 'start headers data end');
    assert.ok(o.chunks.length > 1, `onData was called ${o.chunks.length} time(s)`);
    assert.equal(text(o), parts.join(''));
  });

  it('reuses one connection for sequential requests', LIMIT, async () => {
    const srv = await httpServer((req, res) => res.end(`ok ${req.url}`));
    const pool = newPool();
    assert.equal(text(await send(pool, { origin: srv.origin, path: '/1' })), 'ok /1');
    assert.equal(text(await send(pool, { origin: srv.origin, path: '/2' })), 'ok /2');
    assert.equal(text(await send(pool, { origin: srv.origin, path: '/3', method: 'POST', body: Buffer.from('xyz') })), 'ok /3');
    assert.equal(srv.connections(), 1);
    assert.equal(srv.requests.length, 3);
    assert.equal(srv.requests[0]!.socket, srv.requests[2]!.socket);
  });

  it('does not reuse a connection idle past the engine\'s Keep-Alive hint less a second', LIMIT, async () => {
    const srv = await httpServer((_req, res) => res.end('ok'));
    srv.server.keepAliveTimeout = 1000;
    const pool = newPool();
    const first = await send(pool, { origin: srv.origin });
    assert.equal(first.headers!['keep-alive'], 'timeout=1');
    await sleep(50);
    const second = await send(pool, { origin: srv.origin });
    assert.equal(text(second), 'ok');
    assert.equal(srv.connections(), 2);
  });

  it('without a Keep-Alive hint, reuses a connection only within idleMs', LIMIT, async () => {
    const srv = await httpServer((_req, res) => res.end('ok'));
    srv.server.keepAliveTimeout = 0; // Node then sends no Keep-Alive header and keeps the socket
    const short = newPool({ idleMs: 10 });
    const first = await send(short, { origin: srv.origin });
    assert.equal(first.headers!['keep-alive'], undefined);
    await sleep(25);
    await send(short, { origin: srv.origin });
    assert.equal(srv.connections(), 2);

    const long = newPool();
    await send(long, { origin: srv.origin });
    await sleep(25);
    await send(long, { origin: srv.origin });
    assert.equal(srv.connections(), 3);
  });

  it('keeps no idle connection when maxIdle is 0', LIMIT, async () => {
    const srv = await httpServer((_req, res) => res.end('ok'));
    const pool = newPool({ maxIdle: 0 });
    await send(pool, { origin: srv.origin });
    await send(pool, { origin: srv.origin });
    assert.equal(srv.connections(), 2);
  });

  it('copes with an engine that closes the kept connection after the response', LIMIT, async () => {
    const srv = await httpServer((req, res) => {
      res.end('ok');
      res.on('finish', () => setImmediate(() => req.socket.destroy()));
    });
    const pool = newPool();
    assert.equal(text(await send(pool, { origin: srv.origin })), 'ok');
    await sleep(20);
    const o = await send(pool, { origin: srv.origin });
    assert.equal(shape(o), 'start headers data end');
    assert.equal(text(o), 'ok');
    assert.equal(srv.connections(), 2);
  });

  it('retries once on a fresh connection when a reused one dies before any response byte', LIMIT, async () => {
    const srv = await rawServer((socket, _head, conn, nth) => {
      // The first connection answers once, then drops the next request unanswered.
      if (conn === 0 && nth > 0) socket.destroy();
      else socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nconn ${conn}`);
    });
    const pool = newPool();
    assert.equal(text(await send(pool, { origin: srv.origin })), 'conn 0');
    const o = await send(pool, { origin: srv.origin, method: 'POST', body: Buffer.alloc(0) });
    assert.equal(shape(o), 'start headers data end');
    assert.equal(text(o), 'conn 1');
    assert.equal(srv.connections(), 2);
  });

  it('retries only once: a fresh connection that dies too fails the request', LIMIT, async () => {
    const srv = await rawServer((socket, _head, conn, nth) => {
      if (conn === 0 && nth === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else socket.destroy();
    });
    const pool = newPool();
    assert.equal(text(await send(pool, { origin: srv.origin })), 'ok');
    const o = await send(pool, { origin: srv.origin });
    assert.equal(shape(o), 'start error');
    assert.equal(o.error!.code, 'ECONNRESET');
    assert.equal(o.started, false);
    assert.equal(srv.connections(), 2);
  });

  it('does not retry on a fresh connection that dies before answering', LIMIT, async () => {
    const srv = await rawServer((socket) => socket.destroy());
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin });
    assert.equal(shape(o), 'start error');
    assert.ok(o.error instanceof ClientError);
    assert.equal(o.error.code, 'ECONNRESET');
    assert.equal(o.started, false);
    await sleep(20);
    assert.equal(srv.connections(), 1);
  });

  it('reports a refused connection as ECONNREFUSED before any response', LIMIT, async () => {
    const srv = await httpServer((_req, res) => res.end());
    const origin = srv.origin;
    srv.server.close();
    await once(srv.server, 'close');
    const pool = newPool();
    const o = await send(pool, { origin });
    assert.equal(shape(o), 'start error');
    assert.ok(o.error instanceof ClientError);
    assert.equal(o.error.code, 'ECONNREFUSED');
    assert.equal(o.started, false);
  });

  it('reports a response cut off mid-body as started', LIMIT, async () => {
    const srv = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789');
      setTimeout(() => socket.destroy(), 10);
    });
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin });
    assert.equal(shape(o), 'start headers data error');
    assert.equal(o.status, 200);
    assert.equal(text(o), '0123456789');
    assert.equal(o.started, true);
    assert.equal(o.error!.code, 'ERR_RESPONSE_TRUNCATED');
  });

  it('reports a chunked response cut off mid-stream as started', LIMIT, async () => {
    const srv = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      setTimeout(() => socket.destroy(), 10);
    });
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin });
    assert.equal(shape(o), 'start headers data error');
    assert.equal(text(o), 'hello');
    assert.equal(o.started, true);
    assert.equal(o.error!.code, 'ERR_RESPONSE_TRUNCATED');
  });

  it('abort() from onHeaders fails the exchange and closes the engine connection', LIMIT, async () => {
    let serverSawClose!: Promise<unknown>;
    const srv = await httpServer((req, res) => {
      serverSawClose = once(req.socket, 'close');
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: 1\n\n'); // goes out with the head: no onData may follow the abort
    });
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin }, { onHeaders: (x) => x.ctl!.abort(new Error('client went away')) });
    assert.equal(shape(o), 'start headers error');
    assert.equal(o.error!.code, 'ERR_ABORTED');
    assert.equal(o.error!.message, 'client went away');
    assert.equal(o.started, true);
    await serverSawClose;
    await sleep(10);
    assert.deepEqual(o.events, ['start', 'headers', 'error']);
  });

  it('abort() from onData stops the stream there', LIMIT, async () => {
    const srv = await httpServer(async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      for (let i = 0; i < 5; i++) {
        if (res.destroyed) return;
        res.write(`data: ${i}\n\n`);
        await sleep(10);
      }
      res.end();
    });
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin }, { onData: (x) => x.ctl!.abort(new Error('enough')) });
    assert.equal(shape(o), 'start headers data error');
    assert.equal(o.chunks.length, 1);
    assert.equal(o.error!.code, 'ERR_ABORTED');
    assert.equal(o.started, true);
    await sleep(30);
    assert.equal(o.events.at(-1), 'error');
  });

  it('abort() from onStart fails at once without sending', LIMIT, async () => {
    const srv = await httpServer((_req, res) => res.end('ok'));
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin }, { onStart: (x) => x.ctl!.abort(new Error('never mind')) });
    assert.equal(shape(o), 'start error');
    assert.equal(o.error!.code, 'ERR_ABORTED');
    assert.equal(o.started, false);
    assert.equal(text(await send(pool, { origin: srv.origin })), 'ok');
    assert.equal(srv.requests.length, 1);
    assert.equal(srv.connections(), 1);
  });

  it('pause() holds data back until resume()', LIMIT, async () => {
    const srv = await httpServer(async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      for (const p of ['a', 'b', 'c']) {
        res.write(p);
        await sleep(5);
      }
      res.end();
    });
    const pool = newPool();
    let seenWhilePaused = -1;
    let endedWhilePaused = true;
    const o = await send(pool, { origin: srv.origin }, {
      onHeaders: (x) => {
        x.ctl!.pause();
        setTimeout(() => {
          seenWhilePaused = x.chunks.length;
          endedWhilePaused = x.events.includes('end');
          x.ctl!.resume();
        }, 60);
      },
    });
    assert.equal(endedWhilePaused, false);
    assert.ok(seenWhilePaused <= 1, `${seenWhilePaused} chunks while paused`);
    assert.equal(text(o), 'abc');
    assert.equal(o.events.at(-1), 'end');
  });

  it('opens a new connection after a response with Connection: close', LIMIT, async () => {
    const srv = await httpServer((_req, res) => {
      res.setHeader('Connection', 'close');
      res.end('bye');
    });
    const pool = newPool();
    const first = await send(pool, { origin: srv.origin });
    assert.equal(first.headers!.connection, 'close');
    assert.equal(text(first), 'bye');
    assert.equal(text(await send(pool, { origin: srv.origin })), 'bye');
    assert.equal(srv.connections(), 2);
  });

  for (const [what, head] of [
    ['Connection: close', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n'],
    ['HTTP/1.0 without keep-alive', 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n'],
  ] as const) {
    it(`closes its side after ${what}, even if the engine keeps the socket open`, LIMIT, async () => {
      const closed: Promise<unknown>[] = [];
      const srv = await rawServer((socket, _head, _conn, nth) => {
        if (nth === 0) closed.push(once(socket, 'close'));
        socket.write(`${head}ok`);
      });
      const pool = newPool();
      assert.equal(text(await send(pool, { origin: srv.origin })), 'ok');
      await closed[0];
      assert.equal(text(await send(pool, { origin: srv.origin })), 'ok');
      assert.equal(srv.connections(), 2);
    });
  }

  it('reuses a connection after an HTTP/1.0 response with Connection: keep-alive', LIMIT, async () => {
    const srv = await rawServer((socket) => socket.write('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok'));
    const pool = newPool();
    await send(pool, { origin: srv.origin });
    assert.equal(text(await send(pool, { origin: srv.origin })), 'ok');
    assert.equal(srv.connections(), 1);
  });

  it('does not reuse a connection that carried bytes past the response', LIMIT, async () => {
    const srv = await rawServer((socket, _head, conn) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok${conn === 0 ? 'STRAY' : ''}`);
    });
    const pool = newPool();
    const first = await send(pool, { origin: srv.origin });
    assert.equal(text(first), 'ok');
    assert.equal(shape(first), 'start headers data end');
    assert.equal(text(await send(pool, { origin: srv.origin })), 'ok');
    assert.equal(srv.connections(), 2);
  });

  it('throws ERR_INVALID_HEADER for a header value with CR LF, before calling the handler', LIMIT, async () => {
    const srv = await httpServer((_req, res) => res.end());
    const pool = newPool();
    let called = false;
    assert.throws(
      () =>
        pool.request(
          { origin: srv.origin, method: 'GET', path: '/', headers: { 'x-a': 'b\r\nX-Smuggled: 1' }, body: Buffer.alloc(0) },
          {
            onStart: () => (called = true),
            onHeaders: () => (called = true),
            onData: () => (called = true),
            onEnd: () => (called = true),
            onError: () => (called = true),
          },
        ),
      (err: unknown) => err instanceof ClientError && err.code === 'ERR_INVALID_HEADER',
    );
    assert.equal(called, false);
    await sleep(10);
    assert.equal(srv.connections(), 0);
  });

  for (const [what, req, code] of [
    ['a header name with CR LF', { method: 'GET', path: '/', headers: { 'x-a\r\nx-injected': 'yes' } }, 'ERR_INVALID_HEADER'],
    ['a path with CR LF', { method: 'GET', path: '/ HTTP/1.1\r\nx-evil: 1\r\nfoo: /', headers: {} }, 'ERR_INVALID_PATH'],
    ['a method that is not a token', { method: 'GET /x', path: '/', headers: {} }, 'ERR_INVALID_METHOD'],
    ['a header value that is not bytes (U+010A would be written as LF)', { method: 'GET', path: '/', headers: { 'x-a': 'b\u010aX-Smuggled: 1' } }, 'ERR_INVALID_HEADER'],
  ] as const) {
    it(`throws ${code} for ${what}, sending nothing`, LIMIT, async () => {
      const srv = await httpServer((_req, res) => res.end());
      const pool = newPool();
      assert.throws(
        () =>
          pool.request(
            { origin: srv.origin, ...req, headers: { ...req.headers }, body: Buffer.alloc(0) },
            { onStart() {}, onHeaders() {}, onData() {}, onEnd() {}, onError() {} },
          ),
        (err: unknown) => err instanceof ClientError && err.code === code,
      );
      await sleep(10);
      assert.equal(srv.connections(), 0);
    });
  }

  it('ends a HEAD response after its head, whatever its Content-Length, and reuses the connection', LIMIT, async () => {
    const srv = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-length': '5' });
      res.end();
    });
    const pool = newPool();
    for (let i = 0; i < 2; i++) {
      const events: string[] = [];
      await new Promise<void>((resolve, reject) =>
        pool.request(
          { origin: srv.origin, method: 'HEAD', path: '/', headers: {}, body: Buffer.alloc(0) },
          {
            onStart() {},
            onHeaders: (head) => events.push(`headers ${head.status}`),
            onData: () => events.push('data'),
            onEnd: () => (events.push('end'), resolve()),
            onError: (err) => reject(err),
          },
        ),
      );
      assert.deepEqual(events, ['headers 200', 'end']);
    }
    assert.equal(srv.connections(), 1);
  });

  it('throws ERR_INVALID_URL for an origin that is not http://', LIMIT, () => {
    const pool = newPool();
    assert.throws(
      () => pool.request({ origin: 'https://127.0.0.1:1', method: 'GET', path: '/', headers: {}, body: Buffer.alloc(0) }, {
        onStart() {},
        onHeaders() {},
        onData() {},
        onEnd() {},
        onError() {},
      }),
      (err: unknown) => err instanceof ClientError && err.code === 'ERR_INVALID_URL',
    );
  });

  it('ends a 204 with no body, and keeps the connection', LIMIT, async () => {
    const srv = await httpServer((req, res) => {
      if (req.url === '/empty') {
        res.statusCode = 204;
        res.end();
      } else res.end('after');
    });
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin, path: '/empty' });
    assert.equal(o.status, 204);
    assert.deepEqual(o.events, ['start', 'headers', 'end']);
    assert.equal(text(await send(pool, { origin: srv.origin })), 'after');
    assert.equal(srv.connections(), 1);
  });

  it('ends a Content-Length: 0 response at once', LIMIT, async () => {
    const srv = await httpServer((_req, res) => {
      res.setHeader('Content-Length', '0');
      res.end();
    });
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin });
    assert.equal(o.status, 200);
    assert.deepEqual(o.events, ['start', 'headers', 'end']);
  });

  it('skips an interim 100 Continue', LIMIT, async () => {
    const srv = await rawServer((socket) => {
      socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone');
    });
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin });
    assert.equal(shape(o), 'start headers data end');
    assert.equal(o.status, 201);
    assert.equal(text(o), 'done');
  });

  it('reads a head split across packets', LIMIT, async () => {
    const srv = await rawServer(async (socket) => {
      for (const piece of ['HTTP/1.1 200 OK\r\nContent-Len', 'gth: 3\r\n\r', '\nab', 'c']) {
        socket.write(piece);
        await sleep(5);
      }
    });
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin });
    assert.equal(o.status, 200);
    assert.equal(text(o), 'abc');
    assert.equal(o.events.at(-1), 'end');
  });

  it('reads a body without length until the engine closes', LIMIT, async () => {
    const srv = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome');
      setTimeout(() => socket.end(' more'), 10);
    });
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin });
    assert.equal(shape(o), 'start headers data end');
    assert.equal(text(o), 'some more');
  });

  it('fails with ERR_BAD_RESPONSE on a malformed head', LIMIT, async () => {
    const srv = await rawServer((socket) => socket.write('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin });
    assert.equal(shape(o), 'start error');
    assert.equal(o.error!.code, 'ERR_BAD_RESPONSE');
    assert.equal(o.started, false);
  });

  it('fails with ERR_BAD_RESPONSE on a malformed chunked body', LIMIT, async () => {
    const srv = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'));
    const pool = newPool();
    const o = await send(pool, { origin: srv.origin });
    assert.equal(shape(o), 'start headers error');
    assert.equal(o.error!.code, 'ERR_BAD_RESPONSE');
    assert.equal(o.started, true);
  });

  it('close() closes idle connections', LIMIT, async () => {
    let serverSawClose!: Promise<unknown>;
    const srv = await httpServer((req, res) => {
      serverSawClose = once(req.socket, 'close');
      res.end('ok');
    });
    const pool = newPool();
    await send(pool, { origin: srv.origin });
    pool.close();
    await serverSawClose;
  });
});

describe('ClientPool with warmMs: connections kept warm across the engine\'s keep-alive', () => {
  /**
   * An engine with a Keep-Alive hint of `hintS` (a connection is reusable for
   * a second less once idle; Node's server drops it a second after its hint)
   * whose answers take 50 ms, so that requests sent together overlap.
   */
  async function engine(hintS: number): Promise<HttpFixture> {
    const srv = await httpServer((_req, res) => void setTimeout(() => res.end('ok'), 50));
    srv.server.keepAliveTimeout = hintS * 1000;
    return srv;
  }
  const burst = (pool: ClientPool, origin: string, n: number) => Promise.all(Array.from({ length: n }, () => send(pool, { origin })));
  const open = (srv: HttpFixture) => new Promise<number>((resolve, reject) => srv.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

  it('a burst after a pause longer than the keep-alive finds as many connections open as the last burst used, and opens none', { timeout: 15_000 }, async () => {
    const srv = await engine(4);
    const pool = newPool({ warmMs: 20_000 });
    for (const o of await burst(pool, srv.origin, 4)) assert.equal(text(o), 'ok');
    assert.equal(srv.connections(), 4);
    // Past the engine's keep-alive (5 s): the first connections were replaced at about 3 s, and the replacements last until about 6 s.
    await sleep(5300);
    const before = srv.connections();
    assert.ok(before >= 8, `each first connection was replaced (${before} opened)`);
    for (const o of await burst(pool, srv.origin, 4)) assert.equal(text(o), 'ok');
    assert.equal(srv.connections(), before, 'the burst opened no connection');
  });

  it('stops replacing connections warmMs after the last request', { timeout: 15_000 }, async () => {
    const srv = await engine(2);
    const pool = newPool({ warmMs: 1800 });
    await burst(pool, srv.origin, 3);
    // Replaced at about 1 s; the window ends at 1.8 s, and the replacements are closed at about 2 s.
    await sleep(3000);
    assert.equal(await open(srv), 0);
    const after = srv.connections();
    assert.ok(after > 3, 'replaced within the window');
    await sleep(1500);
    assert.equal(srv.connections(), after, 'no connection opened once the window ended');
  });

  it('without warmMs, a burst after the keep-alive opens its connections anew', { timeout: 15_000 }, async () => {
    const srv = await engine(2);
    const pool = newPool();
    await burst(pool, srv.origin, 4);
    await sleep(3300);
    assert.equal(await open(srv), 0);
    await burst(pool, srv.origin, 4);
    assert.equal(srv.connections(), 8);
  });

  it('close() ends the warming: idle connections close and none are opened', { timeout: 15_000 }, async () => {
    const srv = await engine(2);
    const pool = new ClientPool({ warmMs: 10_000 });
    await burst(pool, srv.origin, 2);
    pool.close();
    const after = srv.connections();
    await sleep(1600);
    assert.equal(await open(srv), 0);
    assert.equal(srv.connections(), after);
  });
});
