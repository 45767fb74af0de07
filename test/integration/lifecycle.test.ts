// Deploy → ready → answered on the engine port → stop → nothing left running,
// through the real daemon, the real pty launcher and the fake engine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import { groupMembers, isAlive } from '../../daemon/state/proc.js';
import { deploymentWhen, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';


describe('deployment lifecycle (vLLM fake on an 8x H100 fake)', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
  });
  after(() => d.stop());

  it('deploys, becomes ready, answers on the engine port, stops with no pid left', async () => {
    const created = await d.api<DeploymentStatus>('POST', '/api/v1/deployments', {
      name: 'qwen',
      modelId: 'Qwen/Qwen2.5-0.5B-Instruct',
      backend: 'vllm',
      env: { FAKE_SPAWN_CHILD: '1' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.spec.servedName[0], 'qwen');
    assert.equal(created.body.replicas.length, 1);
    const ready = await deploymentWhen(d, 'qwen');
    const replica = ready.replicas[0]!;
    assert.equal(replica.port, d.settings.enginePortBase);
    assert.equal(replica.gpus.length, 1);
    assert.ok(replica.pid);

    const res = await fetch(`http://127.0.0.1:${replica.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200);
    const completion = (await res.json()) as { object: string; model: string };
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.model, 'qwen');

    const state = (await (await fetch(`http://127.0.0.1:${replica.port}/fake/state`)).json()) as { env: Record<string, string>; argv: string[] };
    assert.equal(state.env.CUDA_VISIBLE_DEVICES, String(replica.gpus[0]));
    assert.equal(state.env.VLLM_ALLOW_RUNTIME_LORA_UPDATING, 'true');
    assert.ok(state.argv.includes('--enable-lora'));

    const pgid = replica.pid!;
    assert.ok(groupMembers(pgid).length >= 2, 'engine and its child run in one process group');
    const stopped = await d.api<DeploymentStatus>('POST', '/api/v1/deployments/qwen/stop');
    assert.equal(stopped.status, 200);
    assert.equal(stopped.body.state, 'stopped');
    assert.equal(stopped.body.desired, 'stopped');
    assert.equal(isAlive(pgid), false);
    assert.deepEqual(groupMembers(pgid), [], 'no child of the engine is left behind');
  });

  it('lists GPUs from nvidia-smi', async () => {
    const { status, body } = await d.api<{ available: boolean; gpus: { name: string }[]; driverVersion: string }>('GET', '/api/v1/gpus');
    assert.equal(status, 200);
    assert.equal(body.available, true);
    assert.equal(body.gpus.length, 8);
    assert.equal(body.driverVersion, '590.48.01');
  });

  it('refuses a deployment that needs more GPUs than are free, naming who holds them', async () => {
    const big = await d.api<DeploymentStatus>('POST', '/api/v1/deployments', {
      name: 'big', modelId: 'meta-llama/Llama-3.1-70B-Instruct', backend: 'vllm', resource: { gpu: { count: 6 } },
    });
    assert.equal(big.status, 201);
    assert.deepEqual(big.body.replicas[0]!.gpus.length, 6);
    const more = await d.api<{ error: { code: string; message: string; field: string } }>('POST', '/api/v1/deployments', {
      name: 'more', modelId: 'Qwen/Qwen2.5-7B-Instruct', backend: 'sglang', resource: { gpu: { count: 4 } },
    });
    assert.equal(more.status, 409);
    assert.equal(more.body.error.code, 'insufficient_gpus');
    assert.match(more.body.error.message, /needs 4 GPUs, 2 free; held by big \(GPU [\d, ]+\)/);
    assert.equal((await d.api('GET', '/api/v1/deployments/more')).status, 404, 'a refused deployment is not half-created');
    await d.api('DELETE', '/api/v1/deployments/big');
  });

  it('rejects an unknown engine flag with a 400 naming it, before launching anything', async () => {
    const r = await d.api<{ error: { code: string; message: string; field: string } }>('POST', '/api/v1/deployments', {
      name: 'typo', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', backendArgs: ['--max-model-len', '4096', '--gpu-mem-util', '0.8'],
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.field, 'backendArgs[2]');
    assert.match(r.body.error.message, /--gpu-mem-util/);
  });

  it('names the field of an invalid spec', async () => {
    const r = await d.api<{ error: { field: string; message: string } }>('POST', '/api/v1/deployments', {
      name: 'Bad_Name', modelId: 'x/y', backend: 'vllm',
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.field, 'name');
    const r2 = await d.api<{ error: { field: string } }>('POST', '/api/v1/deployments', { name: 'ok', modelId: 'x/y', backend: 'tgi' });
    assert.equal(r2.body.error.field, 'backend');
  });
});
