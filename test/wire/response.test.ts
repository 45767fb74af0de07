// What the wire path writes to a client is valid HTTP: a head our own code
// gets wrong is refused before a byte leaves, and an engine reply framed
// both ways reaches the client with one framing.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { ClientPool } from '../../daemon/http/wire/client.js';
import type { ResponseHead } from '../../daemon/http/wire/head.js';
import { forward } from '../../daemon/gateway/forward.js';
import { enginePool } from '../../daemon/gateway/upstream.js';
import { InvalidHeadError, type WireResponse } from '../../daemon/http/wire/response.js';
import { installWire } from '../../daemon/http/wire/server.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Listens on a free loopback port until the test ends (running `beforeClose` first); returns the port. */
async function listen(server: Server | NetServer, beforeClose?: () => void): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    beforeClose?.();
    server.close();
    await once(server, 'close');
  });
  return (server.address() as AddressInfo).port;
}

/** A server whose POST /v1/* requests go to `handle` on the wire path; the rest get 404 from Node. */
async function wireServer(handle: (res: WireResponse) => void): Promise<number> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wire = installWire(server, { accepts: (m, url) => m === 'POST' && url.startsWith('/v1/'), handle: (_req, res) => handle(res) });
  return listen(server, () => wire.closeAll());
}

interface Reply {
  head: string;
  /** Field lines as sent, names lower-cased. */
  fields: [string, string][];
  /** The body, de-chunked when chunked. */
  body: string;
}

/** Sends one POST, then reads until `complete` makes an answer of what has arrived (as latin1 text, head included). */
async function exchange<T>(port: number, complete: (received: string) => T | undefined): Promise<T> {
  const s: Socket = connect(port, '127.0.0.1');
  cleanups.push(() => s.destroy());
  s.write('POST /v1/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n');
  let buf = '';
  for await (const d of s) {
    buf += (d as Buffer).toString('latin1');
    const answer = complete(buf);
    if (answer !== undefined) return answer;
  }
  throw new Error(`connection closed after ${JSON.stringify(buf)}`);
}

