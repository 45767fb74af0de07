// The streaming benchmark (issue 14, part 4), run after the JSON points: a fake
// vLLM engine streams 64 deltas 20 ms apart (FAKE_TOKENS, FAKE_TOKEN_DELAY_MS),
// with the usage chunk the client asks for, so that every target carries the
// same bytes. Targets: the engine directly, nginx, a logic-free Node relay and
// Berth's gateway, all in front of that one engine, in one run.
//
// One stream at a time (back to back on one connection) gives the time each
// proxy adds to the first token; then N streams sent at once (connections
// opened first) give frames lost, stalls, tail TTFT and the proxy's CPU per
// frame, read from /proc. Targets are interleaved within each round and the
// order rotated between rounds, so drift on a shared machine hits them alike;
// a point's samples are pooled over its rounds. Each point's first burst is
// run before its rounds and shown apart (see measure()).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/helpers/process.js';
import type { Berth } from './berth.js';
import { cpuSeconds } from './cpu.js';
import { NGINX_MISSING, startNginx } from './nginx.js';
import { startRelay } from './relay.js';
import type { StreamJob, StreamSample } from './stream-load.js';
import { firstBurstOf, STREAM_TARGETS, summarize, type FirstBurst, type StreamPoint, type StreamReport, type StreamTarget } from './stream-report.js';

export interface StreamBenchConfig {
  /** Streams at once for the concurrent points. */
  concurrencies: number[];
  /** Streams per target one at a time, over all rounds. */
  sequentialStreams: number;
  rounds: number;
  /** Processes of the Node relay (BENCH_RELAY_PROCESSES): more than one asks whether a second core would help. */
  relayProcesses: number;
  tokens: number;
  tokenDelayMs: number;
  /** One-token streams through each target before anything is timed (BENCH_STREAM_WARMUP), 64 at a time. */
  warmupRequests: number;
  /** The targets measured (BENCH_STREAM_TARGETS); the others are reported as not selected. */
  targets: StreamTarget[];
}

const MODEL = 'bench-stream';
const PATH = '/v1/chat/completions';
/** Events per stream from the fake vLLM with include_usage: the role chunk, one per token, the usage chunk, [DONE]. */
const framesPerStream = (tokens: number) => tokens + 3;

export function streamBody(tokens: number, maxTokens = tokens + 1): string {
  return JSON.stringify({
    model: MODEL,
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: maxTokens,
    stream: true,
    stream_options: { include_usage: true },
  });
}

interface Target {
  name: StreamTarget;
  port: number;
  /** The processes whose CPU the target adds (none for direct). */
  pids(): number[];
}

/** How a job's streams ended, for the progress log: `ok`, or how many failed and the first reason. */
function outcome(samples: StreamSample[]): string {
  const failed = samples.filter((s) => s.error);
  return failed.length ? `${failed.length} FAILED (${failed[0]!.error})\n` : 'ok\n';
}

