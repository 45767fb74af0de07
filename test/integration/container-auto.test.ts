// mode "auto": a container when the engine's Python lacks the engine and
// Docker can give it GPUs; a process when the Python has it. And what Docker
// without GPU support looks like, in the doctor and in a failed start.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DoctorCheck, LaunchPlan } from '../../daemon/contract/api.js';
import { creates, startContainerRig } from '../fakes/docker/harness.js';
import { SGLANG_IMAGE, VLLM_IMAGE } from '../fakes/docker/server.js';
import { deploymentWhen } from '../helpers/daemon.js';

const spec = (name: string, extra: Record<string, unknown> = {}) => ({ name, modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', mode: 'auto', ...extra });

describe('mode auto', () => {
  it('runs a container when the Python lacks the engine and Docker has GPU support', async () => {
    // The import probe runs with the daemon's environment: there, vllm is missing.
    const rig = await startContainerRig({ env: { FAKE_IMPORT_FAIL: '1' } });
    try {
      const plan = await rig.d.api<LaunchPlan>('POST', '/api/v1/plan', spec('a'));
      assert.equal(plan.body.mode, 'container');
      assert.match(plan.body.modeReason ?? '', /lacks vllm; Docker can run it with GPUs/);
      await rig.d.api('POST', '/api/v1/deployments', spec('a'));
      await deploymentWhen(rig.d, 'a');
      assert.equal(creates(rig.docker).length, 1);
      await rig.d.api('DELETE', '/api/v1/deployments/a');
    } finally {
      await rig.stop();
    }
  });

  it('runs a process when the Python has the engine, and when Docker cannot reach the GPUs', async () => {
    const rig = await startContainerRig({ docker: { gpu: false } });
    try {
      await rig.d.api('POST', '/api/v1/deployments', spec('p'));
      const ready = await deploymentWhen(rig.d, 'p');
      assert.equal(creates(rig.docker).length, 0, 'no container');
      assert.ok(ready.replicas[0]!.pid);
      await rig.d.api('DELETE', '/api/v1/deployments/p');
    } finally {
      await rig.stop();
    }
    const noGpu = await startContainerRig({ docker: { gpu: false }, env: { FAKE_IMPORT_FAIL: '1' } });
    try {
      const plan = await noGpu.d.api<LaunchPlan>('POST', '/api/v1/plan', spec('q'));
      assert.equal(plan.body.mode, 'process');
      assert.match(plan.body.modeReason ?? '', /Docker has no GPU support/);
    } finally {
      await noGpu.stop();
    }
  });

  it('Docker without GPU support: the doctor says so with the fix, and a container start fails with it', async () => {
    const rig = await startContainerRig({ docker: { gpu: false, images: [VLLM_IMAGE] } });
    try {
      const report = await rig.d.client.doctor();
      const check = (name: string): DoctorCheck => report.checks.find((c) => c.name === name)!;
      assert.equal(check('docker').ok, true);
      assert.match(check('docker').detail, /Engine 27\.3\.1/);
      assert.equal(check('docker-gpu').ok, false);
      assert.equal(check('docker-gpu').fix?.command, 'sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker');
      assert.equal(check(`docker-image ${VLLM_IMAGE}`).ok, true);
      assert.equal(check(`docker-image ${SGLANG_IMAGE}`).fix?.command, `docker pull ${SGLANG_IMAGE}`);

      await rig.d.api('POST', '/api/v1/deployments', spec('g', { mode: 'container' }));
      const failed = await deploymentWhen(rig.d, 'g', (s) => s.state === 'failed', 'g failed');
      assert.match(failed.reason ?? '', /could not select device driver "" with capabilities: \[\[gpu\]\].*sudo nvidia-ctk runtime configure --runtime=docker/);
      assert.deepEqual(rig.docker.containers(), [], 'the refused container is not left behind');
      await rig.d.api('DELETE', '/api/v1/deployments/g');
    } finally {
      await rig.stop();
    }
  });
});
