// The gateway's HTTP/1.1 as a client sees it on the socket: exact request
// bytes in, exact response bytes out, several requests per connection. These
// pin today's behaviour (Node's http server in front of the POST /v1/* fast
// path) so that a different server underneath answers the same way.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import { deploymentWhen, startTestDaemon, type TestDaemon, waitFor } from '../helpers/daemon.js';
import { SAFETY_MS } from '../helpers/limits.js';

// ---------------------------------------------------------------------------
// A minimal HTTP/1.1 client on a raw socket.

interface WireHead {
  statusLine: string;
  status: number;
  /** Names lower-cased; a repeated header's values joined with ', '. */
  headers: Record<string, string>;
  /** Every header line as sent, in order. */
  rawHeaders: [name: string, value: string][];
}

interface WireResponse extends WireHead {
  /** The body, de-chunked when it came chunked. */
  body: Buffer;
  /** The body arrived with chunked transfer coding. */
  chunked: boolean;
  text: string;
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

class Wire {
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiters = new Set<() => void>();
  /** The server ended or closed the connection (or it failed). */
  ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c;
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  static open(d: TestDaemon): Promise<Wire> {
    const { hostname, port } = new URL(d.url);
    return new Promise((resolve, reject) => {
      const s = connect({ host: hostname, port: Number(port), noDelay: true });
      s.once('connect', () => resolve(new Wire(s)));
      s.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Bytes received and not yet read as part of a response. */
  get unread(): string {
    return this.buf.toString('latin1');
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with what `take` returns once it returns something; `take` consumes from `buf`. */
  private until<T>(what: string, take: () => T | undefined, timeoutMs = SAFETY_MS): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = () => {
        let v: T | undefined;
        try {
          v = take();
        } catch (err) {
          done();
          reject(err as Error);
          return;
        }
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (this.ended) {
          done();
          reject(new Error(`connection closed while waiting for ${what}; unread: ${JSON.stringify(this.unread.slice(0, 300))}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; unread: ${JSON.stringify(this.unread.slice(0, 300))}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  private take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** The status line and headers of the next response (an interim 1xx counts as one). */
  readHead(timeoutMs?: number): Promise<WireHead> {
    return this.until('a response head', () => {
      const end = this.buf.indexOf(HEAD_END);
      if (end === -1) return undefined;
      const lines = this.take(end + 4).subarray(0, end).toString('latin1').split('\r\n');
      const statusLine = lines.shift()!;
      const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
      if (!m) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
      const headers: Record<string, string> = {};
      const rawHeaders: [string, string][] = [];
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon <= 0) throw new Error(`bad header line ${JSON.stringify(line)}`);
        const name = line.slice(0, colon);
        const value = line.slice(colon + 1).trim();
        rawHeaders.push([name, value]);
        const key = name.toLowerCase();
        headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
      }
      return { statusLine, status: Number(m[1]), headers, rawHeaders };
    }, timeoutMs);
  }

  /** One chunk of a chunked body; null for the last chunk (its trailer section read too). */
  async readChunk(timeoutMs?: number): Promise<Buffer | null> {
    const r = await this.until('a body chunk', () => {
      const lineEnd = this.buf.indexOf(CRLF);
      if (lineEnd === -1) return undefined;
      const sizeText = this.buf.subarray(0, lineEnd).toString('latin1').split(';')[0]!.trim();
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size line ${JSON.stringify(this.unread.slice(0, 100))}`);
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        // Trailer section: header lines, then an empty line.
        const rest = this.buf.subarray(lineEnd + 2);
        if (rest.length >= 2 && rest[0] === 0x0d && rest[1] === 0x0a) {
          this.take(lineEnd + 4);
          return { chunk: null };
        }
        const end = rest.indexOf(HEAD_END);
        if (end === -1) return undefined;
        this.take(lineEnd + 2 + end + 4);
        return { chunk: null };
      }
      const total = lineEnd + 2 + size + 2;
      if (this.buf.length < total) return undefined;
      const chunk = Buffer.from(this.buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      if (this.buf[total - 2] !== 0x0d || this.buf[total - 1] !== 0x0a) throw new Error('chunk data not followed by CRLF');
      this.take(total);
      return { chunk };
    }, timeoutMs);
    return r.chunk;
  }

  /** The body of a response whose head was read (RFC 9112 §6.3, as a client sees it). */
  async readBody(head: WireHead, timeoutMs?: number): Promise<WireResponse> {
    const te = head.headers['transfer-encoding'];
    const cl = head.headers['content-length'];
    let body: Buffer;
    let chunked = false;
    if ((head.status >= 100 && head.status < 200) || head.status === 204 || head.status === 304) {
      body = Buffer.alloc(0);
    } else if (te !== undefined) {
      assert.match(te, /chunked$/i);
      chunked = true;
      const parts: Buffer[] = [];
      for (let c = await this.readChunk(timeoutMs); c; c = await this.readChunk(timeoutMs)) parts.push(c);
      body = Buffer.concat(parts);
    } else if (cl !== undefined) {
      assert.match(cl, /^\d+$/);
      const n = Number(cl);
      body = await this.until(`${n} body bytes`, () => (this.buf.length >= n ? Buffer.from(this.take(n)) : undefined), timeoutMs);
    } else {
      // Neither: the body runs to the end of the connection.
      body = await this.until('the end of a close-delimited body', () => (this.ended ? Buffer.from(this.take(this.buf.length)) : undefined), timeoutMs);
    }
    return { ...head, body, chunked, text: body.toString('utf8') };
  }

  /** One whole response: head, then its body. */
  async readResponse(timeoutMs?: number): Promise<WireResponse> {
    return this.readBody(await this.readHead(timeoutMs), timeoutMs);
  }

  /** Resolves once the server has ended the connection. */
  closed(timeoutMs = SAFETY_MS): Promise<void> {
    return this.until('the server to close the connection', () => (this.ended ? true : undefined), timeoutMs).then(() => undefined);
  }

  /** Asserts the server keeps the connection open for a short while. */
  async stillOpen(ms = 50): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    assert.equal(this.ended, false, 'the server kept the connection open');
  }
}

interface RequestOpts {
  /** Extra header lines, sent in this order after Host. */
  headers?: [string, string][];
  body?: string | Buffer;
  version?: '1.0' | '1.1';
  /** Host header value; null sends none. */
  host?: string | null;
  /** Leave out the automatic Content-Length. */
  noLength?: boolean;
}

/** The exact bytes of one request. Content-Length is added for a body unless told otherwise. */
function request(method: string, path: string, o: RequestOpts = {}): Buffer {
  const body = o.body === undefined ? undefined : Buffer.from(o.body);
  const lines = [`${method} ${path} HTTP/${o.version ?? '1.1'}`];
  const host = o.host === undefined ? '127.0.0.1' : o.host;
  if (host !== null) lines.push(`Host: ${host}`);
  for (const [k, v] of o.headers ?? []) lines.push(`${k}: ${v}`);
  if (body && !o.noLength) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return body ? Buffer.concat([head, body]) : head;
}

const JSON_CT: [string, string] = ['Content-Type', 'application/json'];

function chatBody(model: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });
}

function postChat(model: string, o: RequestOpts & { extra?: Record<string, unknown> } = {}): Buffer {
  return request('POST', '/v1/chat/completions', { ...o, headers: [JSON_CT, ...(o.headers ?? [])], body: chatBody(model, o.extra) });
}

interface Completion {
  id: string;
  object: string;
  model: string;
  choices: { message: { content: string } }[];
}

/** A complete 200 chat completion for `model`, with a content-length body. */
function assertCompletion(r: WireResponse, model: string): Completion {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.chunked, false);
  const c = JSON.parse(r.text) as Completion;
  assert.equal(c.object, 'chat.completion');
  assert.equal(c.model, model);
  assert.match(c.id, /^chatcmpl-/);
  assert.ok(c.choices.length > 0 && c.choices[0]!.message.content.length > 0);
  return c;
}

interface OpenAiError {
  error: { message: string; type: string; param: string | null; code: string };
}

function assertOpenAiError(r: WireResponse, status: number, code: string): OpenAiError['error'] {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(Number(r.headers['content-length']), r.body.length);
  const e = JSON.parse(r.text) as OpenAiError;
  assert.equal(e.error.code, code);
  assert.equal(e.error.type, status >= 500 ? 'server_error' : 'invalid_request_error');
  return e.error;
}

/** SSE events of a de-chunked stream body, without the final [DONE]. */
function sseEvents(text: string): unknown[] {
  assert.ok(text.endsWith('data: [DONE]\n\n'), `stream ends with [DONE]: ${JSON.stringify(text.slice(-80))}`);
  return text
    .split('\n\n')
    .filter((e) => e && e !== 'data: [DONE]')
    .map((e) => {
      assert.ok(e.startsWith('data: '), e);
      return JSON.parse(e.slice(6)) as unknown;
    });
}

/** Every header name, lower-cased and sorted (case and order carry no meaning); a repeated header shows twice. */
const headerNames = (r: WireHead) => r.rawHeaders.map(([k]) => k.toLowerCase()).sort();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ready(d: TestDaemon, name: string): Promise<DeploymentStatus> {
  return deploymentWhen(d, name, (s) => s.replicas.some((r) => r.state === 'ready'));
}

async function metricsText(d: TestDaemon): Promise<string> {
  return (await fetch(`${d.url}/metrics`)).text();
}

// ---------------------------------------------------------------------------

describe('gateway on the wire', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
    const specs = [
      { name: 'm', modelId: 'x/m', backend: 'vllm' },
      // 200 tokens at 20 ms: a stream that lasts 4 s unless its client leaves.
      { name: 'slow', modelId: 'x/s', backend: 'vllm', env: { FAKE_TOKENS: '200', FAKE_TOKEN_DELAY_MS: '20' } },
    ];
    for (const created of await Promise.all(specs.map((spec) => d.api('POST', '/api/v1/deployments', spec)))) {
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    await Promise.all(specs.map((spec) => ready(d, spec.name)));
  });
  after(() => d.stop());

