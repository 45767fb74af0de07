// Instruction counts of a proxy's streaming path, for changes too small for
// the timed bench to see on a shared 2-core machine. The proxy (Berth's
// daemon, or the logic-free Node relay) runs under valgrind's callgrind with
// instrumentation off until it is warm; then the load generator dumps the
// proxy's count each time a frame reaches it. callgrind counts the process's
// own instructions, every thread (JIT code, V8, libuv), not the kernel's: the
// same for the same build and inputs whatever else the machine is doing.
// Syscalls are the kernel's share; count them with strace.
//
// The engine (the fake vLLM, as in the timed bench, or INSTR_BACKEND=sglang)
// spends INSTR_DELAY_MS per token, long enough for each dump to finish before
// the next frame: every frame is a read of its own, as with few streams at
// once. The daemon's timers (its sampler reads and parses vLLM's /metrics
// every 2 s: tens of millions of instructions) are what a figure's typical
// value leaves out, and the batch's idle window takes off.
// Streams go one at a time, on one connection:
// - INSTR_REQUESTS streams of one token: the count up to the first frame is a
//   request's own cost (head, body, routing, lease, engine write, the response
//   head) and its first frame; the rest, its three frames and its end;
// - INSTR_STREAMS streams of INSTR_TOKENS tokens: a frame's cost, from the
//   reads in the middle of each stream.
// - INSTR_CONCURRENT streams at once, counted as a whole, less the idle rate
//   (the daemon's timers) over a window as long: everything, per frame.
// The first three are printed as typical (the mean of the lowest 70% of their
// samples: the path, and its share of garbage collection, without the
// daemon's timer ticks) and as the median.
//
//   node --import tsx scripts/bench/stream-instructions.ts
//
// Settings (environment): INSTR_TARGETS (gateway,relay), INSTR_REQUESTS (40),
// INSTR_STREAMS (2), INSTR_TOKENS (32), INSTR_DELAY_MS (300),
// INSTR_CONCURRENT (128), INSTR_BACKEND (vllm), INSTR_WARMUP streams at full speed (640),
// INSTR_ENGINE_PORT_BASE (the daemon's default; set it apart to run two
// builds side by side), INSTR_KEEP (a folder to keep the callgrind files in,
// for callgrind_annotate).
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/process.js';
import { startBerth } from './berth.js';
import { startRelay } from './relay.js';
import { runJob, type LoadHooks, type StreamJob } from './stream-load.js';

const env = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const targets = (process.env.INSTR_TARGETS ?? 'gateway,relay').split(',');
const requests = env('INSTR_REQUESTS', 40);
const streams = env('INSTR_STREAMS', 2);
const tokens = env('INSTR_TOKENS', 32);
const delayMs = env('INSTR_DELAY_MS', 300);
const concurrent = env('INSTR_CONCURRENT', 128);
const backend = process.env.INSTR_BACKEND === 'sglang' ? 'sglang' : 'vllm';
const warmup = env('INSTR_WARMUP', 640);
const keep = process.env.INSTR_KEEP;

const PACED = 'instr-paced';
const FAST = 'instr-fast';
// The Node process's start-up parses a CA bundle when this is set; nothing measured needs it.
delete process.env.NODE_EXTRA_CA_CERTS;

const job = (port: number, model: string, n: number, maxTokens: number, sequential: boolean): StreamJob => ({
  port,
  path: '/v1/chat/completions',
  body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: maxTokens, stream: true, stream_options: { include_usage: true } }),
  streams: n,
  sequential,
  idleTimeoutMs: 600_000,
});

