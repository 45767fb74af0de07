// The wire path against Node's own parser (llhttp), byte for byte: each raw
// request goes to a plain Node http server and to one with installWire in
// front, and what a handler sees (method, target, fields, body, in order)
// and what the client gets back (statuses, a closed connection) must be the
// same. The wire path may take a request or hand it to Node; it must never
// take one that Node would read differently or refuse.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RequestHead, type HeaderLookup } from '../../daemon/http/wire/head.js';
import { installWire } from '../../daemon/http/wire/server.js';

// ---------------------------------------------------------------- servers

interface Seen {
  method: string;
  url: string;
  /** Every field name sent (lower-cased) with the value the handler reads for it. */
  headers: Record<string, string | undefined>;
  body: string;
}

/** One server under test, with what its handlers saw on the connection of the running case. */
interface Target {
  server: Server;
  port: number;
  seen: Seen[];
  /** Requests the wire path served (zero on the plain server). */
  wireTaken: number;
  socket: Socket | null;
}

function view(method: string, url: string, names: string[], get: (name: string) => string | undefined, body: Buffer): Seen {
  const headers: Seen['headers'] = {};
  for (const n of names) headers[n.toLowerCase()] = get(n.toLowerCase());
  return { method, url, headers, body: body.toString('latin1') };
}

/** What the gateway's Node door reads (daemon/gateway/gateway.ts nodeHeaders). */
const nodeGet = (req: IncomingMessage) => (name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
};

async function startTarget(withWire: boolean): Promise<Target> {
  const t: Target = { server: null as unknown as Server, port: 0, seen: [], wireTaken: 0, socket: null };
  t.server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const names = req.rawHeaders.filter((_, i) => i % 2 === 0);
      t.seen.push(view(req.method!, req.url!, names, nodeGet(req), Buffer.concat(parts)));
      res.writeHead(200, { 'content-length': 2 });
      res.end('ok');
    });
  });
  if (withWire) {
    installWire(t.server, {
      // The gateway's own rule: POST /v1/*.
      accepts: (method, url) => method === 'POST' && url.startsWith('/v1/'),
      handle(req, res) {
        t.wireTaken++;
        const names = fieldNames(req.headers);
        t.seen.push(view(req.method, req.url, names, (n) => req.headers.get(n), req.body));
        res.writeHead(200, { 'content-length': 2 });
        res.end('ok');
      },
    });
  }
  // After installWire: runs after the wire path's own listener.
  t.server.on('connection', (s: Socket) => {
    t.socket = s;
  });
  t.server.listen(0, '127.0.0.1');
  await once(t.server, 'listening');
  t.port = (t.server.address() as AddressInfo).port;
  return t;
}

/** The wire path's lookup is a RequestHead; its map form names every field. */
function fieldNames(h: HeaderLookup): string[] {
  assert.ok(h instanceof RequestHead);
  return Object.keys(h.headers);
}

// ---------------------------------------------------------------- client

interface Outcome {
  seen: Seen[];
  statuses: number[];
  closed: boolean;
}

const turn = () => new Promise<void>((r) => setImmediate(r));

/** Statuses of the complete responses in `buf` (each with Content-Length or none). */
function statuses(buf: Buffer<ArrayBufferLike>): number[] {
  const out: number[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) return out;
    const head = buf.toString('latin1', at, end);
    const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
    if (!m) throw new Error(`not a response: ${JSON.stringify(buf.toString('latin1'))}`);
    let next = end + 4;
    if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      // Node's own 400 for a missing Host comes chunked.
      for (;;) {
        const line = buf.indexOf('\r\n', next);
        if (line < 0) return out;
        const size = parseInt(buf.toString('latin1', next, line), 16);
        next = line + 2 + size + 2;
        if (size === 0) break;
      }
    } else {
      const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
      next += cl ? Number(cl[1]) : 0;
    }
    if (buf.length < next) return out;
    out.push(Number(m[1]));
    at = next;
  }
}

/**
 * Sends `pieces` one after another (each read by the server before the
 * next is written), then waits until the exchange has settled: the
 * connection closed, or the server has read every byte and answered every
 * request its handler saw, and stays so over a few event-loop turns.
 */
