// LoRA adapters through the API, the gateway and the CLI, against the fake
// engines: vLLM loads them at run time (and again whenever an engine starts),
// SGLang 0.4.6 takes them at launch, so a change there restarts it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import type { LoraChange, LoraList } from '../../daemon/contract/lora.js';
import { deploymentWhen, REPO, startTestDaemon, tempHome, testEnv, waitFor, type TestDaemon } from '../helpers/daemon.js';
import { SAFETY_MS } from '../helpers/limits.js';

const QWEN = 'Qwen/Qwen2.5-0.5B-Instruct';
type ErrorBody = { error: { code: string; message: string; field?: string } };

/** An adapter directory, as vLLM refuses a path that does not exist. */
function adapterDir(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function chat(d: TestDaemon, model: string): Promise<{ status: number; model?: string }> {
  const res = await fetch(`${d.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const body = (await res.json()) as { model?: string };
  return { status: res.status, model: body.model };
}

/** What the engine itself lists: its served names and the adapters it holds. */
async function engineModels(port: number): Promise<{ id: string; parent: string | null; root: string }[]> {
  return ((await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { data: { id: string; parent: string | null; root: string }[] }).data;
}

const readyPort = (s: DeploymentStatus) => s.replicas.find((r) => r.state === 'ready')!.port!;

describe('LoRA adapters on vLLM', () => {
  let d: TestDaemon;
  let root: string;
  let home: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'berth-lora-'));
    home = tempHome();
    d = await startTestDaemon({ machine: 'h100x8', home });
    const created = await d.api('POST', '/api/v1/deployments', { name: 'qwen', modelId: QWEN, backend: 'vllm' });
    assert.equal(created.status, 201);
    await deploymentWhen(d, 'qwen');
  });
  after(async () => {
    await d.stop();
    rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    rmSync(root, { recursive: true, force: true });
  });

  it('loads an adapter into the running engine, lists it, and serves it by model', async () => {
    const path = adapterDir(root, 'pirate');
    const added = await d.client.addLora({ params: { name: 'qwen' }, body: { name: 'pirate', path } });
    const status = await d.client.getDeployment({ params: { name: 'qwen' } });
    const replica = status.replicas[0]!;
    assert.equal(added.restart, false);
    assert.equal(added.message, 'adapter pirate added to qwen: loaded into 1 ready replica');
    assert.deepEqual(added.loras, [{ name: 'pirate', path, loadedOn: [replica.id], error: null }]);
    assert.equal(added.maxLoras, 16);
    assert.deepEqual(status.spec.loras, [{ name: 'pirate', path }], 'the status the UI reads carries the adapters');
    assert.deepEqual((await d.client.deploymentLoras({ params: { name: 'qwen' } })).loras.map((l) => l.name), ['pirate']);

    // The engine holds it (vLLM lists loaded adapters with their parent)...
    assert.ok((await engineModels(replica.port!)).some((m) => m.id === 'pirate' && m.parent === 'qwen' && m.root === path));
    // ...the gateway lists it with its base deployment...
    const models = (await (await fetch(`${d.url}/v1/models`)).json()) as { data: { id: string; parent: string | null; berth: { deployment: string } }[] };
    const card = models.data.find((m) => m.id === 'pirate');
    assert.equal(card?.parent, 'qwen');
    assert.equal(card?.berth.deployment, 'qwen');
    // ...and a request naming it reaches the engine with that model (vLLM 404s an adapter it does not hold).
    assert.deepEqual(await chat(d, 'pirate'), { status: 200, model: 'pirate' });
  });

  it('refuses a missing path, a relative one and a name already served, naming the field', async () => {
    const refused = async (body: unknown) => (await d.api<ErrorBody>('POST', '/api/v1/deployments/qwen/loras', body));
    const missing = await refused({ name: 'ghost', path: join(root, 'no-such-adapter') });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.field, 'path');
    assert.match(missing.body.error.message, /no-such-adapter does not exist on this machine/);
    assert.equal((await refused({ name: 'rel', path: './adapters/x' })).body.error.field, 'path');
    for (const name of ['qwen', 'pirate', 'two words']) {
      const r = await refused({ name, path: adapterDir(root, 'other') });
      assert.equal(r.status, 400, name);
      assert.equal(r.body.error.field, 'name', name);
    }
    assert.deepEqual((await d.client.deploymentLoras({ params: { name: 'qwen' } })).loras.map((l) => l.name), ['pirate'], 'nothing refused was stored');
  });

  it("passes the engine's own refusal on in Berth's envelope, naming the field", async () => {
    // Loaded behind Berth's back, straight on the engine's port: vLLM refuses the name twice.
    const status = await d.client.getDeployment({ params: { name: 'qwen' } });
    const path = adapterDir(root, 'direct');
    const direct = await fetch(`http://127.0.0.1:${readyPort(status)}/v1/load_lora_adapter`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lora_name: 'direct', lora_path: path }),
    });
    assert.equal(direct.status, 200);
    const r = await d.api<ErrorBody>('POST', '/api/v1/deployments/qwen/loras', { name: 'direct', path });
    assert.equal(r.status, 409);
    assert.deepEqual(r.body.error, {
      code: 'adapter_exists',
      field: 'name',
      message: "vllm 0.9.0.1 refused to load adapter direct: The lora adapter 'direct' has already been loaded.",
    });
    assert.deepEqual((await d.client.deploymentLoras({ params: { name: 'qwen' } })).loras.map((l) => l.name), ['pirate']);
  });

  it('loads the adapters again into a restarted engine', async () => {
    await d.client.restartDeployment({ params: { name: 'qwen' } });
    const ready = await deploymentWhen(d, 'qwen');
    assert.ok((await engineModels(readyPort(ready))).some((m) => m.id === 'pirate'), 'a fresh engine has it before it counts as ready');
    assert.deepEqual(await chat(d, 'pirate'), { status: 200, model: 'pirate' });
  });

  it('unloads an adapter: gone from the engine, /v1/models and the list', async () => {
    const removed = await d.client.removeLora({ params: { name: 'qwen', adapter: 'pirate' } });
    assert.equal(removed.message, 'adapter pirate removed from qwen');
    assert.deepEqual(removed.loras, []);
    const status = await d.client.getDeployment({ params: { name: 'qwen' } });
    assert.ok(!(await engineModels(readyPort(status))).some((m) => m.id === 'pirate'));
    const models = (await (await fetch(`${d.url}/v1/models`)).json()) as { data: { id: string }[] };
    assert.ok(!models.data.some((m) => m.id === 'pirate'));
    assert.equal((await chat(d, 'pirate')).status, 404);
    const again = await d.api<ErrorBody>('DELETE', '/api/v1/deployments/qwen/loras/pirate');
    assert.equal(again.status, 404);
    assert.equal(again.body.error.code, 'adapter_not_found');
  });

  it('refuses more adapters than --max-loras, naming the limit', async () => {
    await d.client.createDeployment({ body: { name: 'one', modelId: QWEN, backend: 'vllm', backendArgs: ['--max-loras', '1'] } });
    await deploymentWhen(d, 'one');
    await d.client.addLora({ params: { name: 'one' }, body: { name: 'first', path: adapterDir(root, 'first') } });
    const over = await d.api<ErrorBody>('POST', '/api/v1/deployments/one/loras', { name: 'second', path: adapterDir(root, 'second') });
    assert.equal(over.status, 400);
    assert.equal(over.body.error.code, 'too_many_adapters');
    assert.equal(over.body.error.field, 'loras');
    assert.match(over.body.error.message, /at most 1 LoRA adapter \(--max-loras 1, from backendArgs\)/);
    const status = await d.client.getDeployment({ params: { name: 'one' } });
    assert.deepEqual((await engineModels(readyPort(status))).filter((m) => m.parent).map((m) => m.id), ['first']);
  });

  it("is refused by an engine started without VLLM_ALLOW_RUNTIME_LORA_UPDATING (Berth's default sets it)", async () => {
    await d.client.createDeployment({ body: { name: 'nolora', modelId: QWEN, backend: 'vllm', env: { VLLM_ALLOW_RUNTIME_LORA_UPDATING: 'false' } } });
    await deploymentWhen(d, 'nolora');
    const r = await d.api<ErrorBody>('POST', '/api/v1/deployments/nolora/loras', { name: 'x', path: adapterDir(root, 'x') });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'lora_runtime_disabled');
    assert.equal(r.body.error.field, 'env.VLLM_ALLOW_RUNTIME_LORA_UPDATING');
    assert.match(r.body.error.message, /started with it set to "false" by the deployment's env/);
    assert.deepEqual((await d.client.deploymentLoras({ params: { name: 'nolora' } })).loras, []);
  });

  it('loads the adapters of a sleeping deployment when a request wakes it', async () => {
    await d.client.createDeployment({ body: { name: 'nap', modelId: QWEN, backend: 'vllm', scale: { min: 0, max: 1 } } });
    const added = await d.client.addLora({ params: { name: 'nap' }, body: { name: 'nap-lora', path: adapterDir(root, 'nap-lora') } });
    assert.equal(added.message, 'adapter nap-lora added to nap: loads when a replica starts');
    assert.deepEqual(added.loras[0]!.loadedOn, []);
    assert.deepEqual(await chat(d, 'nap-lora'), { status: 200, model: 'nap-lora' });
  });

  it('keeps the adapters across a daemon restart and loads them into the restored engine', async () => {
    const path = adapterDir(root, 'kept');
    await d.client.addLora({ params: { name: 'qwen' }, body: { name: 'kept', path } });
    await d.stop();
    d = await startTestDaemon({ machine: 'h100x8', home });
    const ready = await deploymentWhen(d, 'qwen');
    assert.deepEqual(ready.spec.loras, [{ name: 'kept', path }]);
    assert.ok((await engineModels(readyPort(ready))).some((m) => m.id === 'kept'));
    assert.deepEqual(await chat(d, 'kept'), { status: 200, model: 'kept' });
    const list = await d.client.deploymentLoras({ params: { name: 'qwen' } });
    assert.deepEqual(list.loras[0]!.loadedOn, [ready.replicas[0]!.id]);
  });
});

