// The management API as the contract describes it, called through the one
// client (contract/client.ts) the UI, Electron and the CLI use.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../daemon/contract/client.js';
import { API_VERSION, api, fillPath, type RouteName } from '../../daemon/contract/routes.js';
import { BERTH_VERSION } from '../../daemon/version.js';
import { deploymentWhen, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { rejection } from '../helpers/refusal.js';

/** The client's rejection, for assertions on what the daemon said. */
const refusal = (p: Promise<unknown>) => rejection(p, ApiError);

describe('the API, mounted from the contract', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
  });
  after(() => d.stop());

  it('answers health as Berth, with the contract revision', async () => {
    const h = await d.client.health();
    assert.equal(h.status, 'ok');
    assert.equal(h.service, 'berth');
    assert.equal(h.apiVersion, API_VERSION);
    assert.equal(h.version, BERTH_VERSION);
    assert.equal(typeof h.uptimeSeconds, 'number');
  });

  it('serves every route of the table at its method and path', async () => {
    for (const [name, route] of Object.entries(api) as [RouteName, (typeof api)[RouteName]][]) {
      const res = await d.api<{ error?: { code: string } }>(route.method, fillPath(route.path, { name: 'nobody', adapter: 'nothing' }));
      assert.notEqual(res.body?.error?.code, 'route_not_found', `${name}: ${route.method} ${route.path}`);
    }
  });

  it('creates without starting, lists, reads, patches and deletes through the client', async () => {
    const created = await d.client.createDeployment({
      body: { name: 'idle', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', resource: { gpu: { count: 0 } } },
      query: { start: false },
    });
    assert.equal(created.name, 'idle');
    assert.deepEqual(created.replicas, []);
    assert.deepEqual((await d.client.listDeployments()).deployments.map((x) => x.name), ['idle']);
    assert.equal((await d.client.getDeployment({ params: { name: 'idle' } })).spec.modelId, 'Qwen/Qwen2.5-0.5B-Instruct');
    const patched = await d.client.updateDeployment({ params: { name: 'idle' }, body: { backendArgs: ['--max-model-len', '2048'] } });
    assert.deepEqual(patched.spec.backendArgs, ['--max-model-len', '2048']);
    assert.equal(await d.client.deleteDeployment({ params: { name: 'idle' } }), undefined, 'a 204 answers nothing');
    const gone = await refusal(d.client.getDeployment({ params: { name: 'idle' } }));
    assert.equal(gone.status, 404);
    assert.equal(gone.code, 'deployment_not_found');
  });

  it('answers 201 for a create and 202 for a start, as before', async () => {
    const created = await d.api('POST', '/api/v1/deployments?start=0', { name: 'codes', modelId: 'x/y', backend: 'vllm', resource: { gpu: { count: 0 } } });
    assert.equal(created.status, 201);
    assert.equal((await d.api('POST', '/api/v1/deployments/codes/start')).status, 202);
    await deploymentWhen(d, 'codes');
    assert.equal((await d.api('POST', '/api/v1/deployments/codes/stop')).status, 200);
    assert.equal((await d.api('DELETE', '/api/v1/deployments/codes')).status, 204);
  });

  it('refuses a bad query value, naming the field', async () => {
    const start = await d.api<{ error: { field: string } }>('POST', '/api/v1/deployments?start=maybe', { name: 'q', modelId: 'x/y' });
    assert.equal(start.status, 400);
    assert.equal(start.body.error.field, 'start');
    await d.client.createDeployment({ body: { name: 'logs', modelId: 'x/y', backend: 'vllm', resource: { gpu: { count: 0 } } } });
    for (const [query, field] of [['tail=ten', 'tail'], ['ansi=yes', 'ansi'], ['replica=a&replica=b', 'replica'], ['follow=2', 'follow'], ['format=xml', 'format']]) {
      const res = await d.api<{ error: { field: string; code: string } }>('GET', `/api/v1/deployments/logs/logs?${query}`, undefined, { accept: 'application/json' });
      assert.equal(res.status, 400, query);
      assert.equal(res.body.error.field, field, query);
    }
  });

  it('reads logs as JSON through the client and as text for curl', async () => {
    await deploymentWhen(d, 'logs');
    const json = await d.client.deploymentLogs({ params: { name: 'logs' }, query: { tail: 500 } });
    assert.match(json.replica ?? '', /^logs-/);
    assert.ok(json.lines.some((l) => l.includes('Application startup complete.')));
    assert.ok(!json.lines.some((l) => l.includes('\x1b[')), 'no ANSI unless asked');
    const text = await fetch(`${d.url}/api/v1/deployments/logs/logs?tail=500`, { headers: { accept: '*/*' } });
    assert.match(text.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await text.text(), /Application startup complete\./);
    const forced = await d.api<{ lines: string[] }>('GET', '/api/v1/deployments/logs/logs?format=json', undefined, { accept: '*/*' });
    assert.ok(Array.isArray(forced.body.lines));
  });

  it('names the route it does not have', async () => {
    const res = await d.api<{ error: { code: string; message: string } }>('GET', '/api/v1/nothing');
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: { code: 'route_not_found', message: 'no route GET /api/v1/nothing' } });
  });
});
