// Alaya's QuickStart deployment API against a real daemon and the fake
// engine: the documented request creates and starts a deployment on the
// right GPUs, its model answers at /v1, GET and DELETE find it by serviceId,
// and every failure (bad body, unknown id or route, wrong credentials, a
// foreign Host or Origin) answers in Alaya's {code:-1,data:null,msg} envelope.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import { deploymentWhen, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const EXAMPLE = JSON.parse(readFileSync(new URL('../fixtures/platforms/alaya-quickstart.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const PATH = '/api/serverless-infer/v1/deployment';

interface Envelope<T = unknown> {
  code: number;
  data: T;
  msg: string;
}

/** The example on this machine's GPUs (the fake machine has H100s, no L40S). */
const onH100 = (over: Record<string, unknown> = {}) => ({
  ...structuredClone(EXAMPLE),
  resource: { workers: 2, cpu: 4, gpu: { count: 1, gpuType: 'nvidia.com/gpu-h100' }, mem: 10 },
  ...over,
});

async function call<T = unknown>(d: TestDaemon, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const r = await d.api<Envelope<T>>(method, path, body, headers);
  return r;
}

function assertFailure(r: { status: number; body: Envelope }, status: number, msg: RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.code, -1);
  assert.equal(r.body.data, null);
  assert.match(r.body.msg, msg);
}