async function exchange(t: Target, pieces: Buffer[]): Promise<Outcome> {
  t.seen = [];
  t.socket = null;
  const s = connect(t.port, '127.0.0.1');
  s.setNoDelay(true);
  let received: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  let closed = false;
  s.on('data', (d: Buffer) => {
    received = Buffer.concat([received, d]);
  });
  s.on('close', () => {
    closed = true;
  });
  s.on('error', () => {});
  await once(s, 'connect');
  while (t.socket === null) await turn();
  const server = t.socket as Socket;
  let sent = 0;
  for (const p of pieces) {
    if (closed) break;
    s.write(p);
    sent += p.length;
    while (!closed && !server.destroyed && server.bytesRead < sent) await turn();
  }
  let stable = 0;
  while (!closed && stable < 5) {
    await turn();
    const answered = statuses(received).length >= t.seen.length;
    stable = answered && (server.bytesRead >= sent || server.destroyed) ? stable + 1 : 0;
  }
  let got = statuses(received);
  // When Node refuses a request that came pipelined behind others, whether
  // the answers to those reach the client before its 400 depends on Node's
  // own timing (its native read path answers differently from a socket
  // handed over): then only the refusal is compared, and what the handlers saw.
  if (closed && got.length > 1 && got.at(-1)! >= 400) got = got.filter((s) => s >= 400);
  const result = { seen: t.seen, statuses: got, closed };
  s.destroy();
  return result;
}

/** Splits `b` at the given offsets (those inside it). */
function split(b: Buffer, at: number[]): Buffer[] {
  const cuts = [...new Set(at.filter((n) => n > 0 && n < b.length))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of cuts) {
    out.push(b.subarray(from, c));
    from = c;
  }
  out.push(b.subarray(from));
  return out;
}

// ---------------------------------------------------------------- corpus

