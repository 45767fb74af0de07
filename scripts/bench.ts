// npm run bench: the gateway's overhead, measured against the engine directly and
// against nginx in front of the same engine, in one run on one machine.
//
// Two fake vLLM engines run under a real daemon (`berth serve`): "bench" answers
// as fast as it can (throughput and latency, autocannon), "bench-paced" spends
// BENCH_TOKEN_DELAY_MS per token so that a buffering proxy would show (stream
// timing). Every target reaches the same engine, so the differences are the proxy.
//
// Each point is measured in BENCH_ROUNDS rounds, the targets interleaved within
// a round, and reported as the median round: on a small shared machine one
// 5-second run swings by ±20%, more than the differences being measured.
//
// Settings (environment): BENCH_DURATION seconds per round (3), BENCH_ROUNDS (3),
// BENCH_WARMUP seconds (1), BENCH_CONNECTIONS (1,64), BENCH_TTFB_N streams per
// target (50), BENCH_TOKEN_DELAY_MS (20), BENCH_NGINX (nginx binary), BENCH_OUT
// (JSON path).
//
// Then the streaming benchmark (scripts/bench/stream.ts): BENCH_STREAM=0 skips
// it, BENCH_STREAM=only runs nothing else; BENCH_STREAM_CONCURRENCY streams at
// once (64,256,512,1000), BENCH_STREAM_SEQUENTIAL streams one at a time per
// target (15), BENCH_STREAM_ROUNDS (2), BENCH_STREAM_OUT (JSON path),
// BENCH_RELAY_PROCESSES (1; 2 runs the Node relay on two cores),
// BENCH_STREAM_WARMUP one-token streams through each target first (500: enough for V8 to optimise the request path),
// BENCH_STREAM_TARGETS which of direct,nginx,relay,gateway to measure (all): two targets and more
// rounds resolve one ratio on a noisy machine, e.g. BENCH_STREAM_TARGETS=relay,gateway
// BENCH_STREAM_CONCURRENCY=256 BENCH_STREAM_ROUNDS=6.
//
// Last, the UI (scripts/bench/ui.ts): its gzipped JavaScript against the
// 300 KB budget and a cold load's paint time in headless Chromium against the
// same daemon. BENCH_UI=0 skips it, BENCH_UI=only runs nothing else;
// BENCH_UI_LOADS cold loads (5).
import { writeFileSync } from 'node:fs';
import { availableParallelism, constants, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerth } from './bench/berth.js';
import { freePort } from '../test/helpers/process.js';
import { chatBody, completeBody, load, medianRound, type LoadResult, type Mode } from './bench/load.js';
import { findNginx, NGINX_MISSING, startNginx } from './bench/nginx.js';
import { render, verdict, type CpuUse, type LoadRow, type Report, type Target, type TtfbRow } from './bench/report.js';
import { cpuSeconds } from './bench/cpu.js';
import { streamTimings } from './bench/ttfb.js';
import { benchCli, renderCli } from './bench-cli.js';
import { benchUi } from './bench-ui.js';
import { streamBench } from './bench/stream.js';
import { parseStreamTargets, renderStreams, streamVerdict } from './bench/stream-report.js';

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`${name}=${raw}: expected a positive number`);
  return n;
}

const readConfig = () => ({
  seconds: envNumber('BENCH_DURATION', 3),
  rounds: Math.round(envNumber('BENCH_ROUNDS', 3)),
  warmup: envNumber('BENCH_WARMUP', 1),
  connections: (process.env.BENCH_CONNECTIONS ?? '1,64').split(',').map((c) => {
    const n = Number(c);
    if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_CONNECTIONS=${process.env.BENCH_CONNECTIONS}: expected whole numbers like 1,64`);
    return n;
  }),
  ttfbN: envNumber('BENCH_TTFB_N', 50),
  tokenDelayMs: envNumber('BENCH_TOKEN_DELAY_MS', 20),
  out: process.env.BENCH_OUT ?? join(tmpdir(), 'berth-bench-results-latest.json'),
  stream: process.env.BENCH_STREAM === '0' ? 'off' : process.env.BENCH_STREAM === 'only' ? 'only' : 'on',
  streamBench: {
    concurrencies: (process.env.BENCH_STREAM_CONCURRENCY ?? '64,256,512,1000').split(',').map((c) => {
      const n = Number(c);
      if (!Number.isInteger(n) || n < 2) throw new Error(`BENCH_STREAM_CONCURRENCY=${process.env.BENCH_STREAM_CONCURRENCY}: expected whole numbers above 1`);
      return n;
    }),
    sequentialStreams: Math.round(envNumber('BENCH_STREAM_SEQUENTIAL', 15)),
    rounds: Math.round(envNumber('BENCH_STREAM_ROUNDS', 2)),
    relayProcesses: Math.round(envNumber('BENCH_RELAY_PROCESSES', 1)),
    tokens: 64,
    tokenDelayMs: 20,
    warmupRequests: Math.round(envNumber('BENCH_STREAM_WARMUP', 500)),
    targets: parseStreamTargets(process.env.BENCH_STREAM_TARGETS),
  },
  streamOut: process.env.BENCH_STREAM_OUT ?? join(tmpdir(), 'berth-bench-streams-latest.json'),
});

/** The streaming benchmark, printed after the JSON points; 1 when a stream broke. */
async function streams(cfg: ReturnType<typeof readConfig>, berth: Awaited<ReturnType<typeof startBerth>>, nginxBin: string | null): Promise<number> {
  const report = await streamBench(berth, nginxBin, cfg.streamBench, cleanups, log);
  console.log(`\n${renderStreams(report)}`);
  writeFileSync(cfg.streamOut, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nstream results: ${cfg.streamOut}`);
  return streamVerdict(report).failures.length || Object.values(report.skipped).some((s) => s.startsWith('FAILED')) ? 1 : 0;
}

const FAST = 'bench';
const PACED = 'bench-paced';
/** Completion tokens per answer (max_tokens is 16, so the fake's budget decides). */
const TOKENS = 8;
const MODES: Mode[] = ['json', 'stream'];
const CHAT = '/v1/chat/completions';

// Everything started is stopped in reverse order, once, on every way out.
const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const stop of cleanups.reverse()) await stop().catch((err: Error) => console.error(`bench: cleanup: ${err.message}`));
  })());
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    console.error(`\nbench: ${sig}, stopping nginx and the daemon...`);
    void cleanup().finally(() => process.exit(128 + constants.signals[sig]));
  });
}

