// A followed log stream (GET .../logs?follow=1) follows the deployment, not
// one process: it waits for the first replica, moves to the next one after a
// restart and says so (`event: replica`) before that replica's tail, and
// keeps a crash-restarted replica's lines coming. Named with replica=, it
// ends when that replica is gone; a deleted deployment ends it too. And
// `berth logs -f` prints the marker where the replica changes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LogStreamEvents } from '../../daemon/contract/api.js';
import type { DeploymentInput } from '../../daemon/contract/deployment.js';
import { deploymentWhen, REPO, startTestDaemon, testEnv, type TestDaemon } from '../helpers/daemon.js';
import { SAFETY_MS } from '../helpers/limits.js';
import { SseReader, type SseMessage } from '../helpers/sse.js';

const STARTED = 'Application startup complete.';

const isReplica = (id: string) => (m: SseMessage) => m.event === 'replica' && (JSON.parse(m.data) as LogStreamEvents['replica']).replica === id;
const isLine = (text: string) => (m: SseMessage) => m.event === null && (JSON.parse(m.data) as string).includes(text);

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), SAFETY_MS)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

describe('a followed log stream follows the deployment', () => {
  let d: TestDaemon;
  const streams: SseReader[] = [];
  const follow = async (name: string, query = 'tail=0') => {
    const s = await SseReader.open(`${d.url}/api/v1/deployments/${name}/logs?follow=1&${query}`);
    streams.push(s);
    return s;
  };
  const deploy = (name: string, extra: Partial<DeploymentInput> = {}, start = true) =>
    d.client.createDeployment({ body: { name, modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', resource: { gpu: { count: 0 } }, ...extra }, query: { start } });

  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
  });
  after(async () => {
    for (const s of streams) s.close();
    await d.stop();
  });

  it('opened before any replica, it shows the first one once the deployment starts', async () => {
    await deploy('late', {}, false);
    const s = await follow('late');
    await d.client.startDeployment({ params: { name: 'late' } });
    await s.until(isReplica('late-0'), 'the first replica announced');
    await s.until(isLine(STARTED), 'its startup line');
    assert.equal(s.messages[0]!.event, 'replica', 'nothing comes before the replica it belongs to');
  });

  it('moves to the new replica after a restart, saying so before that replica’s tail', async () => {
    await deploy('flip');
    await deploymentWhen(d, 'flip');
    const s = await follow('flip', 'tail=5');
    await s.until(isReplica('flip-0'), 'the replica it starts on');
    await d.client.restartDeployment({ params: { name: 'flip' } });
    await s.until(isReplica('flip-1'), 'the new replica announced');
    const marker = s.messages.findIndex(isReplica('flip-1'));
    await s.until((m) => s.messages.indexOf(m) > marker && isLine(STARTED)(m), 'the new replica’s startup line, after its marker');
    // The old engine's shutdown came first, on the old replica's side of the marker.
    const shutdown = s.messages.findIndex(isLine('Application shutdown complete.'));
    assert.ok(shutdown !== -1 && shutdown < marker, 'the old replica’s last lines before the marker');
    assert.equal(s.messages.filter((m) => m.event === 'replica').length, 2);
  });

  it('a crash restart keeps the replica, and its next start’s lines keep coming', async () => {
    await deploy('crashy', { env: { FAKE_CRASH_AFTER: '1' } });
    const ready = await deploymentWhen(d, 'crashy');
    const s = await follow('crashy', 'tail=5000');
    await s.until(isLine(STARTED), 'the first start');
    const before = s.messages.filter(isLine(STARTED)).length;
    const port = ready.replicas[0]!.port!;
    await fetch(`http://127.0.0.1:${port}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'crashy', prompt: 'x' }),
    }).catch(() => undefined);
    await s.until(() => s.messages.filter(isLine(STARTED)).length > before, 'the restarted engine’s startup line');
    assert.deepEqual(
      s.messages.filter((m) => m.event === 'replica').map((m) => m.data),
      [JSON.stringify({ replica: 'crashy-0' })],
      'no new replica: the same one, restarted',
    );
  });

  it('with replica= it ends once that replica is gone for good', async () => {
    await deploy('pinned');
    await deploymentWhen(d, 'pinned');
    const s = await follow('pinned', 'replica=pinned-0');
    await s.until(isReplica('pinned-0'), 'the named replica');
    await d.client.restartDeployment({ params: { name: 'pinned' } });
    const end = await s.until((m) => m.event === 'end', 'the end of the stream');
    assert.deepEqual(JSON.parse(end.data), { reason: 'replica pinned-0 stopped' });
    await within(s.finished, 'the daemon closing the stream');
    assert.ok(!s.messages.some(isReplica('pinned-1')), 'it never moved to another replica');
  });

  it('a deleted deployment ends the stream', async () => {
    await deploy('gone');
    await deploymentWhen(d, 'gone');
    const s = await follow('gone');
    await s.until(isReplica('gone-0'), 'the replica');
    await d.client.deleteDeployment({ params: { name: 'gone' } });
    const end = await s.until((m) => m.event === 'end', 'the end of the stream');
    assert.deepEqual(JSON.parse(end.data), { reason: 'deployment gone was deleted' });
    await within(s.finished, 'the daemon closing the stream');
  });

  it('an unknown replica is still a 404 before any stream opens', async () => {
    const res = await fetch(`${d.url}/api/v1/deployments/flip/logs?follow=1&replica=flip-9`);
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /no replica flip-9/);
  });

  it('berth logs -f prints a marker where the replica changes, and keeps going', async () => {
    await deploy('cli');
    await deploymentWhen(d, 'cli');
    const env = { ...testEnv(d.home, 'h100x8'), BERTH_PORT: new URL(d.url).port };
    const child = spawn(process.execPath, [join(REPO, 'bin/berth.mjs'), 'logs', 'cli', '-f', '-n', '0'], { env });
    let out = '';
    const printed = (pred: (text: string) => boolean, what: string) =>
      within(
        new Promise<void>((resolve) => {
          const check = () => pred(out) && (child.stdout.off('data', onData), resolve());
          const onData = (c: Buffer) => ((out += c.toString()), check());
          child.stdout.on('data', onData);
          check();
        }),
        `${what} in: ${out}`,
      );
    try {
      await printed((o) => o.includes('— replica cli-0 —\n'), 'the first marker');
      await d.client.restartDeployment({ params: { name: 'cli' } });
      await printed((o) => o.includes('— replica cli-1 —\n') && o.slice(o.indexOf('— replica cli-1 —')).includes(STARTED), 'the new replica’s marker, then its start');
    } finally {
      child.kill();
    }
    assert.equal(out.split('\n')[0], '— replica cli-0 —');
  });
});