  /** Opens a connection for one test and always closes it. */
  async function withWire(fn: (w: Wire) => Promise<void>): Promise<void> {
    const w = await Wire.open(d);
    try {
      await fn(w);
    } finally {
      w.destroy();
    }
  }

  describe('connection reuse', () => {
    it('keeps the connection alive across three chat completions', () =>
      withWire(async (w) => {
        const ids = new Set<string>();
        for (let i = 0; i < 3; i++) {
          w.write(postChat('m'));
          const r = await w.readResponse();
          ids.add(assertCompletion(r, 'm').id);
          assert.equal(r.headers.connection, 'keep-alive');
          assert.equal(w.unread, '', 'nothing after the body');
          await w.stillOpen(10);
        }
        assert.equal(ids.size, 3);
        await w.stillOpen();
      }));

    it('answers pipelined requests in order, even when the later one finishes upstream first', () =>
      withWire(async (w) => {
        // 'slow' takes ~60 ms for 3 tokens; 'm' answers at once: the order on the wire is the request order.
        w.write(Buffer.concat([postChat('slow', { extra: { max_tokens: 3 } }), postChat('m')]));
        const first = await w.readResponse();
        const second = await w.readResponse();
        assertCompletion(first, 'slow');
        assertCompletion(second, 'm');
        assert.notEqual((JSON.parse(first.text) as Completion).id, (JSON.parse(second.text) as Completion).id);
        await w.stillOpen();
      }));

    it('answers a pipelined mix of POST, GET and error answers in order', () =>
      withWire(async (w) => {
        w.write(
          Buffer.concat([
            postChat('m'),
            request('GET', '/v1/models'),
            postChat('nope'),
            request('GET', '/api/v1/deployments'),
            postChat('m'),
          ]),
        );
        assertCompletion(await w.readResponse(), 'm');
        const models = await w.readResponse();
        assert.equal(models.status, 200);
        assert.equal((JSON.parse(models.text) as { object: string }).object, 'list');
        assertOpenAiError(await w.readResponse(), 404, 'model_not_found');
        const deps = await w.readResponse();
        assert.equal(deps.status, 200);
        assert.ok(Array.isArray((JSON.parse(deps.text) as { deployments: unknown[] }).deployments));
        assertCompletion(await w.readResponse(), 'm');
        assert.equal(w.unread, '');
        await w.stillOpen();
      }));

    async function getModels(w: Wire): Promise<void> {
      w.write(request('GET', '/v1/models'));
      const r = await w.readResponse();
      assert.equal(r.status, 200, r.text);
      // Express's res.json(): its own content-type spelling.
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
      const list = JSON.parse(r.text) as { object: string; data: { id: string }[] };
      assert.equal(list.object, 'list');
      assert.deepEqual(list.data.map((m) => m.id).sort(), ['m', 'slow']);
    }
    async function getDeployments(w: Wire): Promise<void> {
      w.write(request('GET', '/api/v1/deployments'));
      const r = await w.readResponse();
      assert.equal(r.status, 200, r.text);
      const body = JSON.parse(r.text) as { deployments: { name: string }[] };
      assert.deepEqual(body.deployments.map((x) => x.name).sort(), ['m', 'slow']);
    }
    async function chat(w: Wire): Promise<void> {
      w.write(postChat('m'));
      assertCompletion(await w.readResponse(), 'm');
    }

    it('mixes POST /v1 and GET requests on one connection, POST first', () =>
      withWire(async (w) => {
        await chat(w);
        await getModels(w);
        await chat(w);
        await getDeployments(w);
        await chat(w);
        await w.stillOpen();
      }));

    it('mixes GET and POST /v1 requests on one connection, GET first', () =>
      withWire(async (w) => {
        await getDeployments(w);
        await chat(w);
        await getModels(w);
        await chat(w);
        await w.stillOpen();
      }));

    it('streams a chat completion chunked on a kept-alive connection, then serves the next request', () =>
      withWire(async (w) => {
        w.write(postChat('m', { extra: { stream: true } }));
        const r = await w.readResponse();
        assert.equal(r.status, 200);
        assert.equal(r.headers['transfer-encoding'], 'chunked');
        assert.equal(r.headers['content-type'], 'text/event-stream; charset=utf-8');
        assert.equal(r.headers['content-length'], undefined);
        assert.equal(r.headers.connection, 'keep-alive');
        assert.equal(r.headers['x-berth-served-by'], 'm');
        assert.equal(r.chunked, true);
        const events = sseEvents(r.text) as { object: string; choices: unknown[] }[];
        assert.ok(events.length >= 2);
        assert.ok(events.every((e) => e.object === 'chat.completion.chunk' && e.choices.length > 0), 'no injected usage chunk reaches the client');
        await chat(w);
        await w.stillOpen();
      }));
  });

