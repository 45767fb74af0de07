// `kill -9` of the daemon, then a new daemon: the engine the first one left is
// reaped (never a recycled pid) and the deployment comes back.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import { groupMembers, isAlive } from '../../daemon/state/proc.js';
import { randomPortBase, tempHome, testEnv, waitFor } from '../helpers/daemon.js';
import { freePort, spawnDaemon, type DaemonProcess } from '../helpers/process.js';

async function get(url: string, name: string): Promise<DeploymentStatus> {
  return (await (await fetch(`${url}/api/v1/deployments/${name}`)).json()) as DeploymentStatus;
}

describe('daemon restart', () => {
  const daemons: DaemonProcess[] = [];
  after(() => {
    for (const d of daemons) d.child.kill('SIGKILL');
  });

  it('a new daemon after kill -9 leaves no orphan and restores the deployment', async () => {
    const home = tempHome();
    const env = testEnv(home, 'h100x8', { BERTH_ENGINE_PORT_BASE: String(randomPortBase()), BERTH_STOP_GRACE_MS: '2000' });
    const first = await spawnDaemon(env, await freePort());
    daemons.push(first);
    const created = await fetch(`${first.url}/api/v1/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // The engine survives the pty hang-up, like a Python process that handles SIGHUP would.
      body: JSON.stringify({ name: 'keep', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', env: { FAKE_IGNORE_SIGHUP: '1', FAKE_SPAWN_CHILD: '1' } }),
    });
    assert.equal(created.status, 201);
    const ready = await waitFor(async () => {
      const s = await get(first.url, 'keep');
      return s.state === 'ready' ? s : null;
    }, 'engine ready');
    const oldPid = ready.replicas[0]!.pid!;
    const members = groupMembers(oldPid);
    assert.ok(members.length >= 2);

    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    assert.equal(isAlive(oldPid), true, 'the engine outlived its daemon (the orphan a new daemon must reap)');

    const second = await spawnDaemon(env, await freePort());
    daemons.push(second);
    for (const pid of members) assert.equal(isAlive(pid), false, `pid ${pid} of the old engine group was reaped`);
    // The daemon listens before it restores (nvidia-smi, port probes, the
    // engine's start all come after), so this wait holds all of that.
    const restored = await waitFor(async () => {
      const s = await get(second.url, 'keep');
      return s.state === 'ready' ? s : null;
    }, 'deployment restored', 40_000);
    assert.notEqual(restored.replicas[0]!.pid, oldPid);
    assert.equal(restored.desired, 'running');

    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
    assert.deepEqual(groupMembers(restored.replicas[0]!.pid!), [], 'SIGTERM to the daemon stops its engines');
  });
});
