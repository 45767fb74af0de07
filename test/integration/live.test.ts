// The live data the UI and the tray watch, against a real daemon with the fake
// engine and the fake nvidia-smi: the event stream (snapshot, numbered deltas,
// Last-Event-ID), each replica's GPU share, and the sampled stats' history.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import type { DeploymentHistory, GpuUsageReport, SnapshotEvent, StreamEvent } from '../../daemon/contract/live.js';
import type { DeploymentStats } from '../../daemon/contract/stats.js';
import { GPU_APPS_DIR_ENV } from '../fakes/nvidia-smi/gpu-apps.js';
import { deploymentWhen, randomPortBase, startTestDaemon, tempHome, testEnv, waitFor, type TestDaemon } from '../helpers/daemon.js';
import { SAFETY_MS } from '../helpers/limits.js';
import { freePort, spawnDaemon } from '../helpers/process.js';
import { SseReader, type SseMessage } from '../helpers/sse.js';

const event = (m: SseMessage) => JSON.parse(m.data) as StreamEvent;
const is =
  <T extends StreamEvent['type']>(type: T, pred: (e: Extract<StreamEvent, { type: T }>) => boolean = () => true) =>
  (m: SseMessage) =>
    m.event === type && pred(event(m) as Extract<StreamEvent, { type: T }>);

/** GPU 7 of the h100x8 fixture, where the foreign process sits. */
const GPU7 = 'GPU-00000007-0000-0000-0000-000000000007';
const MIB_PER_PROCESS = 3000;

