// The fake Docker refuses what dockerd refuses, so the daemon's handling of
// those refusals is tested against the real answers' shape.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ContainerCreateBody } from '../../daemon/contract/api.js';
import { createDockerApi, DockerApiError, type DockerApi } from '../../daemon/launchers/docker/engine-api.js';
import { startFakeDocker, VLLM_IMAGE, type FakeDocker } from '../fakes/docker/server.js';
import { randomPortBase } from '../helpers/daemon.js';
import { rejection } from '../helpers/refusal.js';

const body = (port: number, image = VLLM_IMAGE): ContainerCreateBody => ({
  Image: image, Entrypoint: null, Cmd: ['--model', 'a/b', '--host', '0.0.0.0', '--port', String(port)], Env: [], Tty: true, Labels: {}, ExposedPorts: {},
  HostConfig: { Binds: [], PortBindings: { [`${port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] }, IpcMode: 'host', Init: true, RestartPolicy: { Name: 'no' }, DeviceRequests: [] },
});

const refusal = (p: Promise<unknown>) => rejection(p, DockerApiError);

describe('fake docker', () => {
  let docker: FakeDocker;
  let api: DockerApi;
  before(async () => {
    docker = await startFakeDocker({ images: [VLLM_IMAGE] });
    api = createDockerApi(docker.socketPath);
  });
  after(() => docker.close());

  it('refuses a name in use, a missing image, and a port another container publishes', async () => {
    const port = randomPortBase() + 98;
    const { Id } = await api.json<{ Id: string }>('POST', '/containers/create?name=one', body(port));
    const taken = await refusal(api.json('POST', '/containers/create?name=one', body(port)));
    assert.equal(taken.status, 409);
    assert.match(taken.message, /The container name "\/one" is already in use/);
    const missing = await refusal(api.json('POST', '/containers/create?name=two', body(port, 'lmsysorg/sglang:v0.4.6-cu124')));
    assert.equal(missing.status, 404);
    assert.match(missing.message, /No such image/);
    await api.json('POST', `/containers/${Id}/start`);
    const { Id: other } = await api.json<{ Id: string }>('POST', '/containers/create?name=three', body(port));
    const clash = await refusal(api.json('POST', `/containers/${other}/start`));
    assert.equal(clash.status, 500);
    assert.match(clash.message, /port is already allocated/);
    const running = await refusal(api.json('DELETE', `/containers/${Id}`));
    assert.equal(running.status, 409, 'a running container is removed only with force');
    await api.json('DELETE', `/containers/${Id}?force=1`);
    await api.json('DELETE', `/containers/${other}?force=1`);
    assert.deepEqual(docker.containers(), []);
  });
});