/** Sends one POST and reads one response (Content-Length or chunked). */
function post(port: number): Promise<Reply> {
  return exchange(port, (buf) => {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const head = buf.slice(0, end);
    const fields = head
      .split('\r\n')
      .slice(1)
      .map((l): [string, string] => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
    const rest = buf.slice(end + 4);
    const cl = fields.find(([n]) => n === 'content-length');
    if (fields.some(([n, v]) => n === 'transfer-encoding' && v === 'chunked')) {
      if (!rest.endsWith('0\r\n\r\n')) return undefined;
      let body = '';
      for (let at = 0; ; ) {
        const line = rest.indexOf('\r\n', at);
        const size = parseInt(rest.slice(at, line), 16);
        if (size === 0) return { head, fields, body };
        body += rest.slice(line + 2, line + 2 + size);
        at = line + 2 + size + 2;
      }
    }
    if (cl && rest.length >= Number(cl[1])) return { head, fields, body: rest.slice(0, Number(cl[1])) };
    return undefined;
  });
}

/** Sends one POST and reads the raw bytes after the head, until the connection's last chunk. */
function rawBody(port: number): Promise<string> {
  return exchange(port, (buf) => {
    const end = buf.indexOf('\r\n\r\n');
    return end >= 0 && buf.endsWith('\r\n0\r\n\r\n') ? buf.slice(end + 4) : undefined;
  });
}

describe('WireResponse writes valid heads only', () => {
  const bad: [string, () => Record<string, string>, string][] = [
    ['a CRLF in a value (response splitting)', () => ({ 'x-a': 'v\r\nSet-Cookie: evil=1' }), 'ERR_INVALID_CHAR'],
    ['a bare LF in a value', () => ({ 'x-a': 'v\nx' }), 'ERR_INVALID_CHAR'],
    ['a NUL in a value', () => ({ 'x-a': 'v\0' }), 'ERR_INVALID_CHAR'],
    ['a character above 0xff in a value', () => ({ 'x-a': 'v\u010a' }), 'ERR_INVALID_CHAR'],
    ['a space in a name', () => ({ 'x a': 'v' }), 'ERR_INVALID_HTTP_TOKEN'],
    ['a colon in a name', () => ({ 'x:a': 'v' }), 'ERR_INVALID_HTTP_TOKEN'],
    ['an empty name', () => ({ '': 'v' }), 'ERR_INVALID_HTTP_TOKEN'],
  ];
  for (const [what, headers, code] of bad) {
    it(`refuses ${what} with a typed error, and nothing of it is written`, async () => {
      let thrown: unknown = null;
      const port = await wireServer((res) => {
        try {
          res.writeHead(200, { ...headers(), 'content-length': 2 });
        } catch (err) {
          thrown = err;
        }
        // The same response is still usable: nothing was sent.
        res.writeHead(500, { 'content-length': 2 });
        res.end('no');
      });
      const reply = await post(port);
      assert.ok(thrown instanceof InvalidHeadError, `threw ${String(thrown)}`);
      assert.equal(thrown.code, code);
      assert.match(reply.head, /^HTTP\/1\.1 500 /);
      assert.deepEqual(reply.fields.filter(([n]) => n === 'x-a' || n === 'set-cookie'), []);
      assert.equal(reply.body, 'no');
    });
  }

  it('refuses field lines with a line break smuggled into a value (writeHeadRaw)', async () => {
    let thrown: unknown = null;
    const port = await wireServer((res) => {
      try {
        res.writeHeadRaw(200, 'x-a: v\rSet-Cookie: evil=1\r\n', false, false);
      } catch (err) {
        thrown = err;
      }
      res.writeHeadRaw(200, 'x-b: ok\r\n', false, false);
      res.end('fine');
    });
    const reply = await post(port);
    assert.ok(thrown instanceof InvalidHeadError);
    assert.equal(thrown.code, 'ERR_INVALID_CHAR');
    assert.deepEqual(reply.fields.filter(([n]) => n.startsWith('x-') || n === 'set-cookie'), [['x-b', 'ok']]);
    assert.equal(reply.body, 'fine');
  });

  it('refuses a status outside 100-999', async () => {
    let thrown: unknown = null;
    const port = await wireServer((res) => {
      try {
        res.writeHead(1000);
      } catch (err) {
        thrown = err;
      }
      res.end('x');
    });
    await post(port);
    assert.ok(thrown instanceof InvalidHeadError);
    assert.equal(thrown.code, 'ERR_HTTP_INVALID_STATUS_CODE');
  });
});

describe('an engine reply with both Transfer-Encoding and Content-Length', () => {
  /** A raw upstream that answers every request with both framings (the body is chunked, 11 bytes). */
  async function bothFramings(): Promise<string> {
    const server = createNetServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write(
          'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nContent-Length: 99\r\nx-engine: 1\r\nTransfer-Encoding: chunked\r\n\r\n' +
            '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
        );
      });
    });
    return `http://127.0.0.1:${await listen(server)}`;
  }

  it('reaches the client chunked, without the Content-Length (RFC 9112 §6.3)', async () => {
    const origin = await bothFramings();
    const pool = new ClientPool();
    cleanups.push(() => pool.close());
    const port = await wireServer((res) => {
      // As the gateway's forward does: the engine's end-to-end fields, our framing.
      pool.request(
        { origin, method: 'POST', path: '/v1/x', headers: {}, body: Buffer.alloc(0) },
        {
          onStart() {},
          onHeaders(head: ResponseHead) {
            res.writeHeadRaw(head.status, head.endToEnd, head.contentLength >= 0, head.hasDate);
          },
          onData: (chunk) => void res.write(Buffer.from(chunk)),
          onEnd: () => void res.end(),
          onError: () => void res.destroy(),
        },
      );
    });
    const reply = await post(port);
    assert.deepEqual(reply.fields.filter(([n]) => n === 'content-length'), []);
    assert.deepEqual(reply.fields.filter(([n]) => n === 'transfer-encoding'), [['transfer-encoding', 'chunked']]);
    assert.deepEqual(reply.fields.filter(([n]) => n === 'x-engine' || n === 'content-type'), [['content-type', 'text/plain'], ['x-engine', '1']]);
    assert.equal(reply.body, 'hello world');
  });
});

