// The browser UI's session: the API key traded for a cookie, which the daemon
// honours only on requests from its own origin (a browser's EventSource
// cannot send Authorization, and a page on another port of the same host gets
// the cookie sent along, since cookies are scoped by host, not port).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../daemon/contract/client.js';
import { startTestDaemon, tempHome, type TestDaemon } from '../helpers/daemon.js';

const KEY = 'k3y-for-the-ui';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request, reading the answer's head and at most its first chunk (an
 * event stream never ends). node:http, since fetch neither lets a test set
 * Origin and Sec-Fetch-Site nor shows Set-Cookie as sent.
 */
function send(d: TestDaemon, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const { hostname, port } = new URL(d.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port: Number(port), method, path, headers, agent: false }, (res) => {
      let text = '';
      const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      if (res.headers['content-type']?.startsWith('text/event-stream')) {
        res.destroy();
        done();
        return;
      }
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', done);
    });
    req.on('error', reject);
    if (body !== undefined) req.setHeader('content-type', 'application/json');
    req.end(body);
  });
}

const login = (d: TestDaemon, apiKey: string, headers: Record<string, string> = {}) =>
  send(d, 'POST', '/api/v1/session', headers, JSON.stringify({ apiKey }));

/** `name=value` of the session cookie a login set. */
function cookieOf(a: Answer): string {
  const set = a.headers['set-cookie']?.[0];
  assert.ok(set, 'a Set-Cookie');
  return set.split(';')[0]!;
}

describe('UI session', () => {
  let d: TestDaemon;
  const home = tempHome();
  let cookie = '';
  let own = '';
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8', home, settings: { apiKey: KEY } });
    own = d.url;
  });
  after(async () => {
    await d.stop();
    rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  });

  it('sets an HttpOnly, SameSite=Strict cookie for the right key, derived from it but not it', async () => {
    const res = await login(d, KEY, { origin: own, 'sec-fetch-site': 'same-origin' });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { open: false });
    const set = res.headers['set-cookie']![0]!;
    assert.match(set, /^berth_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    assert.ok(!set.includes(KEY));
    cookie = cookieOf(res);
  });

  it('refuses a wrong or missing key with a 401 naming apiKey', async () => {
    const wrong = await login(d, 'guess');
    assert.equal(wrong.status, 401);
    assert.deepEqual(JSON.parse(wrong.body), { error: { code: 'invalid_api_key', message: 'apiKey: wrong API key', field: 'apiKey' } });
    assert.equal(wrong.headers['set-cookie'], undefined);
    const missing = await send(d, 'POST', '/api/v1/session', {}, '{}');
    assert.equal(missing.status, 400);
    assert.equal((JSON.parse(missing.body) as { error: { field: string } }).error.field, 'apiKey');
    const viaClient = await d.client.createSession({ body: { apiKey: 'guess' } }).catch((e: unknown) => e);
    assert.ok(viaClient instanceof ApiError && viaClient.status === 401 && viaClient.field === 'apiKey');
  });

  it('lets the page\'s own requests in with the cookie alone: the event stream, the API, /metrics and /v1', async () => {
    const ownPage = { cookie, origin: own, 'sec-fetch-site': 'same-origin' };
    const events = await send(d, 'GET', '/api/v1/events', { cookie, 'sec-fetch-site': 'same-origin' });
    assert.equal(events.status, 200);
    assert.match(events.headers['content-type'] ?? '', /^text\/event-stream/);
    assert.equal((await send(d, 'GET', '/api/v1/deployments', ownPage)).status, 200);
    assert.equal((await send(d, 'GET', '/api/v1/deployments', { cookie })).status, 200, 'no Origin, no Sec-Fetch-Site: not a cross-site request');
    assert.equal((await send(d, 'GET', '/metrics', ownPage)).status, 200);
    assert.equal((await send(d, 'GET', '/v1/models', ownPage)).status, 200);
    // POST /v1/* is the gateway's own door: past the key check, an unknown model is a 404.
    const chat = await send(d, 'POST', '/v1/chat/completions', ownPage, JSON.stringify({ model: 'none', messages: [] }));
    assert.equal(chat.status, 404);
    assert.equal((JSON.parse(chat.body) as { error: { code: string } }).error.code, 'model_not_found');
  });

  it('refuses the cookie from any other page, loopback ones included', async () => {
    const { port } = new URL(own);
    const others: Record<string, string>[] = [
      { origin: 'http://127.0.0.1:3000' },
      { origin: 'http://localhost:5173' },
      { origin: `http://localhost:${port}` },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: own, 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of others) {
      for (const [method, path] of [['GET', '/api/v1/deployments'], ['GET', '/metrics'], ['GET', '/v1/models'], ['POST', '/v1/chat/completions']] as const) {
        const res = await send(d, method, path, { cookie, ...headers }, method === 'POST' ? '{"model":"none"}' : undefined);
        assert.equal(res.status, 401, `${method} ${path} ${JSON.stringify(headers)}`);
      }
    }
    // The same pages may still use the key itself: the Origin check allows them.
    assert.equal((await send(d, 'GET', '/api/v1/deployments', { origin: 'http://localhost:5173', authorization: `Bearer ${KEY}` })).status, 200);
  });

  it('refuses a cookie that is not the session\'s', async () => {
    assert.equal((await send(d, 'GET', '/api/v1/deployments', { cookie: `${cookie}x` })).status, 401);
    assert.equal((await send(d, 'GET', '/api/v1/deployments', { cookie: `berth_session=${KEY}` })).status, 401);
    assert.equal((await send(d, 'GET', '/api/v1/deployments', { cookie: `other=1; ${cookie}; more=2` })).status, 200);
  });

  it('logs out by clearing the cookie', async () => {
    const res = await send(d, 'DELETE', '/api/v1/session', { origin: own });
    assert.equal(res.status, 204);
    assert.match(res.headers['set-cookie']![0]!, /^berth_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/);
  });

  it('survives a restart with the same key and dies when the key changes', async () => {
    await d.stop();
    d = await startTestDaemon({ machine: 'h100x8', home, settings: { apiKey: KEY } });
    assert.equal((await send(d, 'GET', '/api/v1/deployments', { cookie })).status, 200);
    await d.stop();
    d = await startTestDaemon({ machine: 'h100x8', home, settings: { apiKey: 'a-new-key' } });
    assert.equal((await send(d, 'GET', '/api/v1/deployments', { cookie })).status, 401);
    assert.equal((await send(d, 'GET', '/api/v1/deployments', { cookie: cookieOf(await login(d, 'a-new-key')) })).status, 200);
  });
});

describe('UI session without an API key', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
  });
  after(() => d.stop());

  it('answers open, and sets no cookie', async () => {
    const res = await login(d, 'anything');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { open: true });
    assert.equal(res.headers['set-cookie'], undefined);
    assert.deepEqual(await d.client.createSession({ body: { apiKey: '' } }), { open: true });
  });
});