describe('live data', () => {
  let d: TestDaemon;
  let appsDir: string;
  let watcher: SseReader;
  const saved = { dir: process.env[GPU_APPS_DIR_ENV], procs: process.env.FAKE_NVIDIA_SMI_PROCESSES };

  before(async () => {
    appsDir = mkdtempSync(join(tmpdir(), 'berth-gpu-apps-'));
    // The fake nvidia-smi runs as the daemon's child with this process's
    // environment; the engines get the daemon's engine environment.
    process.env[GPU_APPS_DIR_ENV] = appsDir;
    process.env.FAKE_NVIDIA_SMI_PROCESSES = JSON.stringify([{ pid: process.pid, name: 'jupyter', gpuUuid: GPU7, usedMiB: 512 }]);
    d = await startTestDaemon({ machine: 'h100x8', env: { [GPU_APPS_DIR_ENV]: appsDir } });
  });
  after(async () => {
    watcher?.close();
    await d.stop();
    rmSync(appsDir, { recursive: true, force: true });
    for (const [k, v] of [[GPU_APPS_DIR_ENV, saved.dir], ['FAKE_NVIDIA_SMI_PROCESSES', saved.procs]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('sends a snapshot first, then deltas with strictly increasing ids; deployment.updated carries the status up to ready', async () => {
    watcher = await SseReader.open(`${d.url}/api/v1/events`);
    const first = await watcher.until(() => true, 'the first message');
    assert.equal(first.event, 'snapshot');
    const snap = event(first) as SnapshotEvent;
    assert.equal(snap.daemon.apiVersion, 1);
    assert.match(snap.daemon.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(snap.deployments, []);

    const created = await d.api<DeploymentStatus>('POST', '/api/v1/deployments', {
      name: 'live',
      modelId: 'Qwen/Qwen2.5-0.5B-Instruct',
      backend: 'vllm',
      resource: { gpu: { count: 2 } },
      env: { FAKE_GPU_MEMORY_MIB: String(MIB_PER_PROCESS), FAKE_SPAWN_CHILD: '1' },
    });
    assert.equal(created.status, 201);
    await watcher.until(is('deployment.updated', (e) => e.name === 'live' && e.deployment.state === 'ready'), 'an update showing live ready');

    const ids = watcher.messages.map((m) => Number(m.id));
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, `id ${ids[i]} after ${ids[i - 1]}`);
    assert.ok(watcher.messages.every((m) => m.event === (JSON.parse(m.data) as StreamEvent).type), 'event: names the type');
    const about = watcher.messages.slice(1).filter((m) => m.event !== 'stats' && m.event !== 'gpus');
    assert.equal(about[0]!.event, 'deployment.created');
    assert.equal((event(about[0]!) as Extract<StreamEvent, { type: 'deployment.created' }>).deployment.spec.modelId, 'Qwen/Qwen2.5-0.5B-Instruct');
    // Every replica.state is followed by an update carrying the state it announced.
    about.forEach((m, i) => {
      if (m.event !== 'replica.state') return;
      const rs = event(m) as Extract<StreamEvent, { type: 'replica.state' }>;
      const next = about.slice(i + 1).find((n) => n.event === 'deployment.updated');
      assert.ok(next, `an update after replica.state ${rs.state}`);
      const status = (event(next) as Extract<StreamEvent, { type: 'deployment.updated' }>).deployment;
      assert.equal(status.replicas.find((r) => r.id === rs.replica)?.state, rs.state);
    });
  });

  it("shows the engine's share of the GPUs it was given, its budget, and other processes as foreign", async () => {
    const status = await deploymentWhen(d, 'live');
    const replica = status.replicas[0]!;
    const fake = (await (await fetch(`http://127.0.0.1:${replica.port}/fake/state`)).json()) as { pid: number; childPid: number };
    const report = await waitFor(async () => {
      const { body } = await d.api<GpuUsageReport>('GET', '/api/v1/gpus/usage');
      const mine = body.shares.filter((s) => s.replica === replica.id);
      return mine.length > 0 && mine.every((s) => s.pids.length === 2) ? body : null;
    }, 'the engine and its child on its GPUs');
    const mine = report.shares.filter((s) => s.replica === replica.id);
    assert.deepEqual(mine.map((s) => s.gpuIndex), [...replica.gpus].sort((a, b) => a - b), 'a share on exactly the GPUs Berth gave it');
    for (const s of mine) {
      assert.equal(s.deployment, 'live');
      assert.equal(s.usedMiB, 2 * MIB_PER_PROCESS, 'the engine and its EngineCore child, found through the process group');
      assert.deepEqual([...s.pids].sort(), [fake.pid, fake.childPid].sort());
      assert.equal(s.allocatedMiB, Math.round(0.9 * 81559), "vLLM's default --gpu-memory-utilization of an H100's 81559 MiB");
      assert.match(s.gpuUuid ?? '', /^GPU-0000000\d-/);
    }
    assert.deepEqual(report.foreign, [{ gpuIndex: 7, pid: process.pid, name: 'jupyter', usedMiB: 512 }]);
    // The same on the stream, for a watching client.
    await watcher.until(is('gpus', (e) => e.usage.shares.some((s) => s.replica === replica.id && s.usedMiB === 2 * MIB_PER_PROCESS)), 'a gpus message with the share');
  });

  it('keeps a history whose rates add up to the requests served, with TTFT from streamed ones', async () => {
    const history = async () => (await d.api<DeploymentHistory>('GET', '/api/v1/deployments/live/history')).body;
    // A first sample, so every request below falls inside a sampled interval.
    const start = await waitFor(async () => ((await history()).points.length > 0 ? history() : null), 'a first sample');
    assert.equal(start.intervalS, 2);
    const N_PLAIN = 4;
    const N_STREAMED = 3;
    const chat = (stream: boolean) =>
      fetch(`${d.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'live', messages: [{ role: 'user', content: 'hi' }], stream }),
      }).then(async (r) => {
        assert.equal(r.status, 200);
        await r.text();
      });
    for (let i = 0; i < N_PLAIN; i++) await chat(false);
    for (let i = 0; i < N_STREAMED; i++) await chat(true);
    const served = N_PLAIN + N_STREAMED;
    const tokens = (await d.api<DeploymentStats>('GET', '/api/v1/deployments/live/stats')).body.gateway.tokens.completion;
    assert.ok(tokens > 0);

    // rate x seconds over consecutive samples = what happened between them.
    const area = (h: DeploymentHistory, rate: (p: DeploymentHistory['points'][number]) => number) =>
      h.points.slice(1).reduce((sum, p, i) => sum + rate(p) * ((Date.parse(p.at) - Date.parse(h.points[i]!.at)) / 1000), 0);
    const done = await waitFor(async () => {
      const h = await history();
      return Math.round(area(h, (p) => p.requestsPerS)) >= served ? h : null;
    }, 'samples covering every request');
    assert.ok(done.points.length > start.points.length, 'the history grew');
    assert.equal(Math.round(area(done, (p) => p.requestsPerS) * 1e6) / 1e6, served);
    assert.equal(Math.round(area(done, (p) => p.tokensPerS) * 1e6) / 1e6, tokens);
    assert.ok(done.points.some((p) => p.ttftP50S !== null && p.ttftP95S !== null), 'TTFT quantiles in the interval of the streamed requests');
    assert.ok(done.points.every((p) => p.name === 'live' && p.inFlight >= 0 && p.queued >= 0));
    await watcher.until(is('stats', (e) => e.stats.some((s) => s.name === 'live' && s.kvCacheUsage !== null)), "stats on the stream, with the engine's KV-cache gauge");

    const unknown = await d.api<{ error: { code: string; message: string } }>('GET', '/api/v1/deployments/nope/history');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'deployment_not_found');
  });

  it('a reconnect with Last-Event-ID gets exactly what it missed; a too-old id gets a snapshot', async () => {
    const client = await SseReader.open(`${d.url}/api/v1/events`);
    const snap = await client.until(() => true, 'a snapshot');
    assert.equal(snap.event, 'snapshot');
    const seen = Number(snap.id);
    client.close();

    await d.api('POST', '/api/v1/deployments/live/stop');
    const stopped = await watcher.until(is('deployment.updated', (e) => e.name === 'live' && e.deployment.state === 'stopped'), 'live stopped');
    const last = Number(stopped.id);
    const missed = watcher.messages.filter((m) => Number(m.id) > seen && Number(m.id) <= last);
    assert.ok(missed.some((m) => m.event === 'replica.state'));

    const resume = async (url: string, headers: Record<string, string> = {}) => {
      const r = await SseReader.open(url, headers);
      await r.until((m) => Number(m.id) >= last, `resumed up to ${last}`);
      r.close();
      return r.messages.filter((m) => Number(m.id) <= last);
    };
    assert.deepEqual(await resume(`${d.url}/api/v1/events`, { 'last-event-id': String(seen) }), missed, 'the header, as EventSource sends it');
    assert.deepEqual(await resume(`${d.url}/api/v1/events?lastEventId=${seen}`), missed, 'the query, for clients without headers');
    assert.deepEqual(
      await resume(`${d.url}/api/v1/events?lastEventId=1`, { 'last-event-id': String(seen) }),
      missed,
      "the header wins over a query left in the URL from the first connect",
    );

    for (const old of ['1', 'not-an-id']) {
      const fresh = await SseReader.open(`${d.url}/api/v1/events`, { 'last-event-id': old });
      const m = await fresh.until(() => true, 'a snapshot');
      fresh.close();
      assert.equal(m.event, 'snapshot', old);
      assert.equal((event(m) as SnapshotEvent).deployments.find((x) => x.name === 'live')?.state, 'stopped');
      assert.ok(Number(m.id) >= last);
    }
  });
});

describe('daemon shutdown', () => {
  it('leaves no timer behind: with a client watching and stats sampled, SIGTERM ends the process by itself', async () => {
    const home = tempHome();
    const env = testEnv(home, 'h100x8', { BERTH_ENGINE_PORT_BASE: String(randomPortBase()), BERTH_STOP_GRACE_MS: '2000' });
    const daemon = await spawnDaemon(env, await freePort());
    try {
      const events = await SseReader.open(`${daemon.url}/api/v1/events`);
      await fetch(`${daemon.url}/api/v1/deployments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'brief', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm' }),
      });
      await events.until(is('gpus'), 'the GPU feed running');
      await events.until(is('stats', (e) => e.stats.some((s) => s.name === 'brief')), 'the sampler ticking');
      // bin/berth.mjs never calls process.exit(): the process ends only when
      // nothing (no interval, no socket) keeps its event loop alive.
      const exited = once(daemon.child, 'exit');
      daemon.child.kill('SIGTERM');
      const [code] = (await Promise.race([
        exited,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`the daemon did not exit: ${daemon.output().slice(-2000)}`)), SAFETY_MS).unref()),
      ])) as [number | null];
      assert.equal(code, 0);
      events.close();
    } finally {
      daemon.child.kill('SIGKILL');
      rmSync(home, { recursive: true, force: true });
    }
  });
});
