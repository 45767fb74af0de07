// The `docker run` line `berth plan` prints is the container Berth creates:
// the real docker CLI, pointed at the fake Engine, sends a create body whose
// every field Berth sets equals Berth's own (secrets with the values the CLI
// read from its environment by name). Needs the docker CLI, not a Docker daemon.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { normalizeDeployment } from '../../daemon/config/deployment.js';
import { replicaPlan } from '../../daemon/supervisor/plan-preview.js';
import { startFakeDocker, type FakeDocker } from '../fakes/docker/server.js';

const hasCli = spawnSync('docker', ['--version'], { stdio: 'ignore' }).status === 0;

/** Every member of `want` is in `got` with the same value (arrays by position). */
function assertSubset(got: unknown, want: unknown, at = 'body'): void {
  if (want === null || typeof want !== 'object') return assert.deepEqual(got, want, at);
  assert.ok(got !== null && typeof got === 'object', `${at}: missing`);
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got) && got.length === want.length, `${at}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
    want.forEach((w, i) => assertSubset((got as unknown[])[i], w, `${at}[${i}]`));
    return;
  }
  for (const [k, w] of Object.entries(want)) assertSubset((got as Record<string, unknown>)[k], w, `${at}.${k}`);
}

describe(hasCli ? 'the docker run line' : 'the docker run line (skipped: no docker CLI on this machine)', { skip: !hasCli }, () => {
  let docker: FakeDocker;
  before(async () => {
    docker = await startFakeDocker();
  });
  after(() => docker.close());

  for (const [backend, gpus] of [['vllm', [4, 6]], ['sglang', [1]]] as const) {
    it(`creates the same ${backend} container as Berth`, async () => {
      const d = normalizeDeployment({ name: backend, modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend, mode: 'container', resource: { gpu: { count: gpus.length } }, env: { HF_TOKEN: 'hf_by_name' } });
      const p = replicaPlan({
        deployment: d, gpus: [...gpus], port: 30001, replica: `${backend}-0`, choice: { mode: 'container', reason: null },
        ctx: { interpreters: { vllmPython: 'python3', sglangPython: 'python3' }, stateDir: '/state', env: { HOME: '/home/ada' }, cwd: '/' },
      });
      const c = p.container!;
      // `docker create` is `docker run` without the start: --detach is run's alone.
      const args = ['create', ...c.dockerRun.slice(2).filter((a) => a !== '--detach')];
      const before = docker.calls.length;
      const err = await new Promise<string | null>((resolve) =>
        execFile('docker', args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', DOCKER_HOST: `unix://${docker.socketPath}`, HF_TOKEN: 'hf_by_name' }, timeout: 30_000 }, (e, _o, se) => resolve(e ? `${e.message} ${se}` : null)),
      );
      assert.equal(err, null);
      const call = docker.calls.slice(before).find((x) => x.method === 'POST' && x.path === '/containers/create')!;
      assert.equal(call.query.name, c.name);
      const { Env, ...rest } = c.create;
      assertSubset(call.body, rest);
      // The order of variables means nothing to a process; the CLI keeps its own.
      assert.deepEqual([...(call.body as { Env: string[] }).Env].sort(), [...Env, 'HF_TOKEN=hf_by_name'].sort());
      await new Promise((r) => execFile('docker', ['rm', '-f', c.name], { env: { PATH: process.env.PATH ?? '', DOCKER_HOST: `unix://${docker.socketPath}` } }, r));
    });
  }
});