function callgrind(dir: string, name: string): string[] {
  return ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(dir, `${name}.%p`)}`, '--trace-children=no'];
}

function control(pid: number, ...args: string[]): void {
  execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' });
}

/** One proxy process under callgrind, and the port it serves each engine on. */
interface Proxy {
  /** Its callgrind files' prefix. */
  name: string;
  pid: number;
  port: (model: string) => number;
}

interface Dump {
  total: number;
  /** Optimising compiler jobs (TurboFan, on V8's worker threads): a warm proxy's share tends to nothing, a cold one's swamps the rest. */
  compile: number;
  /** Garbage collection, on the main thread and V8's workers. */
  gc: number;
}

const INCLUSIVE = /^\s*([\d,]+) \([^)]*\)\s+\?\?\?:(v8::internal::OptimizedCompilationJob::ExecuteJob|v8::internal::Heap::CollectGarbage|v8::internal::Scavenger::Process)\(/gm;

/** Instructions counted since the last dump: dumps them and reads the total back (and, with `parts`, what compiling and GC took). */
function dump(dir: string, p: Proxy, parts = false): Dump {
  const before = new Set(readdirSync(dir));
  control(p.pid, '--dump');
  const file = readdirSync(dir).find((f) => f.startsWith(`${p.name}.${p.pid}.`) && !before.has(f));
  if (!file) throw new Error(`callgrind wrote no dump for ${p.name}`);
  const path = join(dir, file);
  const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(path, 'utf8'));
  if (!m) throw new Error(`no total in ${file}`);
  const out: Dump = { total: Number(m[1]), compile: 0, gc: 0 };
  if (parts) {
    const text = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
    for (const [, n, fn] of text.matchAll(INCLUSIVE)) {
      const v = Number(n!.replaceAll(',', ''));
      if (fn!.endsWith('ExecuteJob')) out.compile += v;
      else out.gc += v;
    }
  }
  if (!keep) rmSync(path);
  return out;
}

/**
 * What a count says of the path: its total without the optimising compiler's
 * work, which V8 does on worker threads that valgrind runs whenever it gets to
 * them, so that it spills into whatever is counted next.
 */
const counted = (d: Dump) => d.total - d.compile;

async function run(p: Proxy, model: string, n: number, maxTokens: number, sequential: boolean, hooks?: LoadHooks): Promise<void> {
  const samples = await runJob(job(p.port(model), model, n, maxTokens, sequential), hooks);
  const bad = samples.find((s) => s.error || s.frames !== maxTokens + 3);
  if (bad) throw new Error(`${p.name}: a stream failed: ${bad.error ?? `${bad.frames} frames of ${maxTokens + 3}`}`);
}

interface Counts {
  /** Per stream of one token: the count at each read that brought frames. */
  requests: number[][];
  /** Reads of one frame in the middle of the long streams. */
  frames: number[];
  /** A batch of INSTR_CONCURRENT streams at once, less the idle rate, per frame: all of it, compiling left out, and GC. */
  concurrent: { perFrame: number; gc: number; compile: number };
}

async function measure(dir: string, p: Proxy): Promise<Counts> {
  // Warm, at full speed from an engine that does not wait: every function on
  // the path optimised, the proxy's upstream pool filled.
  for (let done = 0; done < warmup; done += 64) {
    await run(p, FAST, Math.min(64, warmup - done), tokens, false);
    await run(p, FAST, Math.min(64, warmup - done), 1, true);
  }
  control(p.pid, '--instr=on');
  // The first streams after instrumentation goes on pay valgrind's translation of every block: not counted.
  await run(p, PACED, 3, 2, true);
  dump(dir, p);

  const requestCounts: number[][] = [];
  let current: number[] = [];
  await run(p, PACED, requests, 1, true, {
    onFrames: () => current.push(counted(dump(dir, p, true))),
    afterEach: () => {
      requestCounts.push(current);
      current = [];
    },
  });
  const frameCounts: number[] = [];
  let reads = 0;
  await run(p, PACED, streams, tokens, true, {
    onFrames(n) {
      const count = counted(dump(dir, p, true));
      // The first reads carry the request; the last ones the stream's end.
      if (n === 1 && ++reads > 2 && reads < tokens) frameCounts.push(count);
    },
    afterEach: () => (reads = 0),
  });
  // Many streams at once, counted whole: per-request work, garbage collection
  // and everything else the proxy does, per frame. The idle rate (the daemon's
  // timers) is measured over a window as long and taken off. A first batch
  // lets whatever V8 still had to optimise for this pattern finish.
  await run(p, FAST, concurrent, tokens, false);
  await run(p, PACED, concurrent, tokens, false);
  dump(dir, p);
  let t0 = performance.now();
  await run(p, PACED, concurrent, tokens, false);
  const batchMs = performance.now() - t0;
  const batch = dump(dir, p, true);
  t0 = performance.now();
  await sleep(batchMs);
  const idle = dump(dir, p, true);
  const scale = batchMs / (performance.now() - t0);
  control(p.pid, '--instr=off');
  const frames = concurrent * (tokens + 3);
  const net = (f: (d: Dump) => number) => (f(batch) - scale * f(idle)) / frames;
  return {
    requests: requestCounts,
    frames: frameCounts,
    concurrent: { perFrame: net((d) => d.total - d.compile), gc: net((d) => d.gc), compile: net((d) => d.compile) },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const k = (x: number) => `${(x / 1000).toFixed(1)}k`;

/**
 * The mean of the lowest 70%: the daemon's timer ticks (the sampler, the
 * autoscaler; tens of thousands to millions of instructions) land in fewer
 * samples than that and are left out, while a frame whose work the dump cut
 * in two still adds up across the two samples.
 */
function typical(xs: number[]): number {
  const low = [...xs].sort((a, b) => a - b).slice(0, Math.max(1, Math.round(xs.length * 0.7)));
  return low.reduce((a, b) => a + b, 0) / low.length;
}

function report(label: string, c: Counts): void {
  // Reads per stream can differ (the last frames may come together): only the first read is compared read by read.
  const first = c.requests.map((r) => r[0]!);
  // A stream whose frames all came in its first read has no rest to count.
  const rest = c.requests.filter((r) => r.length > 1).map((r) => r.slice(1).reduce((a, b) => a + b, 0));
  const both = (xs: number[]) => `${k(typical(xs)).padStart(7)} typical, ${k(median(xs)).padStart(7)} median`;
  process.stdout.write(
    `${label}\n` +
      `  request to first frame:     ${both(first)}\n` +
      `  rest of a 1-token stream:   ${both(rest)}\n` +
      `  one frame in a read:        ${both(c.frames)}\n` +
      `  ${concurrent} streams at once, per frame: ${k(c.concurrent.perFrame)} all told, of which GC ${k(c.concurrent.gc)} ` +
      `(optimising compiler ${k(c.concurrent.compile)}, left out)\n`,
  );
}

async function main(): Promise<void> {
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'berth-instr-'));
  const cleanups: (() => Promise<void>)[] = [];
  try {
    process.stderr.write('starting the daemon under callgrind (a minute or two)...\n');
    const portBase = process.env.INSTR_ENGINE_PORT_BASE;
    const berth = await startBerth({
      wrapper: callgrind(dir, 'gateway'),
      startTimeoutMs: 600_000,
      nodeArgs: keep ? ['--perf-basic-prof'] : [],
      env: portBase ? { BERTH_ENGINE_PORT_BASE: portBase } : {},
    });
    cleanups.push(berth.stop);
    const engineEnv = (delay: number) => ({ FAKE_START_DELAY_MS: '0', FAKE_WARMUP_MS: '0', FAKE_TOKENS: String(tokens + 10), FAKE_TOKEN_DELAY_MS: String(delay) });
    const paced = await berth.deploy(PACED, engineEnv(delayMs), backend);
    const fast = await berth.deploy(FAST, engineEnv(0), backend);
    for (const t of targets) {
      process.stderr.write(`measuring the ${t}...\n`);
      if (t === 'gateway') {
        const port = Number(new URL(berth.url).port);
        report(t, await measure(dir, { name: 'gateway', pid: berth.pid, port: () => port }));
      } else if (t === 'relay') {
        // One relay process in front of each engine; only the paced one is counted.
        const relayPaced = await startRelay(await freePort(), paced.port, 1, callgrind(dir, 'relay'), 300_000);
        cleanups.push(relayPaced.stop);
        const relayFast = await startRelay(await freePort(), fast.port);
        cleanups.push(relayFast.stop);
        // The fast relay warms a different process: warm the counted one on the paced engine too.
        const proxy: Proxy = { name: 'relay', pid: relayPaced.pids()[0]!, port: (m) => (m === PACED ? relayPaced.port : relayFast.port) };
        for (let i = 0; i < 3; i++) await run(proxy, PACED, 64, 4, false);
        report(t, await measure(dir, proxy));
      } else throw new Error(`INSTR_TARGETS: unknown target ${t}`);
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