/** The load generator in a child process, one job at a time. */
function loadGenerator() {
  const child = fork(fileURLToPath(new URL('./stream-load.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    pid: child.pid!,
    run(job: StreamJob): Promise<StreamSample[]> {
      return new Promise((resolve, reject) => {
        const onExit = () => reject(new Error('the stream load generator exited'));
        child.once('exit', onExit);
        child.once('message', (m: { samples?: StreamSample[]; error?: string }) => {
          child.off('exit', onExit);
          if (m.samples) resolve(m.samples);
          else reject(new Error(`stream load generator: ${m.error}`));
        });
        child.send(job);
      });
    },
    stop: async () => {
      if (child.connected) child.disconnect();
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}

export async function streamBench(
  berth: Berth,
  nginxBin: string | null,
  cfg: StreamBenchConfig,
  cleanups: (() => Promise<void>)[],
  log: (s: string) => void,
): Promise<StreamReport> {
  log(`stream bench: ${cfg.tokens} deltas ${cfg.tokenDelayMs} ms apart; one at a time, then ${cfg.concurrencies.join(', ')} at once\n`);
  const engine = await berth.deploy(MODEL, { FAKE_START_DELAY_MS: '0', FAKE_TOKENS: String(cfg.tokens), FAKE_TOKEN_DELAY_MS: String(cfg.tokenDelayMs) });
  const skipped: StreamReport['skipped'] = {};
  for (const t of STREAM_TARGETS) if (!cfg.targets.includes(t)) skipped[t] = 'not selected (BENCH_STREAM_TARGETS)';
  const targets: Target[] = [];
  if (cfg.targets.includes('direct')) targets.push({ name: 'direct', port: engine.port, pids: () => [] });
  if (cfg.targets.includes('nginx')) {
    if (nginxBin) {
      const listen = await freePort();
      const nginx = await startNginx(nginxBin, [{ listen, upstream: engine.port }]);
      cleanups.push(nginx.stop);
      targets.push({ name: 'nginx', port: listen, pids: nginx.pids });
    } else skipped.nginx = `skipped (${NGINX_MISSING})`;
  }
  if (cfg.targets.includes('relay')) {
    const relay = await startRelay(await freePort(), engine.port, cfg.relayProcesses);
    cleanups.push(relay.stop);
    targets.push({ name: 'relay', port: relay.port, pids: relay.pids });
  }
  if (cfg.targets.includes('gateway')) targets.push({ name: 'gateway', port: Number(new URL(berth.url).port), pids: () => [berth.pid] });

  const gen = loadGenerator();
  cleanups.push(gen.stop);
  const body = streamBody(cfg.tokens);
  const expected = framesPerStream(cfg.tokens);
  const job = (port: number, streams: number, sequential: boolean): StreamJob => ({ port, path: PATH, body, streams, sequential, idleTimeoutMs: 30_000 });

  // A stream through each target must arrive whole before anything is timed.
  const live: Target[] = [];
  for (const t of targets) {
    const [s] = await gen.run(job(t.port, 1, true));
    if (s && !s.error && s.frames === expected) live.push(t);
    else skipped[t.name] = `FAILED: ${s?.error ?? `${s?.frames} frames of ${expected}`}`;
  }
  // Warm-up: JIT everywhere on the path, and the proxies' upstream pools.
  // A stream's frames run the per-frame code thousands of times, but a batch
  // of streams runs the per-request code (head, body, routing, lease, the
  // engine's request) once each: V8 optimises a function only after it has
  // run a while, so short streams first, as many as a daemon serves in its
  // first minutes, or c=1 would time a request path still in V8's baseline tier.
  const short = streamBody(cfg.tokens, 1);
  for (const t of live) {
    for (let done = 0; done < cfg.warmupRequests; done += 64) {
      const samples = await gen.run({ ...job(t.port, Math.min(64, cfg.warmupRequests - done), false), body: short });
      const bad = samples.find((s) => s.error || s.frames !== framesPerStream(1));
      if (bad) throw new Error(`${t.name}: a warm-up stream failed: ${bad.error ?? `${bad.frames} frames of ${framesPerStream(1)}`}`);
    }
    await gen.run(job(t.port, Math.min(64, Math.max(...cfg.concurrencies, 1)), false));
  }

  const points: StreamPoint[] = [];
  let turn = 0;
  const measure = async (concurrency: number) => {
    // A point's first burst is run apart from its rounds. The first burst of
    // a new size is slower for every target, direct included: the fake engine
    // and the load generator grow their heaps and tables to it, and Berth's
    // engine pool, which keeps as many connections as its largest burst of
    // the last 30 s, grows inside it. Rotating the targets' order cannot
    // share that out (one target would take it in each point), so the rounds
    // are the steady state the targets are about, and the first burst is
    // shown beside them: its tail in the table, and what it loses or stalls
    // in the verdict.
    const first = new Map<StreamTarget, FirstBurst>();
    if (concurrency > 1) {
      for (const t of live) {
        log(`  ${t.name} ${concurrency} streams at once, first burst: `);
        const samples = await gen.run(job(t.port, concurrency, false));
        first.set(t.name, firstBurstOf(summarize(t.name, concurrency, samples, expected, null)));
        log(outcome(samples));
      }
    }
    const pooled = new Map<StreamTarget, { samples: StreamSample[]; cpu: number | null; client: number | null }>(
      live.map((t) => [t.name, { samples: [], cpu: 0, client: 0 }]),
    );
    const perRound = concurrency === 1 ? Math.max(1, Math.ceil(cfg.sequentialStreams / cfg.rounds)) : concurrency;
    for (let round = 0; round < cfg.rounds; round++) {
      const order = live.map((_, i) => live[(i + turn) % live.length]!);
      turn++;
      for (const t of order) {
        log(`  ${t.name} ${concurrency === 1 ? `${perRound} streams one at a time` : `${concurrency} streams at once`} round ${round + 1}/${cfg.rounds}: `);
        const pids = t.pids();
        const [before, clientBefore] = [cpuSeconds(pids), cpuSeconds([gen.pid])];
        const samples = await gen.run(job(t.port, perRound, concurrency === 1));
        const [after, clientAfter] = [cpuSeconds(pids), cpuSeconds([gen.pid])];
        const p = pooled.get(t.name)!;
        p.samples.push(...samples);
        p.cpu = p.cpu === null || before === null || after === null ? null : p.cpu + (after - before);
        p.client = p.client === null || clientBefore === null || clientAfter === null ? null : p.client + (clientAfter - clientBefore);
        log(outcome(samples));
      }
    }
    for (const t of live) {
      const p = pooled.get(t.name)!;
      const f = first.get(t.name);
      points.push({ ...summarize(t.name, concurrency, p.samples, expected, p.cpu, p.client), ...(f ? { firstBurst: f } : {}) });
    }
  };
  await measure(1);
  for (const c of cfg.concurrencies) await measure(c);

  return {
    meta: {
      date: new Date().toISOString(),
      tokens: cfg.tokens,
      tokenDelayMs: cfg.tokenDelayMs,
      rounds: cfg.rounds,
      framesPerStream: expected,
      relayProcesses: cfg.relayProcesses,
    },
    skipped,
    points,
  };
}