  describe('request framing', () => {
    it('reads a body split across several writes', () =>
      withWire(async (w) => {
        const bytes = postChat('m');
        const headEnd = bytes.indexOf(HEAD_END) + 4;
        w.write(bytes.subarray(0, headEnd));
        const body = bytes.subarray(headEnd);
        const third = Math.ceil(body.length / 3);
        for (let i = 0; i < 3; i++) {
          await sleep(20);
          w.write(body.subarray(i * third, (i + 1) * third));
        }
        assertCompletion(await w.readResponse(), 'm');
        // And again with the head itself split, mid-line and inside the blank line.
        const cuts = [5, 30, headEnd - 3, headEnd - 1, headEnd + 4];
        let at = 0;
        for (const cut of cuts) {
          w.write(bytes.subarray(at, cut));
          at = cut;
          await sleep(10);
        }
        w.write(bytes.subarray(at));
        assertCompletion(await w.readResponse(), 'm');
        await w.stillOpen();
      }));

    it('reads a chunked request body, then serves the next request on the connection', () =>
      withWire(async (w) => {
        const body = Buffer.from(chatBody('m'));
        const half = Math.floor(body.length / 2);
        const a = body.subarray(0, half);
        const b = body.subarray(half);
        w.write(
          Buffer.concat([
            request('POST', '/v1/chat/completions', { headers: [JSON_CT, ['Transfer-Encoding', 'chunked']] }),
            Buffer.from(`${a.length.toString(16)}\r\n`),
            a,
            Buffer.from(`\r\n${b.length.toString(16)};ext=1\r\n`),
            b,
            Buffer.from('\r\n0\r\n\r\n'),
          ]),
        );
        assertCompletion(await w.readResponse(), 'm');
        w.write(postChat('m'));
        assertCompletion(await w.readResponse(), 'm');
        await w.stillOpen();
      }));

    it('answers Expect: 100-continue with 100 Continue before the body is sent', () =>
      withWire(async (w) => {
        const bytes = postChat('m', { headers: [['Expect', '100-continue']] });
        const headEnd = bytes.indexOf(HEAD_END) + 4;
        w.write(bytes.subarray(0, headEnd));
        const interim = await w.readHead();
        assert.equal(interim.statusLine, 'HTTP/1.1 100 Continue');
        assert.deepEqual(interim.rawHeaders, []);
        assert.equal(w.unread, '', 'nothing but the 100 before the body');
        w.write(bytes.subarray(headEnd));
        assertCompletion(await w.readResponse(), 'm');
        // The connection goes on normally afterwards.
        w.write(postChat('m'));
        assertCompletion(await w.readResponse(), 'm');
        await w.stillOpen();
      }));

    it('accepts header names in any case and a query string on the path', () =>
      withWire(async (w) => {
        const body = chatBody('m');
        w.write(
          Buffer.from(
            `POST /v1/chat/completions?trace=1 HTTP/1.1\r\nhost: 127.0.0.1\r\nCONTENT-TYPE: application/json\r\ncontent-LENGTH: ${body.length}\r\n\r\n${body}`,
          ),
        );
        assertCompletion(await w.readResponse(), 'm');
        await w.stillOpen();
      }));

    it('HTTP/1.0: answers with content-length, says HTTP/1.1, and closes the connection', () =>
      withWire(async (w) => {
        w.write(postChat('m', { version: '1.0' }));
        const r = await w.readResponse();
        // Node answers an HTTP/1.0 request with an HTTP/1.1 status line.
        assert.equal(r.statusLine, 'HTTP/1.1 200 OK');
        assertCompletion(r, 'm');
        assert.equal(Number(r.headers['content-length']), r.body.length);
        assert.equal(r.headers.connection, 'close');
        await w.closed();
      }));

    it('HTTP/1.0 with Connection: keep-alive: the connection is kept for the next request', () =>
      withWire(async (w) => {
        w.write(postChat('m', { version: '1.0', headers: [['Connection', 'keep-alive']] }));
        const r = await w.readResponse();
        assertCompletion(r, 'm');
        assert.equal(r.headers.connection, 'keep-alive');
        await w.stillOpen();
        w.write(postChat('m'));
        assertCompletion(await w.readResponse(), 'm');
        await w.stillOpen();
      }));

    it('HTTP/1.0 stream: not chunked, the body ends with the connection', () =>
      withWire(async (w) => {
        w.write(postChat('m', { version: '1.0', extra: { stream: true } }));
        const r = await w.readResponse();
        assert.equal(r.status, 200);
        assert.equal(r.headers.connection, 'close');
        assert.equal(r.headers['transfer-encoding'], undefined);
        assert.equal(r.headers['content-length'], undefined);
        assert.equal(r.chunked, false);
        assert.ok(sseEvents(r.text).length >= 2);
        assert.equal(w.ended, true);
      }));

    it('Connection: close on HTTP/1.1: answers, then closes', () =>
      withWire(async (w) => {
        w.write(postChat('m', { headers: [['Connection', 'close']] }));
        const r = await w.readResponse();
        assertCompletion(r, 'm');
        assert.equal(r.headers.connection, 'close');
        await w.closed();
      }));

    it('a POST without a body (no Content-Length) is a 400 missing_body, and the connection goes on', () =>
      withWire(async (w) => {
        w.write(request('POST', '/v1/chat/completions', { headers: [JSON_CT] }));
        assertOpenAiError(await w.readResponse(), 400, 'missing_body');
        w.write(postChat('m'));
        assertCompletion(await w.readResponse(), 'm');
      }));
  });

