// Instruction counts of a proxy's streaming path, for changes too small for
// the timed bench to see on a shared 2-core machine. The proxy (Berth's
// daemon, or the logic-free Node relay) runs under valgrind's callgrind with
// instrumentation off until it is warm; then the load generator dumps the
// proxy's count each time a frame reaches it. callgrind counts the process's
// own instructions, every thread (JIT code, V8, libuv), not the kernel's: the
// same for the same build and inputs whatever else the machine is doing.
// Syscalls are the kernel's share; count them with strace.
//
// The engine (the fake SGLang by default, INSTR_BACKEND=vllm for the fake
// vLLM) spends INSTR_DELAY_MS per token, long enough for each dump to finish
// before the next frame: every frame is a read of its own, as with few
// streams at once. The daemon's own work is kept out of the counts: its
// timers (node::Environment::RunTimers and all they run: the sampler, the
// autoscaler, the deadline check) are taken off each count, and a count in
// which its sampler's fetches ran (undici's parser is WebAssembly, which the
// request path never runs) is left out. SGLang by default because the fake
// vLLM serves /metrics, whose parse the sampler runs every 2 s (tens of
// millions of instructions under callgrind, after the fetch, not under a
// timer): on a loaded machine, where valgrind runs slowly, it lands in most
// counts and leaves few to keep. The gateway's path is the same for both but
// for the usage event at a stream's end.
// Streams go one at a time, on one connection:
// - INSTR_REQUESTS streams of one token: the count up to the first frame is a
//   request's own cost (head, body, routing, lease, engine write, the response
//   head) and its first frame; the rest, its three frames and its end;
// - INSTR_STREAMS streams of INSTR_TOKENS tokens: a frame's cost, from the
//   reads in the middle of each stream.
// - INSTR_CONCURRENT streams at once, counted in windows of 256 frames, less
//   the timers, the windows with the sampler's fetches left out: everything,
//   per frame.
// The first three are printed as typical (the mean of the lowest 70% of the
// counts kept: the path, and its share of garbage collection) and as the
// median, with how many counts were kept.
//
//   node --import tsx scripts/bench/stream-instructions.ts
//
// Settings (environment): INSTR_TARGETS (gateway,relay), INSTR_REQUESTS (40),
// INSTR_STREAMS (2), INSTR_TOKENS (32), INSTR_DELAY_MS (300),
// INSTR_CONCURRENT (128), INSTR_BACKEND (sglang), INSTR_WARMUP streams at full speed (640),
// INSTR_ENGINE_PORT_BASE (the daemon's default; set it apart to run two
// builds side by side), INSTR_KEEP (a folder to keep the callgrind files in,
// for callgrind_annotate).
import { execFileSync } from 'node:child_process';
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
const backend = process.env.INSTR_BACKEND === 'vllm' ? 'vllm' : 'sglang';
const warmup = env('INSTR_WARMUP', 640);
const keep = process.env.INSTR_KEEP;

const PACED = 'instr-paced';
/** Frames per count of the concurrent batch. */
const WINDOW = 256;
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

/**
 * A callgrind monitor command ('dump', 'instrumentation on'), sent straight
 * with vgdb: callgrind_control is a perl script that lists every valgrind
 * process first, and on a loaded machine its start alone stretched a
 * one-frame window past the sampler's 2 s tick. vgdb wakes a daemon idle in
 * epoll at once rather than after its default 100 ms.
 */
function control(pid: number, command: string): void {
  execFileSync('vgdb', [`--pid=${pid}`, '--max-invoke-ms=1', ...command.split(' ')], { stdio: 'ignore' });
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
  /** JavaScript timers (node::Environment::RunTimers), with what they run: the daemon's ticks, never the request path, which arms none. */
  timers: number;
  /**
   * WebAssembly ran: undici's HTTP parser, i.e. the daemon's own fetches (the
   * sampler reading each engine's /metrics every 2 s, tens of millions of
   * instructions to parse under callgrind). The request path uses none.
   */
  wasm: boolean;
}