const BODY = '{"model":"m","x":1}';
const req = (lines: string[], body = BODY) => Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'latin1');
const valid = (extra: string[] = [], target = '/v1/chat/completions', body = BODY) =>
  req([`POST ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', ...extra, `Content-Length: ${body.length}`], body);

const corpus: [string, Buffer][] = [
  ['a plain valid request', valid()],
  ['a query', valid([], '/v1/chat/completions?a=b&c=%20')],
  ['obs-text in a value', valid(['X-A: caf\xe9'])],
  ['tabs around a value', valid(['X-A:\tv\t'])],
  ['an empty value', valid(['X-A:'])],
  ['a repeated ordinary field', valid(['Accept: a', 'accept: b'])],
  ['Connection: close', valid(['Connection: close'])],
  ['bare LF line endings', Buffer.from(`POST /v1/a HTTP/1.1\nHost: a\nContent-Length: 2\n\nhi`)],
  ['bare CR line endings', Buffer.from(`POST /v1/a HTTP/1.1\rHost: a\rContent-Length: 2\r\rhi`)],
  ['\\r\\r\\n', Buffer.from(`POST /v1/a HTTP/1.1\r\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi`)],
  ['a bare CR inside a value', valid(['X-A: a\rb'])],
  ['obs-fold', valid(['X-A: one', ' two'])],
  ['obs-fold with a tab', valid(['X-A: one', '\ttwo'])],
  ['a line without a colon', valid(['garbage'])],
  ['a space before the colon', valid(['X-A : b'])],
  ['an empty field name', valid([': b'])],
  ['Content-Length and Transfer-Encoding', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Transfer-Encoding: chunked'], '2\r\nhi\r\n0\r\n\r\n')],
  ['Transfer-Encoding then Content-Length', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Content-Length: 5'], '2\r\nhi\r\n0\r\n\r\n')],
  ['a chunked upload', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'], '2\r\nhi\r\n0\r\n\r\n')],
  ['two equal Content-Length fields', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: 2', 'Content-Length: 2'], 'hi')],
  ['two different Content-Length fields', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: 2', 'Content-Length: 3'], 'hi!')],
  ['a Content-Length list', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: 2, 2'], 'hi')],
  ['a signed Content-Length', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: +2'], 'hi')],
  ['a negative Content-Length', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: -2'], 'hi')],
  ['a space inside Content-Length', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: 1 0'], 'hi')],
  ['a tab after Content-Length', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: 2\t'], 'hi')],
  ['a tab before Content-Length', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length:\t2'], 'hi')],
  ['spaces after Content-Length', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: 2  '], 'hi')],
  ['leading zeros in Content-Length', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: 0002'], 'hi')],
  ['a huge Content-Length', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: 99999999999999999999'], 'hi')],
  ['a hex Content-Length', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: 0x2'], 'hi')],
  ['no Content-Length', req(['POST /v1/a HTTP/1.1', 'Host: a'], '')],
  ['two Host fields', valid(['Host: evil.example'])],
  ['a Host list', req(['POST /v1/a HTTP/1.1', 'Host: a, b', 'Content-Length: 2'], 'hi')],
  ['no Host', req(['POST /v1/a HTTP/1.1', 'Content-Length: 2'], 'hi')],
  ['two Authorization fields', valid(['Authorization: Bearer a', 'Authorization: Bearer b'])],
  ['two Content-Type fields', valid(['Content-Type: text/plain'])],
  ['two Cookie fields', valid(['Cookie: a=1', 'Cookie: b=2'])],
  ['two User-Agent fields', valid(['User-Agent: a', 'User-Agent: b'])],
  ['a tab in the path', valid([], '/v1/chat\t/completions')],
  ['0xff ending the path', valid([], '/v1/chat/completions\xff')],
  ['0x80 in the query', valid([], '/v1/chat/completions?q=\x80')],
  ['a NUL in the target', valid([], '/v1/a\0b')],
  ['DEL in the target', valid([], '/v1/a\x7fb')],
  ['a fragment in the target', valid([], '/v1/a#frag')],
  ['an absolute-form target', valid([], 'http://127.0.0.1/v1/chat/completions')],
  ['an asterisk target', valid([], '*')],
  ['two spaces after the method', Buffer.from(`POST  /v1/a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi`)],
  ['a lower-case method', Buffer.from(`post /v1/a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi`)],
  ['an unknown method', Buffer.from(`FOO /v1/a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi`)],
  ['a method with a NUL', Buffer.from(`PO\0ST /v1/a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi`)],
  ['HTTP/1.0', Buffer.from(`POST /v1/a HTTP/1.0\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi`)],
  ['HTTP/1.0 with keep-alive', Buffer.from(`POST /v1/a HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi`)],
  ['HTTP/2.0', Buffer.from(`POST /v1/a HTTP/2.0\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi`)],
  ['lower-case http', Buffer.from(`POST /v1/a http/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi`)],
  ['no version', Buffer.from(`POST /v1/a\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi`)],
  ['a GET', Buffer.from(`GET /v1/models HTTP/1.1\r\nHost: a\r\n\r\n`)],
  ['Expect: 100-continue', valid(['Expect: 100-continue'])],
  ['Upgrade', valid(['Upgrade: websocket', 'Connection: upgrade'])],
  ['a control byte in a field name', valid(['X-\x01A: b'])],
  ['0xff in a field name', valid(['X-\xffA: b'])],
  ['a NUL in a value', valid(['X-A: a\0b'])],
  ['a vertical tab in a value', valid(['X-A: a\x0bb'])],
  ['DEL in a value', valid(['X-A: a\x7fb'])],
  ['an oversize head', valid([`X-Big: ${'a'.repeat(17 * 1024)}`])],
  ['a head just under 16 KiB', valid([`X-Big: ${'a'.repeat(15 * 1024)}`])],
  ['99 extra field lines', valid(Array.from({ length: 99 }, (_, i) => `X-${i}: v`))],
  ['1,100 field lines', valid(Array.from({ length: 1100 }, (_, i) => `X-${i}: v`))],
  ['pipelining after a short body', Buffer.concat([valid(), valid([], '/v1/b')])],
  ['a body longer than its Content-Length (the rest is the next request)', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: 2'], 'hiPOST /v1/b HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n')],
  ['a body longer than its Content-Length (the rest is garbage)', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: 2'], 'hi there')],
  ['pipelining after Connection: close', Buffer.concat([valid(['Connection: close']), valid([], '/v1/b')])],
  ['pipelining a GET after a POST', Buffer.concat([valid(), Buffer.from('GET /v1/models HTTP/1.1\r\nHost: a\r\n\r\n')])],
  ['a short body (waits)', req(['POST /v1/a HTTP/1.1', 'Host: a', 'Content-Length: 10'], 'hi')],
  ['an incomplete head (waits)', Buffer.from('POST /v1/a HTTP/1.1\r\nHost: a\r\n')],
  ['leading CRLF before the request line', Buffer.concat([Buffer.from('\r\n'), valid()])],
  ['a NUL before the request', Buffer.concat([Buffer.from('\0'), valid()])],
  ['TLS bytes', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])],
];

// ---------------------------------------------------------------- mutations

/** mulberry32: a small deterministic PRNG, so a failing case can be replayed by its index. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0, 9, 10, 13, 32, 44, 58, 0x7f, 0x80, 0xa0, 0xff, 0x2b, 0x2d, 0x30, 0x31, 0x41, 0x61];

function mutate(base: Buffer, rnd: () => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const at = Math.floor(rnd() * base.length);
  const byte = rnd() < 0.8 ? pick(INTERESTING) : Math.floor(rnd() * 256);
  const b = Buffer.from(base);
  switch (Math.floor(rnd() * 7)) {
    case 0: // replace a byte
      b[at] = byte;
      return b;
    case 1: // insert a byte
      return Buffer.concat([b.subarray(0, at), Buffer.from([byte]), b.subarray(at)]);
    case 2: // delete a byte
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    case 3: {
      // repeat a line of the head
      const text = b.toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      const lines = text.slice(0, headEnd).split('\r\n');
      const i = 1 + Math.floor(rnd() * (lines.length - 1));
      lines.splice(i, 0, lines[i]!);
      return Buffer.from(lines.join('\r\n') + text.slice(headEnd), 'latin1');
    }
    case 4: // cut it short
      return b.subarray(0, at);
    case 5: // another request after it
      return Buffer.concat([b, base]);
    default: {
      // change the declared length
      const text = b.toString('latin1').replace(/Content-Length: (\d+)/, (_, n: string) => `Content-Length: ${Math.max(0, Number(n) + Math.floor(rnd() * 7) - 3)}`);
      return Buffer.from(text, 'latin1');
    }
  }
}

const SEED = 0x5eed14;
const MUTATIONS = 300;

function mutations(): [string, Buffer][] {
  const rnd = prng(SEED);
  const bases = [valid(), valid(['Authorization: Bearer k', 'X-A: caf\xe9']), valid(['Connection: close'], '/v1/completions?x=1')];
  const out: [string, Buffer][] = [];
  for (let i = 0; i < MUTATIONS; i++) {
    let b: Buffer = bases[i % bases.length]!;
    const n = 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < n; k++) b = mutate(b, rnd);
    out.push([`mutation #${i} (seed ${SEED.toString(16)})`, b]);
  }
  return out;
}