const log = (s: string) => process.stderr.write(s);

interface CpuSample {
  proxy: number | null;
  engine: number | null;
  /** performance.now(), ms */
  at: number;
}

function cpuUse(a: CpuSample, b: CpuSample, requests: number): CpuUse {
  const perRequest = (x: number | null, y: number | null) => (x === null || y === null || requests === 0 ? null : ((y - x) * 1e6) / requests);
  return {
    proxyUs: perRequest(a.proxy, b.proxy),
    engineUs: perRequest(a.engine, b.engine),
    engineBusy: a.engine === null || b.engine === null ? null : (b.engine - a.engine) / ((b.at - a.at) / 1000),
  };
}

/** null when the target answers a real request; else why it cannot be measured. */
async function probe(target: Target, url: string): Promise<{ reason: string; failed: boolean } | null> {
  const res = await fetch(url + CHAT, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody(FAST, 'json') }).catch(
    (err: Error) => err,
  );
  if (res instanceof Error) return { reason: `unreachable (${res.message})`, failed: true };
  const text = await res.text();
  if (res.ok && completeBody('json', text)) return null;
  // The daemon's own 404 for a path it does not route: the gateway is not there
  // yet, which is not a failure of this benchmark. Any other answer is.
  if (target === 'gateway' && res.status === 404 && text.includes('"route_not_found"')) {
    return { reason: 'unavailable (404: the daemon has no /v1 route yet)', failed: false };
  }
  return { reason: `HTTP ${res.status}: ${text.slice(0, 200)}`, failed: true };
}