  describe('malformed requests', () => {
    const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';

    /** Node's parser refusing the bytes: a bare 400 (no body), then the connection closes. */
    async function refused(w: Wire, expected = BAD_REQUEST): Promise<void> {
      await w.closed();
      assert.equal(w.unread, expected);
    }

    it('a malformed request line gets a bare 400 and the connection closes', () =>
      withWire(async (w) => {
        w.write('GARBAGE\r\n\r\n');
        await refused(w);
      }));

    it('garbage after a served POST gets the 400 after the POST\'s answer', () =>
      withWire(async (w) => {
        w.write(postChat('m'));
        assertCompletion(await w.readResponse(), 'm');
        w.write('GARBAGE\r\n\r\n');
        await refused(w);
      }));

    it('bare LF line endings are refused', () =>
      withWire(async (w) => {
        w.write(postChat('m').toString('latin1').replace(/\r\n/g, '\n'));
        await refused(w);
      }));

    it('Content-Length together with Transfer-Encoding is refused', () =>
      withWire(async (w) => {
        w.write(
          request('POST', '/v1/chat/completions', {
            headers: [JSON_CT, ['Content-Length', '5'], ['Transfer-Encoding', 'chunked']],
            body: '0\r\n\r\n',
            noLength: true,
          }),
        );
        await refused(w);
      }));

    it('two different Content-Lengths are refused', () =>
      withWire(async (w) => {
        w.write(request('POST', '/v1/chat/completions', { headers: [JSON_CT, ['Content-Length', '5'], ['Content-Length', '6']], body: '{}{}{}', noLength: true }));
        await refused(w);
      }));

    it('an HTTP/1.1 request without Host gets Node\'s 400 (an empty chunked body), then the connection closes', () =>
      withWire(async (w) => {
        w.write(postChat('m', { host: null }));
        const r = await w.readResponse();
        // Not the bare parser 400: Node's http server writes this one as a response with a chunked empty body.
        assert.equal(r.statusLine, 'HTTP/1.1 400 Bad Request');
        assert.equal(r.headers.connection, 'close');
        assert.equal(r.chunked, true);
        assert.equal(r.body.length, 0);
        assert.ok(r.headers.date);
        await w.closed();
      }));

    it('headers over 16 KiB get 431 and the connection closes', () =>
      withWire(async (w) => {
        w.write(postChat('m', { headers: [['X-Big', 'a'.repeat(20_000)]] }));
        await refused(w, 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
      }));

    // Cases a fuzzer found (issue 14): each went through to a 500, a dropped
    // query, a 65 s silent wait or a forwarded request where Node says 400.
    const chat = (target: string) => postChat('m').toString('latin1').replace('/v1/chat/completions', target);
    for (const [what, bytes] of [
      ['a byte 0xff ending the path', chat('/v1/chat/completions\xff')],
      ['a tab in the path', chat('/v1/chat\t/completions')],
      ['a byte 0x80 in the query', chat('/v1/chat/completions?q=\x80')],
      ['a tab in the query', chat('/v1/chat/completions?q=\t')],
      ['a repeated equal Content-Length', request('POST', '/v1/chat/completions', { headers: [JSON_CT, ['Content-Length', '2'], ['Content-Length', '2']], body: '{}', noLength: true }).toString('latin1')],
      ['a Content-Length list of equal values', request('POST', '/v1/chat/completions', { headers: [JSON_CT, ['Content-Length', '2, 2']], body: '{}', noLength: true }).toString('latin1')],
      ['a tab inside the Content-Length value', request('POST', '/v1/chat/completions', { headers: [JSON_CT, ['Content-Length', '2\t']], body: '{}', noLength: true }).toString('latin1')],
    ] as const) {
      it(`${what} gets Node's bare 400, never a 500, and the next connection is served`, async () => {
        await withWire(async (w) => {
          w.write(Buffer.from(bytes, 'latin1'));
          await refused(w);
        });
        await withWire(async (w) => {
          w.write(postChat('m'));
          assertCompletion(await w.readResponse(), 'm');
        });
      });
    }

    // No CRLF CRLF ever comes: the 400 must not wait for one (w.closed() allows 2 s, the old wait was 65 s).
    for (const [what, bytes] of [
      ['bare CR line endings', 'POST /v1/chat/completions HTTP/1.1\rHost: 127.0.0.1\rContent-Length: 2\r\r{}'],
      ['\\r\\r\\n after the request line', 'POST /v1/chat/completions HTTP/1.1\r\r\nHost: 127.0.0.1\r\n'],
      ['a stray control byte in a field', 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\x01\r\n'],
      ['a line without a colon', 'POST /v1/chat/completions HTTP/1.1\r\nHost 127.0.0.1\r\n'],
    ] as const) {
      it(`a head with ${what}, never ended, gets the 400 at once`, () =>
        withWire(async (w) => {
          w.write(Buffer.from(bytes, 'latin1'));
          await refused(w);
        }));
    }

    it('two Host fields get a 400 in OpenAI\'s shape, not a forwarded request', () =>
      withWire(async (w) => {
        w.write(postChat('m', { headers: [['Host', 'evil.example']] }));
        const e = assertOpenAiError(await w.readResponse(), 400, 'invalid_request');
        assert.equal(e.param, 'host');
      }));

    it('two Host fields on the management API get a 400 too', () =>
      withWire(async (w) => {
        w.write(request('GET', '/api/v1/deployments', { headers: [['Host', '127.0.0.1']] }));
        const r = await w.readResponse();
        assert.equal(r.status, 400, r.text);
        assert.match(r.text, /Host/);
      }));
  });

  describe('answers the fast path writes itself', () => {
    it('error envelopes in OpenAI\'s shape, all on one kept-alive connection', () =>
      withWire(async (w) => {
        w.write(postChat('nope'));
        const unknown = assertOpenAiError(await w.readResponse(), 404, 'model_not_found');
        assert.equal(unknown.param, 'model');
        assert.equal(unknown.message, 'The model `nope` does not exist. Available models: m, slow');

        w.write(request('POST', '/v1/chat/completions', { headers: [JSON_CT], body: '{not json' }));
        assert.equal(assertOpenAiError(await w.readResponse(), 400, 'invalid_json').param, null);

        w.write(request('POST', '/v1/chat/completions', { headers: [JSON_CT], body: '{"messages":[]}' }));
        assert.equal(assertOpenAiError(await w.readResponse(), 400, 'missing_model').param, 'model');

        w.write(request('POST', '/v1/chat/completions', { headers: [JSON_CT], body: '[1]' }));
        assertOpenAiError(await w.readResponse(), 400, 'invalid_type');

        // DNS-rebinding guard: refused before the body is read, yet the connection stays usable.
        w.write(postChat('m', { host: 'evil.example' }));
        const evil = await w.readResponse();
        const e = assertOpenAiError(evil, 403, 'forbidden_host');
        assert.equal(evil.statusLine, 'HTTP/1.1 403 Forbidden');
        assert.match(e.message, /Host "evil\.example" is not allowed/);
        assert.equal(evil.headers.connection, 'keep-alive');

        w.write(postChat('m', { host: `localhost:${new URL(d.url).port}` }));
        assertCompletion(await w.readResponse(), 'm');
        await w.stillOpen();
      }));

    it('error answers carry content-type, content-length, date and keep-alive', () =>
      withWire(async (w) => {
        w.write(postChat('nope'));
        const r = await w.readResponse();
        assert.equal(r.statusLine, 'HTTP/1.1 404 Not Found');
        assert.deepEqual(headerNames(r), ['connection', 'content-length', 'content-type', 'date', 'keep-alive']);
        assert.equal(r.headers['keep-alive'], 'timeout=65');
        assert.equal(r.headers['transfer-encoding'], undefined);
      }));

    it('routes under /v1 the gateway does not know: POST is proxied to the engine, other methods get Berth\'s 404', () =>
      withWire(async (w) => {
        // Any POST /v1/* with a known model goes to the engine, which answers for itself.
        w.write(request('POST', '/v1/nothing', { headers: [JSON_CT], body: chatBody('m') }));
        const proxied = await w.readResponse();
        assert.equal(proxied.status, 404);
        assert.equal(proxied.headers['x-berth-served-by'], 'm');
        assert.deepEqual(JSON.parse(proxied.text), { detail: 'Not Found' });

        w.write(request('POST', '/v1/models', { headers: [JSON_CT], body: chatBody('m') }));
        const models = await w.readResponse();
        assert.equal(models.status, 405, 'the engine\'s answer to POST /v1/models');
        assert.equal(models.headers['x-berth-served-by'], 'm');

        w.write(request('PUT', '/v1/chat/completions', { headers: [JSON_CT], body: chatBody('m') }));
        const put = await w.readResponse();
        assert.equal(put.status, 404);
        assert.equal((JSON.parse(put.text) as OpenAiError).error.code, 'route_not_found');

        // POST /v1 with no trailing slash is not the fast path's.
        w.write(request('POST', '/v1', { headers: [JSON_CT], body: chatBody('m') }));
        const bare = await w.readResponse();
        assert.equal(bare.status, 404);
        assert.equal((JSON.parse(bare.text) as OpenAiError).error.message, 'no route POST /v1/');
        await w.stillOpen();
      }));

    it('a proxied JSON answer: the engine\'s headers, content-length, one date, Berth\'s headers', () =>
      withWire(async (w) => {
        w.write(postChat('m'));
        const r = await w.readResponse();
        assertCompletion(r, 'm');
        assert.equal(r.statusLine, 'HTTP/1.1 200 OK');
        assert.equal(Number(r.headers['content-length']), r.body.length);
        assert.equal(r.headers['transfer-encoding'], undefined);
        assert.equal(r.headers['x-berth-served-by'], 'm');
        assert.equal(r.headers['x-berth-replica'], 'm-0');
        assert.ok(!Number.isNaN(Date.parse(r.headers.date!)), 'a date header');
        // The engine's own headers pass through (its date, and uvicorn's server header too); only the connection headers are the daemon's.
        assert.deepEqual(headerNames(r), ['connection', 'content-length', 'content-type', 'date', 'keep-alive', 'server', 'x-berth-replica', 'x-berth-served-by']);
        assert.equal(r.headers.server, 'uvicorn');
        assert.equal(r.headers.connection, 'keep-alive');
        assert.equal(r.headers['keep-alive'], 'timeout=65');
      }));
  });

  describe('clients that leave', () => {
    async function slowState(): Promise<{ aborted: number; inFlight: number; completedTokens: number }> {
      const port = (await d.api<DeploymentStatus>('GET', '/api/v1/deployments/slow')).body.replicas[0]!.port!;
      return (await (await fetch(`http://127.0.0.1:${port}/fake/state`)).json()) as { aborted: number; inFlight: number; completedTokens: number };
    }
    const inFlightSeries = (text: string) => /^berth_requests_in_flight\{model="slow"\} (\d+)$/m.exec(text)?.[1];
    const abortedSeries = (text: string) => Number(/^berth_requests_total\{model="slow",status="499"\} (\d+)$/m.exec(text)?.[1] ?? 0);

    it('a client that disconnects mid-stream ends the request upstream and in the metrics', async () => {
      const before = await waitFor(async () => {
        const s = await slowState();
        return s.inFlight === 0 ? s : null;
      }, 'slow idle');
      const aborted499 = abortedSeries(await metricsText(d));
      const w = await Wire.open(d);
      try {
        w.write(postChat('slow', { extra: { stream: true } }));
        const head = await w.readHead();
        assert.equal(head.status, 200);
        assert.equal(head.headers['transfer-encoding'], 'chunked');
        const first = await w.readChunk();
        assert.match(first!.toString(), /^data: \{/);
        assert.equal(inFlightSeries(await metricsText(d)), '1', 'in flight while streaming');
      } finally {
        w.destroy();
      }
      const state = await waitFor(async () => {
        const s = await slowState();
        return s.aborted === before.aborted + 1 && s.inFlight === 0 ? s : null;
      }, 'the engine to see the abort');
      assert.equal(state.completedTokens, before.completedTokens, 'the aborted answer was not delivered in full');
      const text = await waitFor(async () => {
        const t = await metricsText(d);
        return inFlightSeries(t) === '0' ? t : null;
      }, 'no request in flight');
      // The request is counted as 499 (client closed).
      assert.equal(abortedSeries(text), aborted499 + 1);
    });

    it('a client that stops reading holds the stream back, then gets all of it, intact and in order', async () => {
      // A stream of several MB, more than the socket buffers between the
      // daemon and a client that does not read: the gateway must stop reading
      // the engine while the client is away, and resume when it is back.
      const created = await d.api('POST', '/api/v1/deployments', { name: 'big', modelId: 'x/big', backend: 'vllm', env: { FAKE_TOKENS: '30000' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      try {
        await ready(d, 'big');
        const w = await Wire.open(d);
        try {
          w.socket.pause();
          w.write(postChat('big', { extra: { stream: true, max_tokens: 30000 } }));
          await sleep(500);
          w.socket.resume();
          const r = await w.readResponse();
          assert.equal(r.status, 200);
          assert.equal(r.chunked, true);
          const events = r.text.split('\n\n').filter(Boolean);
          assert.equal(events.at(-1), 'data: [DONE]');
          const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)) as { choices: { delta: { content?: string }; finish_reason: string | null }[] });
          // One role chunk, then a chunk per token (the EOS one included), the last one finishing.
          assert.ok(chunks.length >= 30_000, `only ${chunks.length} chunks arrived`);
          assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'stop');
        } finally {
          w.destroy();
        }
      } finally {
        await d.api('DELETE', '/api/v1/deployments/big');
      }
    });

    it('a client that leaves mid-body does not disturb the daemon', async () => {
      const w = await Wire.open(d);
      const bytes = postChat('m');
      w.write(bytes.subarray(0, bytes.length - 10));
      await sleep(20);
      w.destroy();
      await withWire(async (w2) => {
        w2.write(postChat('m'));
        assertCompletion(await w2.readResponse(), 'm');
      });
      // The half-sent request never reached the handler, or left it: nothing stays in flight.
      await waitFor(async () => /^berth_requests_in_flight\{model="m"\} 0$/m.test(await metricsText(d)), 'no request in flight for m');
    });
  });
});

describe('gateway on the wire: body limit and API key', () => {
  const KEY = 'sk-wire';
  const AUTH: [string, string] = ['Authorization', `Bearer ${KEY}`];
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8', settings: { maxBodyBytes: 1024, apiKey: KEY } });
    assert.equal((await d.api('POST', '/api/v1/deployments', { name: 'm', modelId: 'x/m', backend: 'vllm' }, { authorization: `Bearer ${KEY}` })).status, 201);
    await waitFor(async () => {
      const { body } = await d.api<DeploymentStatus>('GET', '/api/v1/deployments/m', undefined, { authorization: `Bearer ${KEY}` });
      return body.replicas?.some((r) => r.state === 'ready');
    }, 'm ready');
  });
  after(() => d.stop());

