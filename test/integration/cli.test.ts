// The `berth` command as a user runs it: a separate process talking to the daemon.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DeploymentStatus, LaunchPlan } from '../../daemon/contract/api.js';
import { deploymentWhen, REPO, startTestDaemon, tempHome, testEnv, type TestDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/process.js';

function berth(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO, 'bin/berth.mjs'), ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('berth CLI', () => {
  let d: TestDaemon;
  let env: Record<string, string>;
  before(async () => {
    d = await startTestDaemon({ machine: 'ws-4080s-2080s' });
    env = { ...testEnv(d.home, 'ws-4080s-2080s'), BERTH_PORT: new URL(d.url).port };
  });
  after(() => d.stop());

  it('prints the launch plan without a daemon', async () => {
    const home = tempHome();
    const spec = join(home, 'spec.json');
    writeFileSync(spec, JSON.stringify({ name: 'tp2', modelId: 'Qwen/Qwen2.5-7B-Instruct', backend: 'vllm', resource: { gpu: { count: 2 } } }));
    const r = await berth(['plan', '-f', spec, '--json'], { ...testEnv(home, 'ws-4080s-2080s'), BERTH_PORT: String(await freePort()) });
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as LaunchPlan;
    assert.deepEqual(plan.gpus, [0, 1]);
    assert.deepEqual(plan.argv.slice(plan.argv.indexOf('--tensor-parallel-size'), plan.argv.indexOf('--tensor-parallel-size') + 2), ['--tensor-parallel-size', '2']);
    const human = await berth(['plan', '-f', spec], testEnv(home, 'ws-4080s-2080s'));
    assert.match(human.stdout, /command: +\S+python -m vllm\.entrypoints\.openai\.api_server --model Qwen\/Qwen2\.5-7B-Instruct/);
  });

  it('shows GPUs as a table', async () => {
    const r = await berth(['gpus'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /NVIDIA GeForce RTX 4080 SUPER/);
    assert.match(r.stdout, /NVIDIA GeForce RTX 2080 SUPER/);
  });

  it('deploys, lists, shows logs, stops and removes', async () => {
    const deployed = await berth(['deploy', 'tiny', 'Qwen/Qwen2.5-0.5B-Instruct', '--gpus', '1', '--json'], env);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.equal((JSON.parse(deployed.stdout) as DeploymentStatus).name, 'tiny');
    await deploymentWhen(d, 'tiny');
    const ps = await berth(['ps'], env);
    assert.match(ps.stdout, /^NAME +BACKEND/m);
    assert.match(ps.stdout, /tiny +vllm 0\.9\.0\.1 +Qwen\/Qwen2\.5-0\.5B-Instruct +ready/);
    const logs = await berth(['logs', 'tiny', '-n', '200'], env);
    assert.match(logs.stdout, /Application startup complete\./);
    assert.equal((await berth(['stop', 'tiny'], env)).code, 0);
    const rm = await berth(['rm', 'tiny'], env);
    assert.equal(rm.stdout.trim(), 'removed tiny');
    const gone = await berth(['stop', 'tiny'], env);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr.trim(), 'berth stop: deployment tiny does not exist');
  });

  it('fails with one line and a non-zero exit', async () => {
    const usage = await berth(['deploy', 'x', 'y/z', '--gpu', '2'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^berth deploy: Unknown option '--gpu'/);
    const down = await berth(['ps'], { ...env, BERTH_PORT: String(await freePort()) });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^berth ps: berth daemon is not running at http:\/\/127\.0\.0\.1:\d+ \(start it with: berth serve\)\n$/);
    assert.equal((await berth(['frobnicate'], env)).code, 2);
  });
});
