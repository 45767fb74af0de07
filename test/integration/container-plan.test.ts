// `berth plan` for a container deployment, without a daemon: the container
// spec and the docker run line a user could paste, the token by name only.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LaunchPlan } from '../../daemon/contract/api.js';
import { REPO, tempHome, testEnv } from '../helpers/daemon.js';
import { freePort } from '../helpers/process.js';

function berth(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO, 'bin/berth.mjs'), ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('berth plan, container mode', () => {
  it('shows the container spec and the docker run line, secrets by name', async () => {
    const home = tempHome();
    const spec = join(home, 'spec.json');
    writeFileSync(spec, JSON.stringify({ name: 'sg', modelId: 'Qwen/Qwen2.5-7B-Instruct', backend: 'sglang', mode: 'container', resource: { gpu: { count: 2 } } }));
    const env = { ...testEnv(home, 'ws-4080s-2080s'), BERTH_PORT: String(await freePort()), HF_TOKEN: 'hf_plan_secret_77', HOME: '/home/ada' };
    const r = await berth(['plan', '-f', spec, '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as LaunchPlan;
    assert.equal(plan.mode, 'container');
    assert.equal(plan.container!.image, 'lmsysorg/sglang:v0.4.6-cu124');
    assert.deepEqual(plan.container!.create.HostConfig.DeviceRequests, [{ Driver: '', DeviceIDs: ['0', '1'], Capabilities: [['gpu']] }]);
    assert.deepEqual(plan.container!.create.HostConfig.Binds, ['/home/ada/.cache/huggingface:/root/.cache/huggingface']);
    assert.ok(!r.stdout.includes('hf_plan_secret_77'));

    const human = await berth(['plan', '-f', spec], env);
    assert.equal(human.code, 0, human.stderr);
    assert.ok(!human.stdout.includes('hf_plan_secret_77'));
    const docker = human.stdout.split('\n').find((l) => l.startsWith('docker:'))!;
    assert.match(docker, /^docker: +docker run --detach --tty --name berth-sg-0-[0-9a-f]{8} .* --init --ipc=host --restart=no --publish 127\.0\.0\.1:(\d+):\1 --gpus '"device=0,1"' .* --env HF_TOKEN lmsysorg\/sglang:v0\.4\.6-cu124 python3 -m sglang\.launch_server --model-path Qwen\/Qwen2\.5-7B-Instruct .*--host 0\.0\.0\.0/);
    assert.match(human.stdout, /command: +python3 -m sglang\.launch_server .* \(inside the container\)/);
  });
});
