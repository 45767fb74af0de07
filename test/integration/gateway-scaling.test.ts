// Scale from zero, idle sleep, swaps on a small machine, replicas and queueing.
// Every wait here is for the event or state that matters (a replica ready, a
// deployment asleep, a request queued), never for a stretch of time: on a
// loaded two-core machine an engine start or a scale tick can take many times
// longer than on an idle one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import { deploymentWhen, EventLog, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

function chat(d: TestDaemon, model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return fetch(`${d.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
  });
}

const status = async (d: TestDaemon, name: string) => (await d.api<DeploymentStatus>('GET', `/api/v1/deployments/${name}`)).body;

describe('scale from zero and back', () => {
  it('100 requests during a cold start cause exactly one start and are all answered', async () => {
    const d = await startTestDaemon({ machine: 'h100x8', settings: { scaleIntervalMs: 200 } });
    try {
      const events = new EventLog(d);
      const created = await d.api<DeploymentStatus>('POST', '/api/v1/deployments', {
        name: 'lazy', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', scale: { min: 0, idleTime: 1 }, env: { FAKE_START_DELAY_MS: '800' },
      });
      assert.equal(created.body.sleeping, true);
      assert.equal(created.body.replicas.length, 0, 'min 0 deploys asleep');
      const models = (await (await fetch(`${d.url}/v1/models`)).json()) as { data: { id: string; berth: { state: string } }[] };
      assert.equal(models.data[0]!.berth.state, 'sleeping');

      const responses = await Promise.all(Array.from({ length: 100 }, () => chat(d, 'lazy')));
      assert.deepEqual([...new Set(responses.map((r) => r.status))], [200]);
      await Promise.all(responses.map((r) => r.arrayBuffer()));
      const starts = events.all.filter((e) => e.type === 'replica.state' && e.state === 'starting');
      assert.equal(starts.length, 1, 'one engine start for the whole burst');
      const wake = events.all.find((e) => e.type === 'deployment.wake');
      assert.ok(wake && wake.type === 'deployment.wake' && wake.seconds > 0.5);

      // idleTime 1 s with min 0: back to sleep, GPU freed (the replicas stop before the event).
      await events.find((e) => e.type === 'deployment.sleep' && e.name === 'lazy' && e.reason === 'idle', 'lazy asleep when idle');
      const asleep = await status(d, 'lazy');
      assert.equal(asleep.sleeping, true);
      assert.ok(asleep.replicas.every((r) => r.state === 'stopped'), JSON.stringify(asleep.replicas));
      assert.equal(asleep.desired, 'running');
      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      assert.match(metrics, /berth_cold_start_duration_seconds_count\{deployment="lazy"\} 1/);
      assert.match(metrics, /berth_requests_total\{model="lazy",status="200"\} 100/);
    } finally {
      await d.stop();
    }
  });

  it('keep_alive 0 puts a model to sleep right after the request, and is not sent to the engine', async () => {
    const d = await startTestDaemon({ machine: 'h100x8', settings: { scaleIntervalMs: 100 } });
    try {
      const events = new EventLog(d);
      await d.api('POST', '/api/v1/deployments', { name: 'brief', modelId: 'x/y', backend: 'vllm', scale: { min: 0, idleTime: 600 } });
      const r = await chat(d, 'brief', { keep_alive: 0 });
      assert.equal(r.status, 200);
      // idleTime is 600 s: only keep_alive 0 can put it to sleep.
      await events.find((e) => e.type === 'deployment.sleep' && e.name === 'brief', 'sleep after keep_alive 0');
      assert.equal((await status(d, 'brief')).sleeping, true);
      const bad = await chat(d, 'brief', {}, { 'x-berth-keep-alive': 'soon' });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: { message: string } }).error.message, /X-Berth-Keep-Alive/);
    } finally {
      await d.stop();
    }
  });

  it('a request that waits too long gets a 503 naming who holds the GPUs', async () => {
    // One GPU: `pinned` keeps it (min 1), `other` cannot evict it.
    const d = await startTestDaemon({ machine: 'h100-mig', settings: { requestWaitMs: 1500 } });
    try {
      await d.api('POST', '/api/v1/deployments', { name: 'pinned', modelId: 'x/y', backend: 'vllm' });
      await d.api('POST', '/api/v1/deployments', { name: 'other', modelId: 'x/z', backend: 'vllm', scale: { min: 0 } });
      await deploymentWhen(d, 'pinned');
      // The wait limit is short to keep the test quick. On a loaded machine it can
      // end before the daemon has even read the GPUs (nvidia-smi is a process), and
      // then the 503 cannot say why yet; once the daemon has found the GPUs held,
      // the answer must name who holds them. Count attempts, not seconds.
      const messages: string[] = [];
      for (let attempt = 0; attempt < 20 && !/held by/.test(messages.at(-1) ?? ''); attempt++) {
        const r = await chat(d, 'other');
        assert.equal(r.status, 503);
        const body = (await r.json()) as { error: { message: string; type: string } };
        assert.equal(body.error.type, 'server_error');
        messages.push(body.error.message);
      }
      assert.match(messages.at(-1)!, /held by pinned/, messages.join('\n'));
    } finally {
      await d.stop();
    }
  });

  it('swaps on a one-GPU machine: the least recently used sleeper is evicted', async () => {
    const d = await startTestDaemon({ machine: 'h100-mig' });
    try {
      const events = new EventLog(d);
      for (const name of ['first', 'second']) {
        await d.api('POST', '/api/v1/deployments', { name, modelId: 'x/y', backend: 'vllm', scale: { min: 0, idleTime: 600 } });
      }
      assert.equal((await chat(d, 'first')).status, 200);
      const r = await chat(d, 'second');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-berth-served-by'), 'second');
      assert.equal((await status(d, 'first')).sleeping, true);
      const wake = events.all.find((e) => e.type === 'deployment.wake' && e.name === 'second');
      assert.ok(wake && wake.type === 'deployment.wake');
      assert.deepEqual(wake.evicted, ['first']);
      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      assert.match(metrics, /berth_swap_duration_seconds_count\{deployment="second"\} 1/);
    } finally {
      await d.stop();
    }
  });
});

describe('replicas and queueing', () => {
  it('scales up under load and spreads requests over the replica with fewest in flight', async () => {
    const d = await startTestDaemon({ machine: 'h100x8', settings: { scaleIntervalMs: 100 } });
    try {
      await d.api('POST', '/api/v1/deployments', {
        name: 'busy', modelId: 'x/y', backend: 'vllm', scale: { min: 1, max: 2, inFlightValue: 2 },
        env: { FAKE_TOKENS: '40', FAKE_TOKEN_DELAY_MS: '25' },
      });
      const events = new EventLog(d);
      const first = (await deploymentWhen(d, 'busy')).replicas[0]!.id;
      // Keep 6 streams in flight until the second replica is ready, however long its
      // start takes here: the panic window asks for 3 replicas, max is 2. A fixed
      // burst could end (and the scaler calm down) before a slow machine starts it.
      let loading = true;
      const load = Array.from({ length: 6 }, async () => {
        while (loading) {
          const r = await chat(d, 'busy', { stream: true });
          await r.text();
          assert.equal(r.status, 200);
        }
      });
      const loaded = Promise.all(load);
      try {
        await Promise.race([
          events.find((e) => e.type === 'replica.state' && e.name === 'busy' && e.state === 'ready' && e.replica !== first, 'a second replica ready'),
          loaded.then(() => assert.fail('the load ended before a second replica was ready')),
        ]);
      } finally {
        loading = false;
      }
      await loaded;
      const two = await status(d, 'busy');
      assert.deepEqual(two.replicas.map((r) => r.state), ['ready', 'ready'], 'the panic window keeps both after the load');
      // With two ready replicas, concurrent requests land on both (fewest in flight first).
      const more = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const r = await chat(d, 'busy', { stream: true });
          await r.text();
          return r.headers.get('x-berth-replica');
        }),
      );
      const perReplica = new Map<string, number>();
      for (const id of more) perReplica.set(id!, (perReplica.get(id!) ?? 0) + 1);
      assert.deepEqual([...perReplica.values()], [2, 2], `spread: ${[...perReplica].join(' ')}`);
    } finally {
      await d.stop();
    }
  });

  it('queues in arrival order when every replica is at inFlightValue, and answers 429 when the queue is full', async () => {
    const d = await startTestDaemon({ machine: 'h100x8', settings: { maxQueue: 2 } });
    try {
      await d.api('POST', '/api/v1/deployments', {
        name: 'one', modelId: 'x/y', backend: 'vllm', scale: { min: 1, max: 1, inFlightValue: 1 },
        env: { FAKE_TOKENS: '100000', FAKE_TOKEN_DELAY_MS: '30' },
      });
      await deploymentWhen(d, 'one');
      // The first request holds the only slot until its client leaves (the engine
      // would stream for minutes), so the queue fills and drains only when the test
      // says, whatever the machine's speed. The next two are short.
      const holder = new AbortController();
      const held = await fetch(`${d.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'one', messages: [{ role: 'user', content: 'hi' }], stream: true }),
        signal: holder.signal,
      });
      assert.equal(held.status, 200);
      const order: number[] = [];
      const queuedCount = (n: number) => deploymentWhen(d, 'one', (s) => s.queued === n, `${n} queued`);
      const queued = async (i: number) => {
        const res = await chat(d, 'one', { stream: true, max_tokens: 3 });
        await res.text();
        order.push(i);
        return res.status;
      };
      const second = queued(1);
      await queuedCount(1);
      const third = queued(2);
      await queuedCount(2);
      const rejected = await chat(d, 'one');
      assert.equal(rejected.status, 429);
      assert.equal(rejected.headers.get('retry-after'), '1');
      assert.equal(((await rejected.json()) as { error: { code: string } }).error.code, 'queue_full');
      holder.abort();
      assert.deepEqual(await Promise.all([second, third]), [200, 200]);
      assert.deepEqual(order, [1, 2], 'served in arrival order');
    } finally {
      await d.stop();
    }
  });
});