/** Which of a dump's functions are counted apart, by name. */
const COMPILE = /OptimizedCompilationJob::ExecuteJob/;
const GC = /Heap::CollectGarbage|Scavenger::Process\b/;
const TIMERS = /^node::Environment::RunTimers\(/;
const WASM = /JSToWasm/;

/**
 * Reads a callgrind file: its total, and the inclusive cost of the calls into
 * each group of functions above (a call from inside the group is not counted
 * twice). In the file, the line after `calls=` is that call's inclusive cost;
 * names are given once, as `(id) name`, then by id.
 */
function readCallgrind(text: string): Dump {
  const names = new Map<string, string>();
  const name = (ref: string): string => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(ref);
    if (!m) return ref;
    if (m[2] !== undefined) names.set(m[1]!, m[2]);
    return names.get(m[1]!) ?? '';
  };
  const out: Dump = { total: 0, compile: 0, gc: 0, timers: 0, wasm: false };
  let fn = '';
  let callee = '';
  let callCost = false;
  for (const line of text.split('\n')) {
    if (callCost) {
      callCost = false;
      const cost = Number(line.slice(line.lastIndexOf(' ') + 1));
      for (const [re, key] of [[COMPILE, 'compile'], [GC, 'gc'], [TIMERS, 'timers']] as const) {
        if (re.test(callee) && !re.test(fn)) out[key] += cost;
      }
      continue;
    }
    if (line.startsWith('fn=')) {
      fn = name(line.slice(3));
      if (WASM.test(fn)) out.wasm = true;
    } else if (line.startsWith('cfn=')) {
      callee = name(line.slice(4));
      if (WASM.test(callee)) out.wasm = true;
    } else if (line.startsWith('calls=')) callCost = true;
    else if (line.startsWith('summary: ') || line.startsWith('totals: ')) out.total = Number(line.slice(line.indexOf(' ') + 1));
  }
  return out;
}

/** Instructions counted since the last dump: dumps them and reads them back. */
function dump(dir: string, p: Proxy): Dump {
  const before = new Set(readdirSync(dir));
  control(p.pid, 'dump');
  const file = readdirSync(dir).find((f) => f.startsWith(`${p.name}.${p.pid}.`) && !before.has(f));
  if (!file) throw new Error(`callgrind wrote no dump for ${p.name}`);
  const path = join(dir, file);
  const out = readCallgrind(readFileSync(path, 'utf8'));
  if (!out.total) throw new Error(`no total in ${file}`);
  if (!keep) rmSync(path);
  return out;
}

/**
 * What a count says of the path: its total without the optimising compiler's
 * work (V8 does it on worker threads that valgrind runs whenever it gets to
 * them, so it spills into whatever is counted next) and without the daemon's
 * timers; null when the daemon's own fetches ran in it (their parse is not
 * under a timer, and a count that holds one says nothing of the path).
 */
const counted = (d: Dump): number | null => (d.wasm ? null : d.total - d.compile - d.timers);

async function run(p: Proxy, model: string, n: number, maxTokens: number, sequential: boolean, hooks?: LoadHooks): Promise<void> {
  const samples = await runJob(job(p.port(model), model, n, maxTokens, sequential), hooks);
  const bad = samples.find((s) => s.error || s.frames !== maxTokens + 3);
  if (bad) throw new Error(`${p.name}: a stream failed: ${bad.error ?? `${bad.frames} frames of ${maxTokens + 3}`}`);
}

interface Counts {
  /** Per stream of one token: the count at each read that brought frames (null: left out, see counted()). */
  requests: (number | null)[][];
  /** Reads of one frame in the middle of the long streams (left-out ones not kept). */
  frames: number[];
  /** Reads of one frame that were left out. */
  framesLeftOut: number;
  /** A batch of INSTR_CONCURRENT streams at once, per frame: all of it (compiling and timers left out), and GC; over the frames of the windows kept. */
  concurrent: { perFrame: number; gc: number; compile: number; timers: number; keptFrames: number; allFrames: number };
}

