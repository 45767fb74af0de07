import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { pino } from 'pino';
import { errorMiddleware } from '../../daemon/http/errors.js';
import { apiKeyCheck, browserCheck, grantedHeaders, hostCheck } from '../../daemon/http/security.js';

describe('HTTP guards', () => {
  let url = '';
  let close = () => {};
  before(async () => {
    const app = express();
    const settings = { host: '127.0.0.1', port: 0, allowedHosts: ['berth.lan'], allowedOrigins: ['https://*.example.com'] };
    app.use(hostCheck(settings));
    app.use(browserCheck(settings));
    app.use('/api', apiKeyCheck('s3cret'));
    app.get('/api/x', (_req, res) => void res.json({ ok: true }));
    app.use(errorMiddleware('berth', pino({ level: 'silent' })));
    const srv = app.listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    close = () => srv.close();
  });
  after(() => close());

  // node:http rather than fetch: fetch refuses to send a custom Host header.
  const get = (headers: Record<string, string>) =>
    new Promise<{ status: number; json: () => Promise<unknown> }>((resolve, reject) => {
      const req = request(url + '/api/x', { headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: async () => JSON.parse(body) as unknown }));
      });
      req.on('error', reject);
      req.end();
    });

  it('accepts loopback with the right key', async () => {
    assert.equal((await get({ authorization: 'Bearer s3cret' })).status, 200);
  });
  it('refuses a missing or wrong key with our envelope', async () => {
    const res = await get({ authorization: 'Bearer nope' });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: { code: 'invalid_api_key', message: 'missing or wrong API key: send Authorization: Bearer <key>' } });
  });
  it('refuses a rebinding Host header and accepts a configured name', async () => {
    assert.equal((await get({ host: 'evil.example', authorization: 'Bearer s3cret' })).status, 403);
    assert.equal((await get({ host: 'berth.lan:7788', authorization: 'Bearer s3cret' })).status, 200);
  });
  it('refuses a foreign browser Origin on /api', async () => {
    const res = await get({ origin: 'http://evil.example', authorization: 'Bearer s3cret' });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'forbidden_origin');
  });
  it('accepts a same-origin page under an allowed Host, and a configured wildcard origin', async () => {
    assert.equal((await get({ host: 'berth.lan:9999', origin: 'http://berth.lan:9999', authorization: 'Bearer s3cret' })).status, 200);
    assert.equal((await get({ origin: 'https://app.example.com', authorization: 'Bearer s3cret' })).status, 200);
    assert.equal((await get({ host: 'berth.lan:9999', origin: 'http://berth.lan:1234', authorization: 'Bearer s3cret' })).status, 403);
  });
});

describe('preflight headers granted', () => {
  it('echoes well-formed names, lower-cased, and drops the rest', () => {
    assert.equal(grantedHeaders(undefined), '');
    assert.equal(
      grantedHeaders('Authorization, content-type,X-Stainless-OS , x-berth-keep-alive, bad name, (x)'),
      'authorization, content-type, x-stainless-os, x-berth-keep-alive',
    );
    assert.equal(grantedHeaders(Array.from({ length: 100 }, (_, i) => `x-h${i}`).join(',')).split(', ').length, 64);
  });
});