  const big = JSON.stringify({ model: 'm', prompt: 'x'.repeat(4096) });

  it('a body over maxBodyBytes (Content-Length) gets 413, and the connection stays usable', async () => {
    const w = await Wire.open(d);
    try {
      w.write(request('POST', '/v1/completions', { headers: [AUTH, JSON_CT], body: big }));
      const r = await w.readResponse();
      const e = assertOpenAiError(r, 413, 'body_too_large');
      assert.equal(r.statusLine, 'HTTP/1.1 413 Payload Too Large');
      assert.equal(e.message, 'request body is larger than 1024 bytes');
      // The refused body is drained, not taken for the next request.
      assert.equal(r.headers.connection, 'keep-alive');
      w.write(postChat('m', { headers: [AUTH] }));
      assertCompletion(await w.readResponse(), 'm');
      await w.stillOpen();
    } finally {
      w.destroy();
    }
  });

  it('a chunked body over maxBodyBytes gets 413, and the connection stays usable', async () => {
    const w = await Wire.open(d);
    try {
      const body = Buffer.from(big);
      w.write(
        Buffer.concat([
          request('POST', '/v1/completions', { headers: [AUTH, JSON_CT, ['Transfer-Encoding', 'chunked']] }),
          Buffer.from(`${body.length.toString(16)}\r\n`),
          body,
          Buffer.from('\r\n0\r\n\r\n'),
        ]),
      );
      assertOpenAiError(await w.readResponse(), 413, 'body_too_large');
      w.write(postChat('m', { headers: [AUTH] }));
      assertCompletion(await w.readResponse(), 'm');
      await w.stillOpen();
    } finally {
      w.destroy();
    }
  });

