// A container whose image is not on the machine yet: pulled first, with its
// progress in the status, the events and the log; a pull that cannot succeed
// fails the deployment with the reason in plain words.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BerthEvent } from '../../daemon/contract/api.js';
import { startContainerRig, type ContainerRig } from '../fakes/docker/harness.js';
import { VLLM_IMAGE } from '../fakes/docker/server.js';
import { deploymentWhen, EventLog } from '../helpers/daemon.js';

type PullEvent = Extract<BerthEvent, { type: 'replica.pull' }>;

describe('container image pulls', () => {
  let rig: ContainerRig;
  before(async () => {
    rig = await startContainerRig({
      docker: {
        images: [],
        pullStepMs: 30,
        registry: {
          'vllm/vllm-openai:v0.9.404': { fail: 'not-found' },
          'private/vllm:v1': { fail: 'unauthorized' },
          'vllm/vllm-openai:v0.9.9': { fail: 'network' },
        },
      },
    });
  });
  after(() => rig.stop());

  it('pulls a missing image first: pulling, with bytes and a percentage, then ready', async () => {
    const { d, docker } = rig;
    const events = new EventLog(d);
    await d.api('POST', '/api/v1/deployments', { name: 'fresh', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', mode: 'container' });
    const pulling = await deploymentWhen(d, 'fresh', (s) => s.replicas[0]?.state === 'pulling' && s.replicas[0].pull !== undefined, 'fresh pulling');
    const progress = pulling.replicas[0]!.pull!;
    assert.equal(progress.image, VLLM_IMAGE);
    await deploymentWhen(d, 'fresh');

    const states = events.all.filter((e) => e.type === 'replica.state' && e.name === 'fresh').map((e) => (e as { state: string }).state);
    assert.deepEqual(states.slice(0, 3), ['pulling', 'starting', 'ready']);
    const pulls = events.all.filter((e): e is PullEvent => e.type === 'replica.pull' && e.name === 'fresh');
    assert.ok(pulls.length >= 2, 'progress arrives as it goes');
    const last = pulls.at(-1)!;
    assert.equal(last.percent, 100);
    assert.equal(last.totalBytes, 30_000_000 + 2_000_000_000 + 6_500_000_000);
    assert.equal(last.completedBytes, last.totalBytes);
    for (let i = 1; i < pulls.length; i++) assert.ok(pulls[i]!.completedBytes >= pulls[i - 1]!.completedBytes, 'bytes only grow');

    const logs = await d.api<{ lines: string[] }>('GET', '/api/v1/deployments/fresh/logs?tail=500', undefined, { accept: 'application/json' });
    assert.ok(logs.body.lines.some((l) => /pulling vllm\/vllm-openai:v0\.9\.0\.1: .* \(100%\)/.test(l)), logs.body.lines.slice(0, 5).join('\n'));
    const create = docker.calls.find((c) => c.path === '/images/create')!;
    assert.deepEqual(create.query, { fromImage: 'vllm/vllm-openai', tag: 'v0.9.0.1' });
    assert.ok(docker.images().includes(VLLM_IMAGE));
    await d.api('DELETE', '/api/v1/deployments/fresh');
  });

  const failures: [string, Record<string, unknown>, RegExp][] = [
    ['no such tag', { backendVersion: '0.9.404' }, /cannot pull vllm\/vllm-openai:v0\.9\.404: no such tag in the registry \(manifest for .* not found/],
    ['no access', { image: 'private/vllm:v1' }, /cannot pull private\/vllm:v1: access denied: .*docker login.*\(pull access denied/],
    ['no network', { backendVersion: '0.9.9' }, /cannot pull vllm\/vllm-openai:v0\.9\.9: the registry cannot be reached .*no such host/],
  ];
  for (const [what, fields, reason] of failures) {
    it(`a pull that fails (${what}) is failed with that reason`, async () => {
      const { d } = rig;
      const name = `pf-${what.replaceAll(' ', '-')}`;
      const res = await d.api('POST', '/api/v1/deployments', { name, modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', mode: 'container', ...fields });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const failed = await deploymentWhen(d, name, (s) => s.state === 'failed', `${name} failed`);
      assert.match(failed.reason ?? '', reason);
      assert.equal(failed.replicas[0]!.restarts, 0, 'a pull is not retried as a crash');
      await d.api('DELETE', `/api/v1/deployments/${name}`);
    });
  }
});
