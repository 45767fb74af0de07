// Daemon start: containers this state dir's daemon left behind are removed
// before anything starts; other daemons' and other people's are left alone.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createDockerApi } from '../../daemon/launchers/docker/engine-api.js';
import { isAlive } from '../../daemon/state/proc.js';
import { startFakeDocker, VLLM_IMAGE, type FakeDocker } from '../fakes/docker/server.js';
import { deploymentWhen, randomPortBase, startTestDaemon, tempHome, waitFor, type TestDaemon } from '../helpers/daemon.js';

describe('container reaping', () => {
  let docker: FakeDocker;
  let d: TestDaemon | null = null;
  after(async () => {
    await d?.stop();
    await docker?.close();
  });

  it('removes this state dir\'s leftover containers before launching anything', async () => {
    docker = await startFakeDocker();
    const api = createDockerApi(docker.socketPath);
    const home = tempHome();
    const port = randomPortBase() + 99;
    const leftover = async (name: string, labels: Record<string, string>, p: number) => {
      const { Id } = await api.json<{ Id: string }>('POST', `/containers/create?name=${name}`, {
        Image: VLLM_IMAGE, Entrypoint: null, Cmd: ['--model', 'a/b', '--host', '0.0.0.0', '--port', String(p)], Env: [], Tty: true, Labels: labels,
        ExposedPorts: {}, HostConfig: { Binds: [], PortBindings: { [`${p}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(p) }] }, IpcMode: 'host', Init: true, RestartPolicy: { Name: 'no' }, DeviceRequests: [] },
      });
      await api.json('POST', `/containers/${Id}/start`);
      return Id;
    };
    const ours = await leftover('berth-old-0-lost', { 'berth.managed': 'true', 'berth.state-dir': home, 'berth.deployment': 'old', 'berth.replica': 'old-0' }, port);
    const theirs = await leftover('berth-other-0', { 'berth.managed': 'true', 'berth.state-dir': '/home/someone/else', 'berth.deployment': 'other', 'berth.replica': 'other-0' }, port - 1);
    const stranger = await leftover('postgres', {}, port - 2);
    const oursPid = docker.containers().find((c) => c.id === ours)!.pid!;
    await waitFor(() => isAlive(oursPid), 'the leftover engine to run');

    const before = docker.calls.length;
    d = await startTestDaemon({ home, settings: { docker: `unix://${docker.socketPath}` } });
    // startDaemon returns after init, which reaps before it lets anything launch.
    assert.deepEqual(docker.containers().map((c) => c.id).sort(), [theirs, stranger].sort());
    await waitFor(() => !isAlive(oursPid), 'the leftover engine to be gone');

    await d.api('POST', '/api/v1/deployments', { name: 'after', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', mode: 'container' });
    await deploymentWhen(d, 'after');
    const order = docker.calls.slice(before).map((c) => `${c.method} ${c.path}`);
    const removed = order.indexOf(`DELETE /containers/${ours}`);
    const firstCreate = order.indexOf('POST /containers/create');
    assert.ok(removed >= 0 && removed < firstCreate, order.join('\n'));
    await d.api('DELETE', '/api/v1/deployments/after');
  });
});
