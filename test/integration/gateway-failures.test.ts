// Retries, fallbacks, security and metrics at the gateway.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import { deploymentWhen, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

function chat(d: TestDaemon, model: string, headers: Record<string, string> = {}) {
  return fetch(`${d.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

function ready(d: TestDaemon, name: string, replicas = 1): Promise<DeploymentStatus> {
  return deploymentWhen(d, name, (s) => s.replicas.filter((r) => r.state === 'ready').length >= replicas);
}

describe('gateway failure handling', () => {
  it('retries once on another replica when the engine dies before answering', async () => {
    const d = await startTestDaemon({ machine: 'h100x8' });
    try {
      // Each engine dies, without a response byte, on its second request.
      await d.api('POST', '/api/v1/deployments', {
        name: 'pair', modelId: 'x/y', backend: 'vllm', scale: { min: 2, max: 2 }, env: { FAKE_DIE_AT_REQUEST: '2' },
      });
      await ready(d, 'pair', 2);
      // Sequential requests tie on in-flight, so the first replica takes both: the second kills it.
      assert.equal((await chat(d, 'pair')).status, 200);
      const r = await chat(d, 'pair');
      assert.equal(r.status, 200);
      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      assert.match(metrics, /berth_upstream_retries_total\{model="pair"\} 1/);
    } finally {
      await d.stop();
    }
  });

  it('falls back on a 500 and on a killed engine, saying who served', async () => {
    const d = await startTestDaemon({ machine: 'h100x8' });
    try {
      await d.api('POST', '/api/v1/deployments', { name: 'backup', modelId: 'x/b', backend: 'sglang' });
      await d.api('POST', '/api/v1/deployments', { name: 'flaky', modelId: 'x/f', backend: 'vllm', env: { FAKE_HTTP_500: '1' }, fallback: ['backup'] });
      await d.api('POST', '/api/v1/deployments', { name: 'doomed', modelId: 'x/d', backend: 'vllm', env: { FAKE_DIE_AT_REQUEST: '1' }, fallback: ['backup'] });
      await Promise.all(['backup', 'flaky', 'doomed'].map((n) => ready(d, n)));

      const r1 = await chat(d, 'flaky');
      assert.equal(r1.status, 200);
      assert.equal(r1.headers.get('x-berth-served-by'), 'backup');
      assert.equal(((await r1.json()) as { model: string }).model, 'backup', 'the fallback got its own model name');

      const r2 = await chat(d, 'doomed');
      assert.equal(r2.status, 200);
      assert.equal(r2.headers.get('x-berth-served-by'), 'backup');

      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      assert.match(metrics, /berth_fallbacks_total\{model="flaky",to="backup"\} 1/);
    } finally {
      await d.stop();
    }
  });

  it('passes an engine 500 through when there is no fallback', async () => {
    const d = await startTestDaemon({ machine: 'h100x8' });
    try {
      await d.api('POST', '/api/v1/deployments', { name: 'broken', modelId: 'x/f', backend: 'vllm', env: { FAKE_HTTP_500: '1' } });
      await ready(d, 'broken');
      const r = await chat(d, 'broken');
      assert.equal(r.status, 500);
      assert.equal(((await r.json()) as { object: string }).object, 'error');
      assert.equal((await d.api<DeploymentStatus>('GET', '/api/v1/deployments/broken')).body.state, 'ready', 'a failed request never kills a healthy engine');
    } finally {
      await d.stop();
    }
  });

  it('counts requests, tokens and status by model', async () => {
    const d = await startTestDaemon({ machine: 'h100x8' });
    try {
      await d.api('POST', '/api/v1/deployments', { name: 'm', modelId: 'x/y', backend: 'vllm', env: { FAKE_TOKENS: '5' } });
      await ready(d, 'm');
      for (let i = 0; i < 3; i++) assert.equal((await chat(d, 'm')).status, 200);
      const s = await fetch(`${d.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      });
      await s.text();
      await chat(d, 'missing');
      const text = await (await fetch(`${d.url}/metrics`)).text();
      assert.match(text, /berth_requests_total\{model="m",status="200"\} 4/);
      assert.match(text, /berth_requests_total\{model="unknown",status="404"\} 1/);
      assert.match(text, /berth_completion_tokens_total\{model="m"\} 20/);
      assert.match(text, /berth_time_to_first_token_seconds_count\{model="m"\} 1/);
      assert.match(text, /berth_replicas\{deployment="m",state="ready"\} 1/);
      const stats = await d.api<{ gateway: { requests: { total: number } }; engines: { gauges: { runningRequests: number } | null }[] }>(
        'GET', '/api/v1/deployments/m/stats');
      assert.equal(stats.status, 200);
      assert.equal(stats.body.engines.length, 1);
      assert.ok(stats.body.engines[0]!.gauges, 'engine gauges scraped from vLLM /metrics');
    } finally {
      await d.stop();
    }
  });
});

describe('gateway security', () => {
  function raw(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(url + path, { headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('requires the API key on /v1, /api and /metrics when one is set, and checks Host', async () => {
    const d = await startTestDaemon({ machine: 'h100x8', settings: { apiKey: 'sk-berth' } });
    try {
      const noKey = await raw(d.url, '/v1/models', {});
      assert.equal(noKey.status, 401);
      assert.equal((JSON.parse(noKey.body) as { error: { code: string } }).error.code, 'invalid_api_key');
      assert.equal((await raw(d.url, '/api/v1/deployments', {})).status, 401);
      assert.equal((await raw(d.url, '/metrics', {})).status, 401);
      assert.equal((await raw(d.url, '/v1/models', { authorization: 'Bearer sk-berth' })).status, 200);
      const rebound = await raw(d.url, '/v1/models', { authorization: 'Bearer sk-berth', host: 'attacker.example' });
      assert.equal(rebound.status, 403);
      assert.ok('error' in (JSON.parse(rebound.body) as object));
    } finally {
      await d.stop();
    }
  });
});
