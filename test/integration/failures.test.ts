// What a user sees when an engine does not come up, crashes, or will not stop.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { BerthEvent, DeploymentStatus } from '../../daemon/contract/api.js';
import { groupMembers, isAlive } from '../../daemon/state/proc.js';
import { deploymentWhen, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';


describe('engine failures', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8', settings: { stopGraceMs: 1000 } });
  });
  after(() => d.stop());

  it('a start that exits is failed with the engine\'s own reason, and frees its GPU', async () => {
    await d.api('POST', '/api/v1/deployments', {
      name: 'oom', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', env: { FAKE_SCENARIO: 'vllm-0.9.0.1-kv-cache-no-memory' },
    });
    const failed = await deploymentWhen(d, 'oom', (s) => s.state === 'failed', 'oom to fail');
    assert.match(failed.reason ?? '', /No available memory for the cache blocks/);
    const replica = failed.replicas[0]!;
    assert.equal(replica.pid, null);
    // Its GPU went back: a deployment needing all 8 fits.
    const all = await d.api('POST', '/api/v1/deployments?start=false', { name: 'all', modelId: 'x/y', backend: 'vllm', resource: { gpu: { count: 8 } } });
    assert.equal(all.status, 201);
    assert.equal((await d.api('POST', '/api/v1/deployments/all/start')).status, 202);
    await d.api('DELETE', '/api/v1/deployments/all');
    await d.api('DELETE', '/api/v1/deployments/oom');
  });

  it('SGLang is ready on its ready line, not on /health', async () => {
    await d.api('POST', '/api/v1/deployments', {
      name: 'sg', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'sglang', env: { FAKE_WARMUP_MS: '800' },
    });
    const events: BerthEvent[] = [];
    const ready = await deploymentWhen(d, 'sg', (s) => s.state === 'ready', 'sglang ready');
    const port = ready.replicas[0]!.port!;
    assert.equal((await fetch(`http://127.0.0.1:${port}/health_generate`)).status, 200, 'ready only once warm-up is done');
    void events;
    const logs = await d.api<{ lines: string[] }>('GET', '/api/v1/deployments/sg/logs?tail=50', undefined, { accept: 'application/json' });
    assert.ok(logs.body.lines.some((l) => l.includes('The server is fired up and ready to roll!')));
    await d.api('DELETE', '/api/v1/deployments/sg');
  });

  it('a crash after ready restarts the engine with backoff', async () => {
    await d.api('POST', '/api/v1/deployments', {
      name: 'crashy', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', env: { FAKE_CRASH_AFTER: '1' },
    });
    const first = await deploymentWhen(d, 'crashy', (s) => s.state === 'ready', 'crashy ready');
    const { port, pid } = first.replicas[0]!;
    await fetch(`http://127.0.0.1:${port}/v1/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'crashy', prompt: 'x' }),
    }).catch(() => undefined);
    const restarted = await deploymentWhen(d, 'crashy', (s) => {
      const r = s.replicas[0]!;
      return s.state === 'ready' && r.restarts === 1 && r.pid !== pid;
    }, 'crashy to restart');
    assert.equal(restarted.replicas[0]!.port, port, 'a restart keeps its port and GPUs');
    assert.equal(isAlive(pid!), false);
    await d.api('DELETE', '/api/v1/deployments/crashy');
  });

  it('an engine that ignores SIGTERM is killed after the grace period, children included', async () => {
    await d.api('POST', '/api/v1/deployments', {
      name: 'stubborn', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', env: { FAKE_IGNORE_SIGTERM: '1', FAKE_SPAWN_CHILD: '1' },
    });
    const ready = await deploymentWhen(d, 'stubborn', (s) => s.state === 'ready', 'stubborn ready');
    const pgid = ready.replicas[0]!.pid!;
    const t0 = Date.now();
    const stopped = await d.api<DeploymentStatus>('POST', '/api/v1/deployments/stubborn/stop');
    assert.equal(stopped.body.state, 'stopped');
    assert.ok(Date.now() - t0 >= 900, 'waited for the grace period before SIGKILL');
    assert.deepEqual(groupMembers(pgid), []);
    await d.api('DELETE', '/api/v1/deployments/stubborn');
  });

  it('another program on the engine\'s port does not make it ready: no prompt reaches that program', async () => {
    // SGLang binds its port only once its model has loaded (here 4 s): a
    // program that takes the port meanwhile answers every readiness probe.
    await d.api('POST', '/api/v1/deployments', {
      name: 'squatted', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'sglang', env: { FAKE_START_DELAY_MS: '4000', FAKE_WARMUP_MS: '100' },
    });
    const starting = await deploymentWhen(d, 'squatted', (s) => s.replicas[0]?.state === 'starting' && s.replicas[0].port !== null, 'squatted starting');
    const seen: string[] = [];
    const squatter = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => squatter.listen(starting.replicas[0]!.port!, '127.0.0.1', resolve));
    try {
      // A client asks meanwhile: it waits for the engine, and never gets the squatter's answer.
      const answer = fetch(`${d.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'squatted', messages: [{ role: 'user', content: 'a private prompt' }] }),
      });
      const failed = await deploymentWhen(d, 'squatted', (s) => s.state === 'failed', 'squatted to fail');
      assert.match(failed.reason ?? '', /address already in use/);
      assert.notEqual((await answer).status, 200);
      assert.ok(seen.includes('GET /health_generate'), 'the squatter did answer the readiness probe');
      assert.deepEqual(seen.filter((s) => !s.startsWith('GET /health')), [], 'nothing but probes reached it');
      const logs = await d.api<{ lines: string[] }>('GET', '/api/v1/deployments/squatted/logs?tail=100', undefined, { accept: 'application/json' });
      assert.ok(logs.body.lines.some((l) => l.includes(`port ${starting.replicas[0]!.port} is held by another process`)), 'the log says why');
    } finally {
      squatter.close();
      await d.api('DELETE', '/api/v1/deployments/squatted');
    }
  });

  it('a start that does not become ready in time is failed with a timeout reason', async () => {
    const short = await startTestDaemon({ machine: 'h100x8', settings: { startTimeoutMs: 1500, stopGraceMs: 500 } });
    try {
      await short.api('POST', '/api/v1/deployments', {
        name: 'slow', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', env: { FAKE_NEVER_READY: '1' },
      });
      const failed = await deploymentWhen(short, 'slow', (s) => s.state === 'failed', 'slow to time out');
      assert.match(failed.reason ?? '', /did not become ready/);
    } finally {
      await short.stop();
    }
  });
});
