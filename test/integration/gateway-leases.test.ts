// No client can wedge the gateway: whatever it sends and however it leaves,
// every lease ends (the deployment can idle and stop), its own mistakes are
// 4xx naming what is wrong, never 5xx, and /metrics counts the status it got.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import { parsePrometheusText } from '../../daemon/engines/metrics-scrape.js';
import { deploymentWhen, startTestDaemon, type TestDaemon, waitFor } from '../helpers/daemon.js';

interface LogLine {
  level: number;
  msg: string;
}
const PINO_ERROR = 50;

function chatBody(model: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });
}

function chat(d: TestDaemon, model: string, extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${d.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody(model, extra) });
}

/** The exact bytes of a POST; `target` goes on the request line as is (latin1). */
function rawPost(target: string, body: string, o: { chunked?: boolean; expectContinue?: boolean } = {}): { head: Buffer; body: Buffer } {
  const lines = [`POST ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json'];
  lines.push(o.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${Buffer.byteLength(body)}`);
  if (o.expectContinue) lines.push('Expect: 100-continue');
  const b = Buffer.from(body);
  return {
    head: Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'),
    body: o.chunked ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n0\r\n\r\n')]) : b,
  };
}

/** A raw connection that collects what the daemon sends until told to stop. */
class Conn {
  private buf = Buffer.alloc(0);
  private readonly waiters = new Set<() => void>();
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.wake();
    });
    const end = () => {
      this.closed = true;
      this.wake();
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  static open(d: TestDaemon): Promise<Conn> {
    const { hostname, port } = new URL(d.url);
    return new Promise((resolve, reject) => {
      const s = connect({ host: hostname, port: Number(port) });
      s.once('connect', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves once `pred` holds on what has arrived, or rejects when the connection closes first. */
  until(what: string, pred: (text: string) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const text = this.buf.toString('latin1');
        if (pred(text)) {
          this.waiters.delete(check);
          resolve(text);
        } else if (this.closed) {
          this.waiters.delete(check);
          reject(new Error(`connection closed before ${what}; got ${JSON.stringify(text.slice(0, 300))}`));
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The one response on this connection: status and body (a response with Content-Length, or one ended by close). */
  async response(): Promise<{ status: number; body: string }> {
    const complete = (t: string) => {
      const end = t.indexOf('\r\n\r\n');
      if (end === -1) return this.closed;
      const length = /\r\ncontent-length: *(\d+)/i.exec(t.slice(0, end));
      return length ? t.length - end - 4 >= Number(length[1]) : this.closed;
    };
    const text = await this.until('a whole response', (t) => complete(t) || (this.closed && t.length > 0));
    const end = text.indexOf('\r\n\r\n');
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), body: end === -1 ? '' : text.slice(end + 4) };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** One sample's value from /metrics, or 0 when the series does not exist. */
async function scrape(d: TestDaemon): Promise<(name: string, labels: Record<string, string>) => number> {
  const samples = parsePrometheusText(await (await fetch(`${d.url}/metrics`)).text());
  return (name, labels) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? 0;
}

/** Every berth_requests_total series, "model status" -> count. */
async function requestCounts(d: TestDaemon): Promise<Map<string, number>> {
  const samples = parsePrometheusText(await (await fetch(`${d.url}/metrics`)).text());
  return new Map(samples.filter((s) => s.name === 'berth_requests_total').map((s) => [`${s.labels.model} ${s.labels.status}`, s.value]));
}

function gained(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0)) out[k] = v - (before.get(k) ?? 0);
  return out;
}

async function engineState(d: TestDaemon, name: string): Promise<{ aborted: number; inFlight: number }> {
  const port = (await d.api<DeploymentStatus>('GET', `/api/v1/deployments/${name}`)).body.replicas.find((r) => r.state === 'ready')!.port!;
  return (await (await fetch(`http://127.0.0.1:${port}/fake/state`)).json()) as { aborted: number; inFlight: number };
}

describe('no client can wedge the gateway', () => {
  let d: TestDaemon;
  const logged: LogLine[] = [];
  const errorsLogged = () => logged.filter((l) => l.level >= PINO_ERROR).map((l) => l.msg);

  before(async () => {
    const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line) as LogLine) });
    // A drain of two minutes: a lease left behind would hold a stop that long.
    d = await startTestDaemon({ machine: 'h100x8', log, settings: { drainMs: 120_000, maxQueue: 2 } });
    const specs = [
      { name: 'plain', modelId: 'x/p', backend: 'vllm' },
      // One request at a time, and streams that last until their client leaves (unless max_tokens says less).
      { name: 'one', modelId: 'x/o', backend: 'vllm', scale: { min: 1, max: 1, inFlightValue: 1 }, env: { FAKE_TOKENS: '100000', FAKE_TOKEN_DELAY_MS: '20' } },
      // Asleep until the first request, then a start slow enough to watch requests wait.
      { name: 'lazy', modelId: 'x/l', backend: 'vllm', scale: { min: 0, idleTime: 600 }, env: { FAKE_START_DELAY_MS: '3000' } },
    ];
    for (const spec of specs) {
      const created = await d.api('POST', '/api/v1/deployments', spec);
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    await Promise.all(['plain', 'one'].map((n) => deploymentWhen(d, n)));
  });
  after(() => d.stop());

  it('a tab or a byte 0x80-0xff in the target is a 400, never counted as served, and the deployment still stops at once', async () => {
    const countsBefore = await requestCounts(d);
    for (const [target, named] of [
      ['/v1/chat/completions\xff', /byte 0xff/],
      ['/v1/chat/comp\tletions', /a tab/],
      ['/v1/chat/\x80completions', /byte 0x80/],
    ] as const) {
      // Content-Length and chunked uploads reach the gateway through different parsers.
      for (const chunked of [false, true]) {
        const c = await Conn.open(d);
        try {
          const req = rawPost(target, chatBody('plain'), { chunked });
          c.socket.write(Buffer.concat([req.head, req.body]));
          const r = await c.response();
          assert.equal(r.status, 400, `${JSON.stringify(target)} chunked=${chunked}: ${r.body}`);
          // A parser in front may refuse the target before the gateway sees it (a bare 400);
          // when the gateway answers, it says why in OpenAI's envelope.
          if (r.body) {
            const e = (JSON.parse(r.body) as { error: { type: string; code: string; message: string } }).error;
            assert.equal(e.type, 'invalid_request_error');
            assert.equal(e.code, 'invalid_path');
            assert.match(e.message, named);
          }
        } finally {
          c.destroy();
        }
      }
    }
    await waitFor(async () => (await d.api<DeploymentStatus>('GET', '/api/v1/deployments/plain')).body.replicas.every((r) => r.inFlight === 0), 'plain with nothing in flight');
    const counted = gained(countsBefore, await requestCounts(d));
    for (const [series, n] of Object.entries(counted)) assert.match(series, / 400$/, `counted as ${series} (${n})`);
    assert.deepEqual(errorsLogged(), []);

    assert.equal((await chat(d, 'plain')).status, 200, 'the deployment still serves');
    const stopped = await d.api<DeploymentStatus>('POST', '/api/v1/deployments/plain/stop');
    assert.equal(stopped.status, 200);
    assert.deepEqual(stopped.body.replicas.map((r) => r.state), ['stopped']);
  });

  it('a full queue answers 429 and counts 429; berth_requests_queued counts who waits; a client leaving mid-stream is a 499 and ends the engine request', async () => {
    const countsBefore = await requestCounts(d);
    const abortedBefore = (await engineState(d, 'one')).aborted;
    // Holds the only slot: a stream with no end of its own.
    const holder = await Conn.open(d);
    const req = rawPost('/v1/chat/completions', chatBody('one', { stream: true }));
    holder.socket.write(Buffer.concat([req.head, req.body]));
    await holder.until('the stream to start', (t) => t.includes('\r\n\r\n') && t.includes('data: '));

    const waiting = [chat(d, 'one', { max_tokens: 2 }), chat(d, 'one', { max_tokens: 2 })];
    await waitFor(async () => (await scrape(d))('berth_requests_queued', { model: 'one' }) === 2, 'two requests queued');
    for (let i = 0; i < 3; i++) {
      const r = await chat(d, 'one');
      assert.equal(r.status, 429);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'queue_full');
    }
    holder.destroy();
    const answered = await Promise.all(waiting);
    assert.deepEqual(answered.map((r) => r.status), [200, 200]);
    await Promise.all(answered.map((r) => r.text()));

    const settled = await waitFor(async () => {
      const m = await scrape(d);
      return m('berth_requests_queued', { model: 'one' }) === 0 && m('berth_requests_in_flight', { model: 'one' }) === 0 ? m : null;
    }, 'nothing queued or in flight for one');
    assert.ok(settled);
    assert.deepEqual(gained(countsBefore, await requestCounts(d)), { 'one 200': 2, 'one 429': 3, 'one 499': 1 });
    await waitFor(async () => {
      const s = await engineState(d, 'one');
      return s.aborted === abortedBefore + 1 && s.inFlight === 0;
    }, 'the engine to see the stream aborted');
    assert.deepEqual(errorsLogged(), []);
  });

  it('requests waiting out a cold start are counted as queued; one that leaves mid-wait is a 499 that holds nothing', async () => {
    const countsBefore = await requestCounts(d);
    const leaver = await Conn.open(d);
    const req = rawPost('/v1/chat/completions', chatBody('lazy'));
    leaver.socket.write(Buffer.concat([req.head, req.body]));
    const stayers = [chat(d, 'lazy'), chat(d, 'lazy'), chat(d, 'lazy')];
    await waitFor(async () => (await scrape(d))('berth_requests_queued', { model: 'lazy' }) === 4, 'four requests waiting for the start');
    leaver.destroy();
    await waitFor(async () => (await scrape(d))('berth_requests_queued', { model: 'lazy' }) === 3, 'the leaver out of the wait');
    const answered = await Promise.all(stayers);
    assert.deepEqual(answered.map((r) => r.status), [200, 200, 200]);
    await Promise.all(answered.map((r) => r.text()));
    const m = await scrape(d);
    assert.equal(m('berth_requests_queued', { model: 'lazy' }), 0);
    assert.deepEqual(gained(countsBefore, await requestCounts(d)), { 'lazy 200': 3, 'lazy 499': 1 });
    assert.deepEqual(errorsLogged(), []);
  });

  it('a client that leaves mid-body is a 499, logged as the client closing, not as a failed gateway request', async () => {
    const countsBefore = await requestCounts(d);
    const c = await Conn.open(d);
    // 100-continue: the daemon says when it has the head, so we leave mid-body and not before.
    const req = rawPost('/v1/chat/completions', chatBody('one'), { chunked: true, expectContinue: true });
    c.socket.write(req.head);
    await c.until('100 Continue', (t) => t.startsWith('HTTP/1.1 100'));
    c.socket.write(req.body.subarray(0, 20));
    c.destroy();
    const counted = await waitFor(async () => {
      const g = gained(countsBefore, await requestCounts(d));
      return Object.keys(g).length ? g : null;
    }, 'the request counted');
    assert.deepEqual(counted, { 'unknown 499': 1 });
    assert.deepEqual(errorsLogged(), []);
    assert.ok(logged.some((l) => l.level < PINO_ERROR && /client closed/.test(l.msg)), 'logged as the client closing');
  });
});