describe('a stream written to the client', () => {

  it('is one chunk per write, its size line the write length in hex, across the sizes where hex gains a digit', async () => {
    // 16384 is the largest write copied into one framed buffer; 16385 goes out as three pieces.
    const sizes = [1, 15, 16, 255, 256, 4095, 4096, 16384, 16385, 65536];
    const data = sizes.map((n, i) => Buffer.alloc(n, 0x61 + i));
    const port = await wireServer((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // The first write leaves with the head; the others go out one by one, in later ticks.
      res.write(data[0]!);
      let i = 1;
      const next = () => {
        if (i < data.length) {
          res.write(data[i++]!);
          setImmediate(next);
        } else res.end();
      };
      setImmediate(next);
    });
    const expected = data.map((d) => `${d.length.toString(16)}\r\n${d.toString('latin1')}\r\n`).join('') + '0\r\n\r\n';
    assert.equal(await rawBody(port), expected);
  });
});

describe("an engine's chunked stream relayed by the gateway", () => {
  /** A raw engine that answers with `writes`, one socket write each, a few ms apart. */
  async function engine(writes: string[]): Promise<string> {
    const server = createNetServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', async () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n');
        for (const w of writes) {
          await new Promise((r) => setTimeout(r, 5));
          socket.write(w);
        }
      });
    });
    // The gateway's pool keeps the engine connection for the next request.
    return `http://127.0.0.1:${await listen(server, () => enginePool.close())}`;
  }

  /** Reads one response's body as its chunks: [size line, data] each, the last chunk excluded. */
  async function chunks(port: number): Promise<[string, string][]> {
    const body = await rawBody(port);
    const out: [string, string][] = [];
    for (let at = 0; ; ) {
      const line = body.indexOf('\r\n', at);
      const sizeLine = body.slice(at, line);
      const size = parseInt(sizeLine, 16);
      if (size === 0) return out;
      out.push([sizeLine, body.slice(line + 2, line + 2 + size)]);
      assert.equal(body.slice(line + 2 + size, line + 4 + size), '\r\n', 'CRLF after chunk data');
      at = line + 4 + size;
    }
  }

  const event = (n: number, pad = '') => `data: {"choices":[{"delta":{"content":"t${n}${pad}"}}]}\n\n`;
  const chunk = (data: string, size = data.length.toString(16)) => `${size}\r\n${data}\r\n`;

  it('reaches the client as the same events, every size line lower-case hex without leading zeros or extensions, whatever the engine wrote', async () => {
    const long = event(4, 'x'.repeat(200)); // over 0x9f bytes: a size with a letter
    const writes = [
      chunk(event(1)), // as Berth frames: may pass as is
      chunk(event(2)) + chunk(event(3)), // two whole chunks in one read
      chunk(long, long.length.toString(16).toUpperCase()), // upper-case hex
      `${event(5).length.toString(16)};ext=1\r\n${event(5)}\r\n`, // an extension
      chunk(event(6), '0' + event(6).length.toString(16)), // a leading zero
      chunk(event(7)).slice(0, 9), // a chunk split across two reads
      chunk(event(7)).slice(9),
      chunk(event(8)) + '0\r\n\r\n', // the last data with the end
    ];
    const origin = await engine(writes);
    const port = await wireServer((res) => {
      void forward(res, { origin, path: '/v1/x', headers: {}, body: Buffer.alloc(0), backend: 'vllm', stripInjectedUsage: false, divert5xx: false, extraHeaders: {} });
    });
    const got = await chunks(port);
    for (const [sizeLine, data] of got) {
      assert.match(sizeLine, /^[1-9a-f][0-9a-f]*$/, `size line ${JSON.stringify(sizeLine)}`);
      assert.equal(parseInt(sizeLine, 16), data.length);
    }
    assert.equal(got.map(([, d]) => d).join(''), [1, 2, 3].map((n) => event(n)).join('') + long + [5, 6, 7, 8].map((n) => event(n)).join(''));
  });
});