async function main(): Promise<number> {
  const cfg = readConfig();
  const [load1] = loadavg();
  // Every process on the path competes for the same cores; a busy machine shows up
  // as noise and as drift, so say so before anyone reads the numbers.
  if (load1! > availableParallelism() / 2) console.error(`bench: load average ${load1!.toFixed(1)} on ${availableParallelism()} CPUs before starting: expect noisy numbers`);
  const nginxBin = findNginx();
  if (!nginxBin) console.error(`bench: ${NGINX_MISSING}; measuring without the nginx column`);

  log('starting the daemon and two fake engines...\n');
  const berth = await startBerth();
  cleanups.push(berth.stop);
  if (process.env.BENCH_UI === 'only') {
    await berth.deploy('ui-bench', { FAKE_START_DELAY_MS: '0' });
    const ui = await benchUi(log, berth.url);
    console.log(`\n${ui.text}`);
    return ui.met ? 0 : 1;
  }
  if (cfg.stream === 'only') return streams(cfg, berth, nginxBin?.bin ?? null);
  const engine = { FAKE_START_DELAY_MS: '0', FAKE_TOKENS: String(TOKENS) };
  const fast = await berth.deploy(FAST, engine);
  const paced = await berth.deploy(PACED, { ...engine, FAKE_TOKEN_DELAY_MS: String(cfg.tokenDelayMs) });
  // Whose CPU each target adds to the engine's (direct adds none).
  const proxyPids: Partial<Record<Target, () => number[]>> = { direct: () => [], gateway: () => [berth.pid] };

  const base: Partial<Record<Target, { fast: string; paced: string }>> = {
    direct: { fast: `http://127.0.0.1:${fast.port}`, paced: `http://127.0.0.1:${paced.port}` },
    // The gateway routes by the body's model, so one address serves both engines.
    gateway: { fast: berth.url, paced: berth.url },
  };
  const skipped: Report['skipped'] = {};
  if (nginxBin) {
    const [fastListen, pacedListen] = [await freePort(), await freePort()];
    const nginx = await startNginx(nginxBin.bin, [
      { listen: fastListen, upstream: fast.port },
      { listen: pacedListen, upstream: paced.port },
    ]);
    cleanups.push(nginx.stop);
    base.nginx = { fast: `http://127.0.0.1:${fastListen}`, paced: `http://127.0.0.1:${pacedListen}` };
    proxyPids.nginx = nginx.pids;
  } else skipped.nginx = { reason: `skipped (${NGINX_MISSING})`, failed: false };

  const targets: Target[] = [];
  for (const t of ['direct', 'nginx', 'gateway'] as const) {
    const url = base[t];
    if (!url) continue;
    const why = await probe(t, url.fast);
    if (why) skipped[t] = why;
    else targets.push(t);
  }
  if (!targets.includes('direct')) throw new Error(`the fake engine does not answer: ${skipped.direct?.reason}`);
  log(`measuring ${targets.join(', ')}${Object.keys(skipped).length ? ` (not ${Object.keys(skipped).join(', ')})` : ''}\n`);

  // Warm-up: JIT in every process on the path, and nginx's upstream keepalive pool filled.
  const busiest = Math.max(...cfg.connections);
  for (const t of targets) for (const mode of MODES) await load(base[t]!.fast + CHAT, { model: FAST, mode, connections: busiest, seconds: cfg.warmup });

  // Targets interleaved per round, and the order rotated from round to round, so
  // that drift (a noisy neighbour, an engine slowing as it runs) hits them alike.
  const rows: LoadRow[] = [];
  let turn = 0;
  for (const mode of MODES) {
    for (const connections of cfg.connections) {
      const runs = new Map<Target, (LoadResult & { cpu: CpuUse })[]>(targets.map((t) => [t, []]));
      for (let round = 0; round < cfg.rounds; round++) {
        const order = targets.map((_, i) => targets[(i + turn) % targets.length]!);
        turn++;
        for (const target of order) {
          log(`  ${target} ${mode} c=${connections} round ${round + 1}/${cfg.rounds}: `);
          const proxy = proxyPids[target]!();
          const before = { proxy: cpuSeconds(proxy), engine: cpuSeconds([fast.pid]), at: performance.now() };
          const r = await load(base[target]!.fast + CHAT, { model: FAST, mode, connections, seconds: cfg.seconds });
          const cpu = cpuUse(before, { proxy: cpuSeconds(proxy), engine: cpuSeconds([fast.pid]), at: performance.now() }, r.ok);
          log(r.failures.length ? `FAILED ${r.failures.join('; ')}\n` : `${r.rps.toFixed(0)} req/s\n`);
          runs.get(target)!.push({ ...r, cpu });
        }
      }
      for (const target of targets) rows.push({ target, mode, connections, ...medianRound(runs.get(target)!) });
    }
  }

  log(`stream timing: ${cfg.ttfbN} sequential streams of ${TOKENS} tokens, ${cfg.tokenDelayMs} ms each, per target\n`);
  const ttfb: TtfbRow[] = [];
  for (const target of targets) ttfb.push({ target, ...(await streamTimings(base[target]!.paced + CHAT, PACED, cfg.ttfbN)) });

  const report: Report = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      cpus: `${availableParallelism()} × ${cpus()[0]?.model ?? 'unknown'}`,
      loadAverageBefore: load1,
      nginx: nginxBin?.version ?? null,
      secondsPerRound: cfg.seconds,
      rounds: cfg.rounds,
      connections: cfg.connections,
      tokens: TOKENS,
      tokenDelayMs: cfg.tokenDelayMs,
    },
    skipped,
    // Table order, whatever order they ran in.
    load: rows.sort((a, b) => MODES.indexOf(a.mode) - MODES.indexOf(b.mode) || a.connections - b.connections || targets.indexOf(a.target) - targets.indexOf(b.target)),
    ttfb,
    minReads: TOKENS / 2,
  };
  console.log(`\n${render(report)}`);
  writeFileSync(cfg.out, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nresults: ${cfg.out}`);
  const streamCode = cfg.stream === 'on' ? await streams(cfg, berth, nginxBin?.bin ?? null) : 0;
  const cli = await benchCli({ daemonUrl: berth.url, log });
  console.log(`\n${renderCli(cli)}`);
  const ui = process.env.BENCH_UI === '0' ? { text: 'UI: skipped (BENCH_UI=0)', met: true } : await benchUi(log, berth.url);
  console.log(`\n${ui.text}`);
  return verdict(report).failures.length || streamCode || cli.some((f) => !f.met) || !ui.met ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`bench: ${(err as Error).message}`);
} finally {
  await cleanup();
}
// Exit now: an idle keep-alive socket must not hold the process open.
process.exit(code);