describe('LoRA adapters on SGLang 0.4.6 (launch only)', () => {
  let d: TestDaemon;
  let root: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'berth-lora-'));
    d = await startTestDaemon({ machine: 'h100x8' });
    await d.client.createDeployment({ body: { name: 'sg', modelId: QWEN, backend: 'sglang' } });
    await deploymentWhen(d, 'sg');
  });
  after(async () => {
    await d.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('adding an adapter is a planned restart with --lora-paths and the companion flags', async () => {
    const before = await d.client.getDeployment({ params: { name: 'sg' } });
    const path = adapterDir(root, 'sql');
    const added: LoraChange = await d.client.addLora({ params: { name: 'sg' }, body: { name: 'sql', path } });
    assert.equal(added.restart, true);
    assert.equal(added.runtime, false);
    assert.equal(added.message, 'adapter sql added to sg: sglang 0.4.6 takes adapters only at launch, so sg is restarting with the new --lora-paths');
    const ready = await deploymentWhen(d, 'sg', (s) => s.state === 'ready' && s.replicas[0]!.id !== before.replicas[0]!.id, 'sg restarted');
    const state = (await (await fetch(`http://127.0.0.1:${readyPort(ready)}/fake/state`)).json()) as { argv: string[] };
    const i = state.argv.indexOf('--lora-paths');
    assert.deepEqual(state.argv.slice(i, i + 4), ['--lora-paths', `sql=${path}`, '--disable-radix-cache', '--disable-cuda-graph']);
    assert.deepEqual(await chat(d, 'sql'), { status: 200, model: 'sql' });
    const list: LoraList = await d.client.deploymentLoras({ params: { name: 'sg' } });
    assert.deepEqual(list.loras, [{ name: 'sql', path, loadedOn: [ready.replicas[0]!.id], error: null }]);
  });

  it('refuses adapters in loras when backendArgs already pass --lora-paths', async () => {
    const r = await d.api<ErrorBody>('POST', '/api/v1/deployments', {
      name: 'both', modelId: QWEN, backend: 'sglang', backendArgs: ['--lora-paths', 'a=/a', '--disable-radix-cache', '--disable-cuda-graph'],
      loras: [{ name: 'b', path: adapterDir(root, 'b') }],
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.field, 'loras');
  });
});

describe('berth lora', () => {
  let d: TestDaemon;
  let root: string;
  let env: Record<string, string>;
  const berth = (args: string[], cwd?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(REPO, 'bin/berth.mjs'), ...args], { env, cwd, timeout: SAFETY_MS }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'berth-lora-'));
    d = await startTestDaemon({ machine: 'h100x8' });
    env = { ...testEnv(d.home, 'h100x8'), BERTH_PORT: new URL(d.url).port };
    await d.client.createDeployment({ body: { name: 'qwen', modelId: QWEN, backend: 'vllm' } });
    await deploymentWhen(d, 'qwen');
  });
  after(async () => {
    await d.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('adds an adapter by a path relative to the shell, lists it, removes it', async () => {
    adapterDir(root, 'sql');
    const add = await berth(['lora', 'add', 'qwen', 'sql', './sql'], root);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, 'adapter sql added to qwen: loaded into 1 ready replica\n');
    const ls = await berth(['lora', 'ls', 'qwen']);
    const replica = (await d.client.getDeployment({ params: { name: 'qwen' } })).replicas[0]!.id;
    assert.match(ls.stdout, new RegExp(`^ADAPTER +PATH +LOADED ON +ERROR\nsql +${join(root, 'sql')} +${replica} +-\nat most 16 adapters`));
    const missing = await berth(['lora', 'add', 'qwen', 'ghost', join(root, 'ghost')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^berth lora: path: .*ghost does not exist on this machine/);
    const rm = await berth(['lora', 'rm', 'qwen', 'sql']);
    assert.equal(rm.stdout, 'adapter sql removed from qwen\n');
    assert.deepEqual((await d.client.deploymentLoras({ params: { name: 'qwen' } })).loras, []);
    await waitFor(async () => (await chat(d, 'sql')).status === 404, 'sql gone from the gateway');
  });
});
