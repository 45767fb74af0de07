// The wire path keeps the deadlines of Node's own server: a request head
// or body that does not arrive in time gets Node's 408 and the connection
// closes; an idle kept-alive connection closes. Each case runs against a
// plain Node server with the same (short) settings and against one with
// installWire in front, and the client must see the same bytes and the
// same close. The timeouts are injected, never waited out at their defaults.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import type { WireResponse } from '../../daemon/http/wire/response.js';
import { installWire } from '../../daemon/http/wire/server.js';

const HEADERS_MS = 150;
const REQUEST_MS = 300;
const KEEP_ALIVE_MS = 150;
const CHECK_MS = 20;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Fixture {
  port: number;
  /** Requests a handler was given (on either path). */
  handled: () => number;
  /** Server-side sockets, to see that a cut connection is gone on the server too. */
  sockets: Socket[];
  /** Wire-path responses the test answers itself (slow handlers). */
  held: WireResponse[];
}

/**
 * `wire`: installWire in front. `hold`: the wire handler keeps the response
 * for the test to end; otherwise both paths answer 200 "ok" at once.
 */
async function start(wire: boolean, hold = false): Promise<Fixture> {
  let handled = 0;
  const f: Fixture = { port: 0, handled: () => handled, sockets: [], held: [] };
  const server: Server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: HEADERS_MS, requestTimeout: REQUEST_MS, connectionsCheckingInterval: CHECK_MS }, (req, res) => {
    req.resume();
    req.on('end', () => {
      handled++;
      res.writeHead(200, { 'content-length': 2 }).end('ok');
    });
  });
  if (wire) {
    installWire(server, {
      accepts: (m, url) => m === 'POST' && url.startsWith('/v1/'),
      handle(_req, res) {
        handled++;
        if (hold) f.held.push(res);
        else res.writeHead(200, { 'content-length': 2 }).end('ok');
      },
      checkIntervalMs: CHECK_MS,
    });
  }
  server.on('connection', (s: Socket) => f.sockets.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  f.port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    server.closeAllConnections();
    for (const s of f.sockets) s.destroy();
    server.close();
    await once(server, 'close');
  });
  return f;
}

interface Client {
  socket: Socket;
  /** Everything received, as latin1. */
  text: () => string;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
}

function client(port: number): Client {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = once(socket, 'close').then(() => undefined);
  cleanups.push(() => socket.destroy());
  return { socket, text: () => text, closed };
}

const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';
const HEAD = 'POST /v1/x HTTP/1.1\r\nHost: 127.0.0.1\r\n';

/** Runs `scenario` against both servers; resolves with what each client saw. */
async function both(scenario: (f: Fixture) => Promise<string>): Promise<{ node: string; wire: string; wireFixture: Fixture }> {
  const [nodeF, wireF] = [await start(false), await start(true)];
  const [node, wire] = await Promise.all([scenario(nodeF), scenario(wireF)]);
  return { node, wire, wireFixture: wireF };
}

describe('wire-path deadlines match Node server', () => {
  it('a head that stalls gets 408 and a close (headersTimeout)', async () => {
    const r = await both(async (f) => {
      const c = client(f.port);
      c.socket.write(HEAD);
      await c.closed;
      return c.text();
    });
    assert.equal(r.wire, REQUEST_TIMEOUT);
    assert.equal(r.wire, r.node);
    assert.equal(r.wireFixture.handled(), 0);
  });

  it('a head trickled byte by byte, never finished, gets 408 and a close', async () => {
    const r = await both(async (f) => {
      const c = client(f.port);
      // Each byte refreshes the idle timer; only the head deadline stops it.
      const bytes = HEAD + 'X-Slow: ' + 'a'.repeat(200);
      let i = 0;
      const drip = setInterval(() => {
        if (i < bytes.length && !c.socket.destroyed) c.socket.write(bytes[i++]!);
      }, 5);
      await c.closed;
      clearInterval(drip);
      return c.text();
    });
    assert.equal(r.wire, REQUEST_TIMEOUT);
    assert.equal(r.wire, r.node);
  });

  it('a body that stalls gets 408 and a close (requestTimeout), and no handler sees it', async () => {
    const r = await both(async (f) => {
      const c = client(f.port);
      c.socket.write(`${HEAD}Content-Length: 10\r\n\r\n{"a":`);
      await c.closed;
      return c.text();
    });
    assert.equal(r.wire, REQUEST_TIMEOUT);
    assert.equal(r.wire, r.node);
    assert.equal(r.wireFixture.handled(), 0);
  });

  it('a client that half-closes mid-head gets 400 and a close', async () => {
    const r = await both(async (f) => {
      const c = client(f.port);
      c.socket.end(HEAD);
      await c.closed;
      return c.text();
    });
    assert.equal(r.wire, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    assert.equal(r.wire, r.node);
  });

  it('a client that half-closes after a whole request still gets its answer', async () => {
    const r = await both(async (f) => {
      const c = client(f.port);
      c.socket.end(`${HEAD}Content-Length: 2\r\n\r\n{}`);
      await c.closed;
      // Header names differ in case between the paths; that carries no meaning.
      return c.text().replace(/\r\ndate: [^\r]*/i, '').toLowerCase();
    });
    assert.match(r.wire, /^http\/1\.1 200 ok\r\n[\s\S]*\r\n\r\nok$/);
    assert.equal(r.wire, r.node);
  });

  it('a cut connection is gone on the server too', async () => {
    const f = await start(true);
    const c = client(f.port);
    c.socket.write(`${HEAD}Content-Length: 10\r\n\r\n{"a":`);
    await c.closed;
    const server = f.sockets[0]!;
    if (!server.destroyed) await once(server, 'close');
    assert.equal(server.destroyed, true);
  });

  it('an idle kept-alive connection closes without a word (keepAliveTimeout)', async () => {
    const r = await both(async (f) => {
      const c = client(f.port);
      c.socket.write(`${HEAD}Content-Length: 2\r\n\r\n{}`);
      await c.closed;
      return c.text();
    });
    // One 200 and then the close, on both.
    assert.match(r.wire, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/);
    assert.match(r.node, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/);
  });

  it('a request being served is not cut by the request deadline (a cold start can take minutes)', async () => {
    const f = await start(true, true);
    const served = client(f.port);
    served.socket.write(`${HEAD}Content-Length: 2\r\n\r\n{}`);
    while (f.held.length === 0) await new Promise((r) => setImmediate(r));
    // A clock made of the deadline itself: a later stalled head is cut only
    // after the first request has been held longer than both deadlines.
    const clock = client(f.port);
    clock.socket.write(HEAD);
    await clock.closed;
    for (let i = 0; i < 2; i++) {
      const next = client(f.port);
      next.socket.write(HEAD);
      await next.closed;
    }
    assert.equal(served.socket.destroyed, false);
    f.held[0]!.writeHead(200, { 'content-length': 4 }).end('late');
    while (!served.text().endsWith('late')) await once(served.socket, 'data');
    assert.match(served.text(), /^HTTP\/1\.1 200 OK\r\n/);
  });
});
