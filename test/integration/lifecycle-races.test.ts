// A stop or a delete that arrives while a deployment is still coming up must
// never leave an engine running, and a create → delete → create of one name
// must end with exactly one engine. Through the real daemon, the real pty
// launcher and the fake engine (a long FAKE_START_DELAY_MS keeps it loading).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import { groupMembers, isAlive } from '../../daemon/state/proc.js';
import { deploymentWhen, startTestDaemon, waitFor, type TestDaemon } from '../helpers/daemon.js';

/** Long enough that the engine is still loading whenever the test acts on it. */
const LOADING = { FAKE_START_DELAY_MS: '120000' };

/**
 * Pids of live processes whose argv serves `name` (the engine gets
 * `--served-model-name <name>`), found from /proc rather than from the daemon:
 * an engine the daemon lost track of is exactly what these tests look for.
 */
function enginesServing(name: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited while we looked
    }
    const at = argv.indexOf('--served-model-name');
    if (at !== -1 && argv[at + 1] === name && isAlive(Number(entry))) out.push(Number(entry));
  }
  return out;
}

function recordedPids(d: TestDaemon, name: string): number[] {
  let text: string;
  try {
    text = readFileSync(join(d.home, 'processes.json'), 'utf8');
  } catch {
    return [];
  }
  const file = JSON.parse(text) as { processes: { deployment: string; pid: number }[] };
  return file.processes.filter((p) => p.deployment === name).map((p) => p.pid);
}

function storedNames(d: TestDaemon): string[] {
  const file = JSON.parse(readFileSync(join(d.home, 'deployments.json'), 'utf8')) as { deployments: { spec: { name: string } }[] };
  return file.deployments.map((x) => x.spec.name);
}

const unique = (stem: string) => `${stem}-${process.pid}-${Math.floor(Math.random() * 1e6)}`;

const spec = (name: string, env: Record<string, string> = LOADING) => ({ name, modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', env });

/**
 * Asks without pause until the deployment exists, so the next request lands
 * while the create's launch is still in flight: a fresh daemon's first launch
 * spends hundreds of milliseconds asking nvidia-smi for the GPUs.
 */
async function whenListed(d: TestDaemon, name: string, create: Promise<unknown>): Promise<void> {
  let settled = false;
  void create.finally(() => (settled = true));
  while (!settled && (await d.api('GET', `/api/v1/deployments/${name}`)).status !== 200);
}

describe('stop and delete while the engine loads', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
  });
  after(() => d.stop());

  it('a stop while the engine loads kills it and its process group', async () => {
    const name = unique('stop-loading');
    const created = await d.api<DeploymentStatus>('POST', '/api/v1/deployments', spec(name, { ...LOADING, FAKE_SPAWN_CHILD: '1' }));
    assert.equal(created.status, 201);
    const loading = await deploymentWhen(d, name, (s) => s.state === 'starting' && s.replicas[0]?.pid != null, `${name} loading`);
    const pid = loading.replicas[0]!.pid!;
    await waitFor(() => recordedPids(d, name).includes(pid), 'the engine pid in processes.json');

    const stopped = await d.api<DeploymentStatus>('POST', `/api/v1/deployments/${name}/stop`);
    assert.equal(stopped.status, 200);
    assert.equal(stopped.body.desired, 'stopped');
    assert.equal(stopped.body.state, 'stopped');
    assert.equal(isAlive(pid), false);
    assert.deepEqual(groupMembers(pid), [], 'no child of the engine is left behind');
    assert.deepEqual(enginesServing(name), []);
    assert.deepEqual(recordedPids(d, name), []);
  });

  it('a delete while the engine loads kills it and forgets the deployment', async () => {
    const name = unique('delete-loading');
    assert.equal((await d.api('POST', '/api/v1/deployments', spec(name))).status, 201);
    const loading = await deploymentWhen(d, name, (s) => s.state === 'starting' && s.replicas[0]?.pid != null, `${name} loading`);
    const pid = loading.replicas[0]!.pid!;

    assert.equal((await d.api('DELETE', `/api/v1/deployments/${name}`)).status, 204);
    assert.equal((await d.api('GET', `/api/v1/deployments/${name}`)).status, 404);
    assert.equal(isAlive(pid), false);
    assert.deepEqual(enginesServing(name), []);
    assert.deepEqual(recordedPids(d, name), []);
    assert.ok(!storedNames(d).includes(name));
  });
});