async function measure(dir: string, p: Proxy): Promise<Counts> {
  // Warm, at full speed from an engine that does not wait: every function on
  // the path optimised, the proxy's upstream pool filled.
  for (let done = 0; done < warmup; done += 64) {
    await run(p, FAST, Math.min(64, warmup - done), tokens, false);
    await run(p, FAST, Math.min(64, warmup - done), 1, true);
  }
  control(p.pid, 'instrumentation on');
  // The first streams after instrumentation goes on pay valgrind's translation of every block: not counted.
  await run(p, PACED, 3, 2, true);
  dump(dir, p);

  const requestCounts: (number | null)[][] = [];
  let current: (number | null)[] = [];
  await run(p, PACED, requests, 1, true, {
    onFrames: () => current.push(counted(dump(dir, p))),
    afterEach: () => {
      requestCounts.push(current);
      current = [];
    },
  });
  const frameCounts: number[] = [];
  let framesLeftOut = 0;
  let reads = 0;
  await run(p, PACED, streams, tokens, true, {
    onFrames(n) {
      const count = counted(dump(dir, p));
      // The first reads carry the request; the last ones the stream's end.
      if (n !== 1 || ++reads <= 2 || reads >= tokens) return;
      if (count === null) framesLeftOut++;
      else frameCounts.push(count);
    },
    afterEach: () => (reads = 0),
  });
  // Many streams at once: per-request work, garbage collection and
  // everything else the proxy does, per frame. Counted in windows of about
  // WINDOW frames, each without the timers; a window in which the sampler's
  // fetches ran is left out with its frames. A first batch lets whatever V8
  // still had to optimise for this pattern finish.
  await run(p, FAST, concurrent, tokens, false);
  await run(p, PACED, concurrent, tokens, false);
  dump(dir, p);
  const windows: { dump: Dump; frames: number }[] = [];
  let frames = 0;
  await run(p, PACED, concurrent, tokens, false, {
    onFrames(n) {
      frames += n;
      if (frames < WINDOW) return;
      windows.push({ dump: dump(dir, p), frames });
      frames = 0;
    },
  });
  windows.push({ dump: dump(dir, p), frames });
  control(p.pid, 'instrumentation off');
  const kept = windows.filter((w) => !w.dump.wasm);
  const keptFrames = kept.reduce((a, w) => a + w.frames, 0);
  const per = (f: (d: Dump) => number) => kept.reduce((a, w) => a + f(w.dump), 0) / keptFrames;
  return {
    requests: requestCounts,
    frames: frameCounts,
    framesLeftOut,
    concurrent: {
      perFrame: per((d) => d.total - d.compile - d.timers),
      gc: per((d) => d.gc),
      compile: per((d) => d.compile),
      timers: per((d) => d.timers),
      keptFrames,
      allFrames: windows.reduce((a, w) => a + w.frames, 0),
    },
  };
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
const k = (x: number) => `${(x / 1000).toFixed(1)}k`;

/**
 * The mean of the lowest 70%: a garbage collection or a window the dump
 * caught late lands in fewer samples than that and is left out, while a
 * frame whose work the dump cut in two still adds up across the two samples.
 */
function typical(xs: number[]): number {
  const low = [...xs].sort((a, b) => a - b).slice(0, Math.max(1, Math.round(xs.length * 0.7)));
  return low.reduce((a, b) => a + b, 0) / low.length;
}

const isCount = (x: number | null): x is number => x !== null;

function report(label: string, c: Counts): void {
  // Reads per stream can differ (the last frames may come together): only the first read is compared read by read.
  const first = c.requests.map((r) => r[0]!).filter(isCount);
  // A stream whose frames all came in its first read has no rest to count.
  const rest = c.requests.filter((r) => r.length > 1 && r.every(isCount)).map((r) => (r.slice(1) as number[]).reduce((a, b) => a + b, 0));
  const both = (xs: number[], of: number) =>
    `${k(typical(xs)).padStart(7)} typical, ${k(median(xs)).padStart(7)} median (${xs.length} of ${of} samples; the rest held the sampler's fetches)`;
  const withRest = c.requests.filter((r) => r.length > 1).length;
  process.stdout.write(
    `${label}\n` +
      `  request to first frame:     ${both(first, c.requests.length)}\n` +
      `  rest of a 1-token stream:   ${both(rest, withRest)}\n` +
      `  one frame in a read:        ${both(c.frames, c.frames.length + c.framesLeftOut)}\n` +
      `  ${concurrent} streams at once, per frame: ${k(c.concurrent.perFrame)} all told, of which GC ${k(c.concurrent.gc)} ` +
      `(left out: optimising compiler ${k(c.concurrent.compile)}, timers ${k(c.concurrent.timers)}; ` +
      `over ${c.concurrent.keptFrames} of ${c.concurrent.allFrames} frames)\n`,
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