describe('Alaya QuickStart on one machine', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
  });
  after(() => d.stop());

  it('the documented request creates and starts the service, answered at /v1, shown and deleted by serviceId', async () => {
    const created = await call<{ serviceId: string }>(d, 'POST', PATH, onH100(), { authorization: 'plain Credential=YOUR_AK,Signature=YOUR_SK' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.code, 0);
    assert.equal(created.body.msg, '');
    const id = created.body.data.serviceId;
    assert.match(id, /^[0-9a-f-]{36}$/);

    // workers 2 x gpu.count 1: one replica on two GPUs, with Alaya's vLLM defaults.
    const ready = await deploymentWhen(d, 'testvllm');
    assert.equal(ready.replicas.length, 1);
    assert.equal(ready.replicas[0]!.gpus.length, 2);
    const engine = (await (await fetch(`http://127.0.0.1:${ready.replicas[0]!.port}/fake/state`)).json()) as { argv: string[]; env: Record<string, string> };
    const argv = engine.argv.join(' ');
    assert.match(argv, /--enable-lora --max-loras 16 --max-lora-rank 16 --tensor-parallel-size 2/);
    assert.equal(engine.env.VLLM_ALLOW_RUNTIME_LORA_UPDATING, 'true');

    const chat = await fetch(`${d.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'testvllm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(chat.status, 200);
    assert.equal(chat.headers.get('x-berth-served-by'), 'testvllm');
    await chat.arrayBuffer();

    for (const path of [`${PATH}/${id}`, `${PATH}?serviceId=${id}`]) {
      const shown = await call<Record<string, unknown>>(d, 'GET', path);
      assert.equal(shown.status, 200);
      assert.equal(shown.body.code, 0);
      const s = shown.body.data;
      assert.equal(s.serviceId, id);
      assert.equal(s.vksId, 'vcacb50arkk4');
      assert.equal(s.namespace, 'default');
      assert.equal(s.name, 'testvllm');
      assert.equal(s.status, 'ready');
      assert.deepEqual(s.resource, { workers: 2, gpu: { count: 1, gpuType: 'nvidia.com/gpu-h100' }, cpu: 4, mem: 10 });
      assert.deepEqual(s.scale, { max: 5, min: 1, idleTime: 60, rpsValue: 100, inFlightValue: null });
      assert.deepEqual((s.notApplicable as { field: string }[]).map((f) => f.field), ['vksId', 'resource.cpu', 'resource.mem']);
    }
    // The same deployment on Berth's own API, its origin recorded.
    const berth = (await d.api<DeploymentStatus>('GET', '/api/v1/deployments/testvllm')).body;
    assert.equal(berth.spec.source?.platform, 'alaya');
    assert.equal(berth.spec.source?.id, id);

    const taken = await call(d, 'POST', PATH, onH100());
    assertFailure(taken, 409, /^name: .*"testvllm"/);

    const deleted = await call<{ serviceId: string }>(d, 'DELETE', `${PATH}/${id}`);
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.body, { code: 0, data: { serviceId: id }, msg: '' });
    assert.equal((await d.api('GET', '/api/v1/deployments/testvllm')).status, 404);
    assertFailure(await call(d, 'GET', `${PATH}/${id}`), 404, /^serviceId: no service/);
    assertFailure(await call(d, 'DELETE', `${PATH}/${id}`), 404, /^serviceId: /);
  });

  it('the published request asks for L40S GPUs this machine does not have: 409, saying so', async () => {
    const r = await call(d, 'POST', PATH, structuredClone(EXAMPLE));
    assertFailure(r, 409, /gpu/i);
    assert.match(r.body.msg, /^resource\.gpu\.count: /);
    assert.equal((await d.api('GET', '/api/v1/deployments/testvllm')).status, 404, 'nothing left behind');
  });

  it('a namespace other than default scopes the name', async () => {
    const r = await call<{ serviceId: string }>(d, 'POST', PATH, onH100({ namespace: 'team-a', resource: { workers: 1, gpu: { count: 0 } } }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const s = (await d.api<DeploymentStatus>('GET', '/api/v1/deployments/testvllm-team-a')).body;
    assert.equal(s.spec.source?.namespace, 'team-a');
    assert.equal((await call(d, 'DELETE', `${PATH}/${r.body.data.serviceId}`)).status, 200);
  });

  it('bad bodies get the envelope with the field named', async () => {
    assertFailure(await call(d, 'POST', PATH, onH100({ scale: { min: 0 } })), 400, /^scale\.min: QuickStart services never scale below one instance/);
    assertFailure(await call(d, 'POST', PATH, onH100({ backendArgs: ['--no-such-flag'] })), 400, /^backendArgs\[0\]: .*--no-such-flag/);
    assertFailure(await call(d, 'POST', PATH, onH100({ modelId: '' })), 400, /^modelId: /);
    const noVks = onH100();
    delete (noVks as Record<string, unknown>).vksId;
    assertFailure(await call(d, 'POST', PATH, noVks), 400, /^vksId: required/);
    assertFailure(await call(d, 'POST', PATH, []), 400, /^body: expected a JSON object/);
    const malformed = await fetch(d.url + PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"vksId": ' });
    assert.equal(malformed.status, 400);
    const m = (await malformed.json()) as Envelope;
    assert.equal(m.code, -1);
    assert.match(m.msg, /not valid JSON/);
    const noType = await fetch(d.url + PATH, { method: 'POST', body: JSON.stringify(onH100()) });
    assertFailure({ status: noType.status, body: (await noType.json()) as Envelope }, 400, /^body: expected a JSON body/);
  });

  it('unknown routes and methods answer in the envelope too', async () => {
    assertFailure(await call(d, 'GET', '/api/serverless-infer/v1/nothing'), 404, /no route/);
    assertFailure(await call(d, 'PUT', `${PATH}/abc`, {}), 405, /PUT/);
    assertFailure(await call(d, 'GET', PATH), 400, /^serviceId: required/);
  });
});

describe('Alaya credentials when Berth has an API key', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8', settings: { apiKey: 'k-123' } });
  });
  after(() => d.stop());

  const cpuOnly = () => onH100({ name: 'auth', resource: { workers: 1, gpu: { count: 0 } } });

  it('refuses a request without credentials or with the wrong ones, before reading the body', async () => {
    assertFailure(await call(d, 'POST', PATH, cpuOnly()), 401, /Authorization/);
    assertFailure(await call(d, 'POST', PATH, cpuOnly(), { authorization: 'plain Credential=YOUR_AK,Signature=YOUR_SK' }), 401, /neither Credential nor Signature/);
    assertFailure(await call(d, 'GET', `${PATH}/x`, undefined, { authorization: 'Bearer wrong' }), 401, /Authorization/);
    // A malformed body never gets read: the key is checked first.
    const r = await fetch(d.url + PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    assert.equal(r.status, 401);
  });

  it('accepts the key as the Signature (SK), as the Credential (AK), or as a Bearer token', async () => {
    const created = await call<{ serviceId: string }>(d, 'POST', PATH, cpuOnly(), { authorization: 'plain Credential=alice,Signature=k-123' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const id = created.body.data.serviceId;
    assert.equal((await call(d, 'GET', `${PATH}/${id}`, undefined, { authorization: 'plain Credential=k-123,Signature=whatever' })).status, 200);
    assert.equal((await call(d, 'DELETE', `${PATH}/${id}`, undefined, { authorization: 'Bearer k-123' })).status, 200);
  });
});

describe('Alaya path behind the Host and Origin guards', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
  });
  after(() => d.stop());

  function send(headers: Record<string, string>): Promise<{ status: number; body: Envelope }> {
    const { hostname, port } = new URL(d.url);
    return new Promise((resolve, reject) => {
      const req = request({ host: hostname, port: Number(port), method: 'GET', path: `${PATH}/x`, headers, agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Envelope }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('a rebinding Host or a foreign page is refused in Alaya\'s envelope', async () => {
    assertFailure(await send({ host: 'evil.example' }), 403, /Host/);
    assertFailure(await send({ host: '127.0.0.1', origin: 'https://evil.example' }), 403, /Origin/);
  });
});