describe('stop and delete while the create is still launching', () => {
  // A fresh daemon per test: its inventory cache is cold, so the launch is slow enough to be caught.
  let d: TestDaemon;
  beforeEach(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
  });
  afterEach(() => d.stop());

  it('a stop that arrives while the create is still launching leaves no engine', async () => {
    const name = unique('stop-launching');
    const create = d.api<DeploymentStatus>('POST', '/api/v1/deployments', spec(name));
    await whenListed(d, name, create);
    const stopped = await d.api<DeploymentStatus>('POST', `/api/v1/deployments/${name}/stop`);
    assert.equal((await create).status, 201);
    assert.equal(stopped.status, 200);
    assert.equal(stopped.body.state, 'stopped');
    assert.ok(stopped.body.replicas.every((r) => r.pid === null && r.state === 'stopped'), JSON.stringify(stopped.body.replicas));
    assert.deepEqual(enginesServing(name), []);
    assert.deepEqual(recordedPids(d, name), []);
    // And it stays stopped: nothing launched behind the stop.
    const later = await d.api<DeploymentStatus>('GET', `/api/v1/deployments/${name}`);
    assert.equal(later.body.desired, 'stopped');
    assert.ok(later.body.replicas.every((r) => r.pid === null && r.state === 'stopped'), JSON.stringify(later.body.replicas));
    assert.deepEqual(enginesServing(name), []);
  });

  it('a delete that arrives while the create is still launching leaves no engine', async () => {
    const name = unique('delete-launching');
    const create = d.api('POST', '/api/v1/deployments', spec(name));
    await whenListed(d, name, create);
    const deleted = await d.api('DELETE', `/api/v1/deployments/${name}`);
    assert.equal(deleted.status, 204);
    // The create either won (201, then the delete stopped its engine) or
    // found the deployment deleted before it started anything (409).
    assert.ok([201, 409].includes((await create).status));
    assert.equal((await d.api('GET', `/api/v1/deployments/${name}`)).status, 404);
    assert.deepEqual(enginesServing(name), []);
    assert.deepEqual(recordedPids(d, name), []);
    assert.ok(!storedNames(d).includes(name));
  });

  it('create → delete → create of one name ends with exactly one engine, the second one', async () => {
    const name = unique('recreate');
    const first = d.api('POST', '/api/v1/deployments', spec(name));
    await whenListed(d, name, first);
    const deleted = d.api('DELETE', `/api/v1/deployments/${name}`);
    // The delete takes the name at once; the new deployment queues behind the old one's removal.
    await waitFor(async () => (await d.api('GET', `/api/v1/deployments/${name}`)).status === 404, `${name} gone`);
    const second = await d.api<DeploymentStatus>('POST', '/api/v1/deployments', spec(name, {}));
    assert.equal(second.status, 201);
    assert.equal((await deleted).status, 204);
    assert.ok([201, 409].includes((await first).status));

    const ready = await deploymentWhen(d, name);
    assert.equal(ready.replicas.length, 1);
    const pid = ready.replicas[0]!.pid!;
    assert.deepEqual(enginesServing(name), [pid]);
    await waitFor(() => recordedPids(d, name).includes(pid), 'the engine pid in processes.json');
    assert.deepEqual(recordedPids(d, name), [pid]);
    assert.ok(storedNames(d).includes(name), 'the old deployment\'s delete did not erase the new one');

    assert.equal((await d.api('DELETE', `/api/v1/deployments/${name}`)).status, 204);
    assert.deepEqual(enginesServing(name), []);
  });
});