  it('no or a wrong API key gets 401 in OpenAI\'s shape; the connection stays usable', async () => {
    const w = await Wire.open(d);
    try {
      w.write(postChat('m'));
      const none = await w.readResponse();
      assertOpenAiError(none, 401, 'invalid_api_key');
      assert.equal(none.statusLine, 'HTTP/1.1 401 Unauthorized');
      // Refused before the body is read, even a body over the limit: still a 401, and it is drained.
      w.write(request('POST', '/v1/completions', { headers: [['Authorization', 'Bearer wrong'], JSON_CT], body: big }));
      assertOpenAiError(await w.readResponse(), 401, 'invalid_api_key');
      // The Host check comes before the key check.
      w.write(postChat('m', { host: 'evil.example' }));
      assertOpenAiError(await w.readResponse(), 403, 'forbidden_host');
      // GET /v1/models is express's, with the same envelope.
      w.write(request('GET', '/v1/models'));
      const models = await w.readResponse();
      assert.equal(models.status, 401);
      assert.equal((JSON.parse(models.text) as OpenAiError).error.code, 'invalid_api_key');
      w.write(postChat('m', { headers: [AUTH] }));
      assertCompletion(await w.readResponse(), 'm');
      w.write(request('GET', '/v1/models', { headers: [AUTH] }));
      assert.equal((await w.readResponse()).status, 200);
      await w.stillOpen();
    } finally {
      w.destroy();
    }
  });
});
