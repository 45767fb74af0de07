// The UI router on its own, over folders a test lays out: what `/` says when
// the bundle was never built, and that the policy's nonce lands in the page.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { pino } from 'pino';
import { errorMiddleware, notFound } from '../../daemon/http/errors.js';
import { contentSecurityPolicy, uiRouter, withNonce } from '../../daemon/http/ui.js';

async function serve(dir: string): Promise<{ url: string; close: () => void }> {
  const app = express();
  app.use(uiRouter(dir));
  app.use((req, _res, next) => next(notFound(`no route ${req.method} ${req.path}`, 'route_not_found')));
  app.use(errorMiddleware('berth', pino({ level: 'silent' })));
  const srv = app.listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, close: () => srv.close() };
}

describe('the UI when the bundle is missing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ui-'));
  let srv: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    srv = await serve(join(dir, 'dist/renderer'));
  });
  after(() => {
    srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says on / how to build it, under the same policy', async () => {
    for (const path of ['/', '/index.html']) {
      const res = await fetch(srv.url + path);
      assert.equal(res.status, 503);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await res.text(), /run <code>npm run build<\/code>/);
      assert.equal(res.headers.get('content-security-policy'), contentSecurityPolicy());
      assert.equal(res.headers.get('cache-control'), 'no-cache');
    }
    assert.equal((await fetch(`${srv.url}/assets/index.js`)).status, 404);
  });
});

describe('the UI bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ui-'));
  let srv: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    mkdirSync(join(dir, 'assets/sub'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><html><head><title>t</title></head><body></body></html>');
    writeFileSync(join(dir, 'assets/app-1a2b.js'), 'export {};');
    writeFileSync(join(dir, 'assets/.env'), 'SECRET=1');
    writeFileSync(join(dir, 'assets/sub/x.css'), 'a{}');
    writeFileSync(join(dir, 'secret.txt'), 'beside the assets');
    srv = await serve(dir);
  });
  after(() => {
    srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts the nonce first in <head>', () => {
    assert.equal(withNonce('<html><head lang="x"><title>t</title></head></html>', 'N'), '<html><head lang="x"><meta property="csp-nonce" nonce="N"><title>t</title></head></html>');
    assert.equal(withNonce('<p>no head</p>', 'N'), '<meta property="csp-nonce" nonce="N"><p>no head</p>');
  });

  it('serves files under assets/, no dotfile, nothing beside it', async () => {
    assert.equal((await fetch(`${srv.url}/assets/app-1a2b.js`)).status, 200);
    assert.equal((await fetch(`${srv.url}/assets/sub/x.css`)).status, 200);
    for (const path of ['/assets/.env', '/assets/sub', '/assets/sub/', '/secret.txt', '/assets/%2e%2e/secret.txt']) {
      const res = await fetch(srv.url + path);
      assert.equal(res.status, 404, path);
      assert.ok(!(await res.text()).includes('SECRET'), path);
    }
  });
});
