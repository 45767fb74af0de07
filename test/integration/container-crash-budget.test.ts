// Five crashes of a container within ten minutes: failed, with the engine's
// own last lines as the reason, as a process deployment is.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { creates, startContainerRig, type ContainerRig } from '../fakes/docker/harness.js';
import { deploymentWhen } from '../helpers/daemon.js';

describe('container crash budget', () => {
  let rig: ContainerRig;
  before(async () => {
    rig = await startContainerRig({ settings: { stopGraceMs: 1000 } });
  });
  after(() => rig.stop());

  it('gives up after the fifth crash, with the engine\'s last lines', async () => {
    const { d, docker } = rig;
    await d.api('POST', '/api/v1/deployments', { name: 'flaky', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', mode: 'container', env: { FAKE_CRASH_AFTER: '1' } });
    for (let crash = 0; crash < 5; crash++) {
      const ready = await deploymentWhen(d, 'flaky', (s) => s.state === 'ready' && s.replicas[0]!.restarts === crash, `flaky ready after ${crash} restarts`);
      await fetch(`http://127.0.0.1:${ready.replicas[0]!.port}/v1/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'flaky', prompt: 'x' }),
      }).catch(() => undefined);
    }
    const failed = await deploymentWhen(d, 'flaky', (s) => s.state === 'failed', 'flaky failed');
    // vLLM's EngineCore traceback, as the fake prints it when it crashes (test/fakes/engine/lifecycle.ts).
    assert.match(failed.reason ?? '', /crashed 5 times in 10 minutes; not restarting/);
    assert.ok((failed.reason ?? '').length > 'crashed 5 times in 10 minutes; not restarting'.length + 10, failed.reason ?? '');
    assert.equal(creates(docker).length, 5, 'one container per incarnation');
    assert.deepEqual(docker.containers(), [], 'each crashed container was removed');
    const logs = await d.api<{ lines: string[] }>('GET', '/api/v1/deployments/flaky/logs?tail=5000', undefined, { accept: 'application/json' });
    assert.ok(logs.body.lines.length > 0);
    await d.api('DELETE', '/api/v1/deployments/flaky');
  });
});