// ---------------------------------------------------------------- the test

describe('the wire path reads requests exactly as llhttp does', () => {
  let plain: Target;
  let wired: Target;
  before(async () => {
    plain = await startTarget(false);
    wired = await startTarget(true);
  });
  after(() => {
    for (const t of [plain, wired]) {
      t.server.closeAllConnections();
      t.server.close();
    }
  });

  async function compare(name: string, bytes: Buffer, cuts: number[] = []): Promise<void> {
    const pieces = split(bytes, cuts);
    const expected = await exchange(plain, pieces);
    const actual = await exchange(wired, pieces);
    assert.deepEqual(actual, expected, `${name}: ${JSON.stringify(bytes.toString("latin1").slice(0, 300))}\nactual ${JSON.stringify(actual)}\nexpected ${JSON.stringify(expected)}`);
  }

  it('the corpus of malformed requests, whole', async () => {
    const before = wired.wireTaken;
    for (const [name, bytes] of corpus) await compare(name, bytes);
    // The valid requests at the top of the corpus were the wire path's, not all handed to Node.
    assert.ok(wired.wireTaken - before >= 8, `the wire path took only ${wired.wireTaken - before} requests`);
  });

  it('the corpus, each request split in three pieces (the incremental path)', async () => {
    for (const [name, bytes] of corpus) {
      const third = Math.floor(bytes.length / 3);
      await compare(`${name} (split)`, bytes, [third, 2 * third]);
    }
  });

  it(`${MUTATIONS} seeded random mutations of valid requests, whole and split`, async () => {
    const before = wired.wireTaken;
    const rnd = prng(SEED + 1);
    for (const [name, bytes] of mutations()) {
      await compare(name, bytes);
      await compare(`${name} (split)`, bytes, [Math.floor(rnd() * bytes.length)]);
    }
    assert.ok(wired.wireTaken > before, 'no mutated request reached the wire path');
  });
});
