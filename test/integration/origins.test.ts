// Browsers and the daemon: a page the user merely visits must not drive the
// GPUs, a page the user allowed can (CORS), and clients that send no Origin
// (curl, SDKs, the CLI) never notice any of it.
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { BerthEvent, DeploymentStatus } from '../../daemon/contract/api.js';
import { deploymentWhen, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Resolves when the server closes the connection. */
  closed: Promise<void>;
}

/**
 * Sends a request head and, unless `body` is given, no body at all: the
 * answer can only come if the server decided on the head alone. node:http
 * rather than fetch, which neither sends a head without its body nor lets a
 * test set Host. A body given goes with a Content-Length, which takes the
 * gateway's wire door; `transfer-encoding: chunked` takes Node's door.
 */
function send(d: TestDaemon, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const { hostname, port } = new URL(d.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port: Number(port), method, path, headers, agent: false }, (res) => {
      let text = '';
      const closed = new Promise<void>((r) => res.socket.once('close', () => r()));
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, closed }));
    });
    req.on('error', reject);
    if (body === undefined) req.flushHeaders();
    else req.end(body);
  });
}

const chatBody = (model: string, extra: Record<string, unknown> = {}) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('browser origins', () => {
  let d: TestDaemon;
  const events: BerthEvent[] = [];
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8', settings: { allowedOrigins: ['https://*.trusted.example'] } });
    d.events.subscribe((e) => events.push(e));
    for (const spec of [
      { name: 'lazy', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', scale: { min: 0 } },
      { name: 'chat', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', env: { FAKE_TOKENS: '4' } },
    ]) {
      assert.equal((await d.api('POST', '/api/v1/deployments', spec)).status, 201);
    }
    await deploymentWhen(d, 'chat');
  });
  after(() => d.stop());

  const assertAsleep = async () => {
    const s = (await d.api<DeploymentStatus>('GET', '/api/v1/deployments/lazy')).body;
    assert.equal(s.sleeping, true);
    assert.equal(s.replicas.length, 0);
    assert.ok(!events.some((e) => e.type === 'deployment.wake' || (e.type === 'replica.state' && e.state === 'starting' && e.replica.startsWith('lazy'))), 'lazy never woke');
  };

  it('refuses a foreign page\'s text/plain POST (no preflight) with a 403, and starts nothing', async () => {
    const body = chatBody('lazy');
    for (const framing of [{}, { 'transfer-encoding': 'chunked' }] as Record<string, string>[]) {
      const res = await send(d, 'POST', '/v1/chat/completions', { 'content-type': 'text/plain', origin: 'https://evil.example', ...framing }, body);
      assert.equal(res.status, 403, JSON.stringify(framing));
      assert.deepEqual(JSON.parse(res.body), {
        error: {
          message: 'Origin "https://evil.example" is not allowed; add it to allowedOrigins in settings.json or BERTH_ORIGINS',
          type: 'invalid_request_error',
          param: null,
          code: 'forbidden_origin',
        },
      });
      assert.equal(res.headers['access-control-allow-origin'], undefined);
    }
    await assertAsleep();
  });

  it('refuses Origin: null (a sandboxed iframe, a file:// page) unless listed', async () => {
    const res = await send(d, 'POST', '/v1/chat/completions', { 'content-type': 'text/plain', origin: 'null' }, chatBody('lazy'));
    assert.equal(res.status, 403);
    await assertAsleep();
  });

  it('refuses a foreign page on /api, /v1 and /metrics in each route\'s own envelope', async () => {
    const api = await send(d, 'POST', '/api/v1/deployments/lazy/start', { origin: 'https://evil.example' }, '');
    assert.equal(api.status, 403);
    assert.deepEqual(JSON.parse(api.body), {
      error: { code: 'forbidden_origin', message: 'Origin "https://evil.example" is not allowed; add it to allowedOrigins in settings.json or BERTH_ORIGINS' },
    });
    const models = await send(d, 'GET', '/v1/models', { origin: 'https://evil.example' }, '');
    assert.equal(models.status, 403);
    assert.equal((JSON.parse(models.body) as { error: { type: string; code: string } }).error.code, 'forbidden_origin');
    assert.equal((await send(d, 'GET', '/metrics', { origin: 'https://evil.example' }, '')).status, 403);
    // A preflight from a foreign page gets no CORS grant either.
    const pre = await send(d, 'OPTIONS', '/v1/chat/completions', { origin: 'https://evil.example', 'access-control-request-method': 'POST' }, '');
    assert.equal(pre.status, 403);
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
    await assertAsleep();
  });

  it('answers an allowed page\'s preflight with what it asked for', async () => {
    const res = await send(d, 'OPTIONS', '/v1/chat/completions', {
      origin: 'http://localhost:3000',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, x-stainless-os, x-berth-keep-alive',
      // Chromium asks this of a loopback server before a page may reach it.
      'access-control-request-private-network': 'true',
    }, '');
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-private-network'], 'true');
    assert.equal(res.headers['access-control-allow-origin'], 'http://localhost:3000');
    assert.match(String(res.headers['access-control-allow-methods']), /\bPOST\b/);
    assert.equal(res.headers['access-control-allow-headers'], 'authorization, content-type, x-stainless-os, x-berth-keep-alive');
    assert.match(String(res.headers['access-control-max-age']), /^\d+$/);
    assert.match(String(res.headers.vary), /\bOrigin\b/);
  });

  it('lets an allowed page stream a chat, with CORS fields on the response', async () => {
    for (const [origin, framing] of [
      ['http://localhost:3000', {}],
      ['https://app.trusted.example', { 'transfer-encoding': 'chunked' }],
    ] as const) {
      const res = await send(d, 'POST', '/v1/chat/completions', { 'content-type': 'application/json', origin, ...framing }, chatBody('chat', { stream: true }));
      assert.equal(res.status, 200, res.body);
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      assert.equal(res.headers['access-control-allow-origin'], origin);
      assert.equal(res.headers.vary, 'Origin');
      assert.match(String(res.headers['access-control-expose-headers']), /x-berth-served-by/);
      assert.match(res.body, /data: \[DONE\]/);
    }
    // Errors an allowed page causes are readable by it too.
    const unknown = await send(d, 'POST', '/v1/chat/completions', { 'content-type': 'application/json', origin: 'http://127.0.0.1:5173' }, chatBody('nope'));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers['access-control-allow-origin'], 'http://127.0.0.1:5173');
    const api = await send(d, 'GET', '/api/v1/deployments', { origin: 'http://[::1]:8080' }, '');
    assert.equal(api.status, 200);
    assert.equal(api.headers['access-control-allow-origin'], 'http://[::1]:8080');
  });

  it('leaves requests without an Origin alone', async () => {
    const res = await fetch(`${d.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('chat') });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    await res.arrayBuffer();
  });

  // A server that waited for the body would never answer: the timeout turns that hang into a failure.
  it('refuses a foreign page from the head alone: the declared body is never awaited', { timeout: 20_000 }, async () => {
    // 10 MB declared, none sent: only an answer given on the head can arrive.
    const wire = await send(d, 'POST', '/v1/chat/completions', { 'content-type': 'text/plain', origin: 'https://evil.example', 'content-length': '10000000' });
    assert.equal(wire.status, 403);
    assert.equal(wire.headers.connection, 'close', 'the unread body ends the connection');
    await wire.closed;
    const node = await send(d, 'POST', '/v1/chat/completions', { 'content-type': 'text/plain', origin: 'https://evil.example', 'transfer-encoding': 'chunked' });
    assert.equal(node.status, 403);
    const api = await send(d, 'POST', '/api/v1/deployments', { 'content-type': 'application/json', origin: 'https://evil.example', 'content-length': '10000000' });
    assert.equal(api.status, 403);
    await assertAsleep();
  });
});

describe('browser origins with an API key', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8', settings: { apiKey: 'k3y' } });
  });
  after(() => d.stop());

  it('answers preflights without the key, but not the request itself', async () => {
    const pre = await send(d, 'OPTIONS', '/api/v1/deployments', { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' }, '');
    assert.equal(pre.status, 204);
    const res = await send(d, 'GET', '/api/v1/deployments', { origin: 'http://localhost:3000' }, '');
    assert.equal(res.status, 401);
    // The page may read why it was refused.
    assert.equal(res.headers['access-control-allow-origin'], 'http://localhost:3000');
    const ok = await send(d, 'GET', '/api/v1/deployments', { origin: 'http://localhost:3000', authorization: 'Bearer k3y' }, '');
    assert.equal(ok.status, 200);
  });

  it('refuses a missing key from the head alone, on every door', { timeout: 20_000 }, async () => {
    const declared = { 'content-type': 'application/json', origin: 'http://localhost:3000', 'content-length': '10000000' };
    const wire = await send(d, 'POST', '/v1/chat/completions', declared);
    assert.equal(wire.status, 401);
    assert.equal(wire.headers.connection, 'close');
    assert.equal(wire.headers['access-control-allow-origin'], 'http://localhost:3000');
    assert.equal((JSON.parse(wire.body) as { error: { code: string } }).error.code, 'invalid_api_key');
    await wire.closed;
    const node = await send(d, 'POST', '/v1/chat/completions', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    assert.equal(node.status, 401);
    const api = await send(d, 'POST', '/api/v1/deployments', declared);
    assert.equal(api.status, 401);
    assert.equal((JSON.parse(api.body) as { error: { code: string } }).error.code, 'invalid_api_key');
  });
});
