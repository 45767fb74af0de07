// The pure decisions behind container mode: pull progress and its failures,
// exit statuses, where Docker is, Docker's refusals, and mode auto.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exitFromStatus, topPids } from '../../daemon/launchers/docker/container-launcher.js';
import { dockerEndpoint } from '../../daemon/launchers/docker/engine-api.js';
import { explainDockerError } from '../../daemon/launchers/docker/errors.js';
import { gpuSupport } from '../../daemon/launchers/docker/probe.js';
import { explainPullFailure, PullTally, splitReference } from '../../daemon/launchers/docker/pull.js';
import { chooseMode, type ModeFacts } from '../../daemon/launchers/mode.js';

describe('pull progress', () => {
  it('sums the layers whose size is known; extraction counts as downloaded', () => {
    const t = new PullTally('img:1');
    assert.equal(t.add({ status: 'Pulling from img', id: '1' }), false, 'the tag line is no layer');
    t.add({ status: 'Pulling fs layer', id: 'a' });
    t.add({ status: 'Pulling fs layer', id: 'b' });
    assert.deepEqual(t.progress(), { image: 'img:1', completedBytes: 0, totalBytes: null, percent: null });
    t.add({ status: 'Downloading', id: 'a', progressDetail: { current: 50, total: 100 } });
    assert.deepEqual(t.progress(), { image: 'img:1', completedBytes: 50, totalBytes: 100, percent: 50 });
    t.add({ status: 'Downloading', id: 'b', progressDetail: { current: 100, total: 300 } });
    assert.equal(t.progress().percent, 37);
    t.add({ status: 'Extracting', id: 'a', progressDetail: { current: 10, total: 100 } });
    t.add({ status: 'Pull complete', id: 'b' });
    assert.deepEqual(t.progress(), { image: 'img:1', completedBytes: 400, totalBytes: 400, percent: 100 });
  });

  it('says why a pull failed in plain words, keeping Docker\'s message', () => {
    assert.match(explainPullFailure('x:1', 'manifest for x:1 not found: manifest unknown: manifest unknown'), /^cannot pull x:1: no such tag in the registry \(manifest for/);
    assert.match(explainPullFailure('p/x:1', "pull access denied for p/x, repository does not exist or may require 'docker login': denied"), /access denied: .*docker login/);
    assert.match(explainPullFailure('x:1', 'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host'), /the registry cannot be reached/);
    assert.match(explainPullFailure('x:1', 'something new'), /Docker could not pull it \(something new\)/);
  });

  it('splits references as POST /images/create takes them', () => {
    assert.deepEqual(splitReference('vllm/vllm-openai:v0.9.0.1'), { fromImage: 'vllm/vllm-openai', tag: 'v0.9.0.1' });
    assert.deepEqual(splitReference('localhost:5000/me/vllm'), { fromImage: 'localhost:5000/me/vllm', tag: 'latest' });
    assert.deepEqual(splitReference(`me/vllm@sha256:${'a'.repeat(64)}`), { fromImage: 'me/vllm', tag: `sha256:${'a'.repeat(64)}` });
  });
});

describe('containers', () => {
  it('reads docker-init\'s 128+n as death by signal n', () => {
    assert.deepEqual(exitFromStatus(0), { code: 0, signal: null });
    assert.deepEqual(exitFromStatus(1), { code: 1, signal: null });
    assert.deepEqual(exitFromStatus(137), { code: null, signal: 'SIGKILL' });
    assert.deepEqual(exitFromStatus(143), { code: null, signal: 'SIGTERM' });
  });

  it('takes the host pids from top\'s PID column', () => {
    assert.deepEqual(topPids({ Titles: ['UID', 'PID', 'PPID', 'CMD'], Processes: [['root', '4242', '1', 'python3'], ['root', '4250', '4242', 'python3']] }), [4242, 4250]);
    assert.deepEqual(topPids(null), []);
  });

  it('finds Docker where its CLI would, the setting first, and refuses a remote daemon', () => {
    assert.deepEqual(dockerEndpoint('docker', {}), { ok: true, socketPath: '/var/run/docker.sock', from: 'the default socket' });
    assert.deepEqual(dockerEndpoint('docker', { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }), { ok: true, socketPath: '/run/user/1000/docker.sock', from: 'DOCKER_HOST' });
    assert.deepEqual(dockerEndpoint('/run/podman/podman.sock', { DOCKER_HOST: 'unix:///x' }), { ok: true, socketPath: '/run/podman/podman.sock', from: 'the docker setting (BERTH_DOCKER)' });
    const remote = dockerEndpoint('docker', { DOCKER_HOST: 'tcp://gpu-box:2376' });
    assert.equal(remote.ok, false);
  });

  it('maps the toolkit-missing refusal to its one-line fix', () => {
    assert.match(explainDockerError('could not select device driver "" with capabilities: [[gpu]]'), /sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker/);
    assert.match(explainDockerError('driver failed programming external connectivity on endpoint x: Bind for 127.0.0.1:30000 failed: port is already allocated'), /engine port is already taken/);
  });

  it('sees GPU support in the nvidia runtime or an nvidia CDI device', () => {
    assert.equal(gpuSupport({ Runtimes: { runc: {}, nvidia: {} } }).ok, true);
    assert.equal(gpuSupport({ Runtimes: { runc: {} }, DiscoveredDevices: [{ Source: 'cdi', ID: 'nvidia.com/gpu=0' }] }).ok, true);
    assert.equal(gpuSupport({ Runtimes: { runc: {} } }).ok, false);
  });
});

describe('mode auto', () => {
  const facts = (over: Partial<ModeFacts>): ModeFacts => ({
    backend: 'vllm', python: '/v/bin/python', engineInstalled: false, needsGpu: true,
    docker: { reachable: true, error: null, gpu: { ok: true, detail: 'the nvidia runtime is registered' } }, ...over,
  });
  it('keeps an explicit mode', () => {
    assert.deepEqual(chooseMode('container', null), { mode: 'container', reason: null });
    assert.deepEqual(chooseMode('process', null), { mode: 'process', reason: null });
  });
  it('a container only when the engine is missing and Docker can run it', () => {
    assert.equal(chooseMode('auto', facts({})).mode, 'container');
    assert.equal(chooseMode('auto', facts({ engineInstalled: true })).mode, 'process');
    assert.equal(chooseMode('auto', facts({ docker: { reachable: false, error: 'ENOENT', gpu: { ok: false, detail: '' } } })).mode, 'process');
    assert.equal(chooseMode('auto', facts({ docker: { reachable: true, error: null, gpu: { ok: false, detail: 'no runtime' } } })).mode, 'process');
    assert.equal(chooseMode('auto', facts({ needsGpu: false, docker: { reachable: true, error: null, gpu: { ok: false, detail: 'no runtime' } } })).mode, 'container', 'no GPU asked, none needed');
  });
});
