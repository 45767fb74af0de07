// The browser UI served at `/` by a real daemon: the bundle `npm run build`
// made (npm test builds it first), its security headers and caching, and
// nothing else of the disk.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** node:http, so the path goes out exactly as written (`..` and all) and Host and Origin can be set. */
function send(d: TestDaemon, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const { hostname, port } = new URL(d.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port: Number(port), method, path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const STRICT =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const nonceOf = (page: string) => /<meta property="csp-nonce" nonce="([^"]+)">/.exec(page)?.[1];

function assertNotFound(res: Answer, what: string): void {
  assert.equal(res.status, 404, what);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/, what);
  assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'route_not_found', what);
}

describe('the UI at /', () => {
  let d: TestDaemon;
  let page: Answer;
  before(async () => {
    assert.ok(existsSync(join(REPO, 'dist/renderer/index.html')), 'npm test builds the UI before any test runs');
    // With an API key: the page and its files need none, the API still does.
    d = await startTestDaemon({ machine: 'h100x8', settings: { apiKey: 'ui-k3y' } });
    page = await send(d, 'GET', '/');
  });
  after(() => d.stop());

  it('serves the built index.html without the API key, revalidated every time', () => {
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'] ?? '', /^text\/html; charset=utf-8/);
    assert.equal(page.headers['cache-control'], 'no-cache');
    const built = readFileSync(join(REPO, 'dist/renderer/index.html'), 'utf8');
    assert.equal(page.body.replace(/<meta property="csp-nonce" nonce="[^"]+">/, ''), built);
  });

  it('sends a strict policy whose style-src carries this answer\'s nonce, and the page the same nonce', async () => {
    const nonce = nonceOf(page.body);
    assert.match(nonce ?? '', /^[A-Za-z0-9+/]{22}==$/);
    assert.equal(page.headers['content-security-policy'], STRICT.replace("style-src 'self'", `style-src 'self' 'nonce-${nonce}'`));
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    const again = await send(d, 'GET', '/index.html');
    assert.equal(again.status, 200);
    assert.notEqual(nonceOf(again.body), nonce, 'a fresh nonce per answer');
    assert.ok(String(again.headers['content-security-policy']).includes(`'nonce-${nonceOf(again.body)}'`));
  });

  it('answers HEAD like GET, without the body', async () => {
    const head = await send(d, 'HEAD', '/');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.match(String(head.headers['content-security-policy']), /^default-src 'self'.*'nonce-/);
  });

  it('serves the hashed assets the page names, cached for good', async () => {
    const assets = [...page.body.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), assets.join(' '));
    for (const a of assets) {
      const res = await send(d, 'GET', `/${a}`);
      assert.equal(res.status, 200, a);
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable', a);
      assert.match(res.headers['content-type'] ?? '', a.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['content-security-policy'], STRICT, 'no nonce outside the page');
      assert.equal(res.body, readFileSync(join(REPO, 'dist/renderer', a), 'utf8'));
    }
  });

  it('serves the page at / and /index.html only: other paths and methods are 404 in our envelope', async () => {
    for (const path of ['/deployments/x', '/index.htm', '/INDEX.HTML', '/index.html/', '/favicon.ico', '/renderer/index.html', '/dist/renderer/index.html', '/assets/none.js']) {
      assertNotFound(await send(d, 'GET', path), path);
    }
    for (const method of ['POST', 'PUT', 'DELETE']) assertNotFound(await send(d, method, '/'), `${method} /`);
    const asset = /src="\.\/(assets\/[^"]+)"/.exec(page.body)![1]!;
    assertNotFound(await send(d, 'POST', `/${asset}`), `POST /${asset}`);
  });

  it('lists no folder', async () => {
    for (const path of ['/assets', '/assets/', '/assets/.', '/assets//']) assertNotFound(await send(d, 'GET', path), path);
  });

  it('never leaves the bundle, however the path is spelled', async () => {
    const escapes = [
      '/assets/../../package.json',
      '/assets/../../../package.json',
      '/assets/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/assets/%2E%2E/%2E%2E/%2E%2E/package.json',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/assets/..%2F..%2F..%2Fpackage.json',
      '/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json',
      '/assets/..%5c..%5c..%5cpackage.json',
      '/assets/%252e%252e/%252e%252e/%252e%252e/package.json',
      '/assets/....//....//....//package.json',
      '/assets/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/package.json',
      '/assets/../index.html',
      '/assets/%00../../../package.json',
      '/../package.json',
      '/%2e%2e/package.json',
    ];
    for (const path of escapes) {
      const res = await send(d, 'GET', path);
      assertNotFound(res, path);
      assert.ok(!res.body.includes('"name": "berth"') && !res.body.includes('<html'), `${path} leaked a file`);
    }
  });

  it('checks Host and Origin as the API does', async () => {
    assert.equal((await send(d, 'GET', '/', { host: 'evil.example' })).status, 403);
    assert.equal((await send(d, 'GET', '/', { origin: 'https://evil.example' })).status, 403);
    assert.equal((await send(d, 'GET', '/', { origin: d.url })).status, 200);
  });

  it('keeps the API behind the key', async () => {
    assert.equal((await send(d, 'GET', '/api/v1/deployments')).status, 401);
  });
});
