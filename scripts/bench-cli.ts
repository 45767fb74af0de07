// How quickly the `berth` command answers, as a user runs it: `node bin/berth.mjs`
// (the compiled dist/) in a fresh process each time, timed from spawn to exit.
// Three figures against the targets: `berth --help`, `berth ps` against
// a running daemon, and `berth serve` from spawn until /api/v1/health answers.
//
// Called at the end of `npm run bench` with the bench's own daemon for `ps`;
// `npm run bench:cli` runs it alone and starts a daemon of its own.
// Settings (environment): BENCH_CLI_RUNS quick commands per figure (10),
// BENCH_CLI_STARTS daemon starts (5).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from '../test/helpers/process.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(REPO, 'bin/berth.mjs');

export interface CliFigure {
  name: string;
  /** Judged on the median; the max is shown so a slow outlier is not hidden. null: a reference, not judged. */
  targetMs: number | null;
  p50Ms: number;
  maxMs: number;
  runs: number;
  met: boolean;
}

export interface CliBenchOptions {
  /** A daemon already up (the bench's own) for `berth ps`; otherwise one is started. */
  daemonUrl?: string;
  runs?: number;
  starts?: number;
  log?: (s: string) => void;
}

// Only what the command needs: the caller's BERTH_* (an API key, a host) would
// point it elsewhere, and FAKE_* knobs would reach the fake engines.
// NODE_EXTRA_CA_CERTS makes Node 20 read and parse a CA bundle before any user
// code runs (about 100 ms per process on a sandbox that sets it), a cost of
// that machine's setup, not of Berth: the timings leave it out, and say so.
const STARTUP_ONLY = ['NODE_EXTRA_CA_CERTS'];
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(BERTH|FAKE)_/.test(k) && !STARTUP_ONLY.includes(k)),
  );
  return { ...(inherited as Record<string, string>), ...extra };
}

/** Milliseconds from spawn to exit of one `berth` command; a failed command ends the bench. */
function timeCommand(args: string[], env: Record<string, string>): Promise<number> {
  return timeNode([BIN, ...args], env);
}

function timeNode(argv: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`node ${argv.join(' ')} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

/** true once the daemon answers its health route; false while nothing listens. */
function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(`${url}/api/v1/health`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
  });
}

interface Serve {
  url: string;
  /** Spawn to the first 200 from /api/v1/health. */
  listenMs: number;
  stop(): Promise<void>;
}

/** `berth serve` on a free port with a fresh home and the fake nvidia-smi, as the tests run it. */
async function startServe(): Promise<Serve> {
  const home = mkdtempSync(join(tmpdir(), 'berth-bench-cli-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = cleanEnv({
    BERTH_HOME: home,
    BERTH_LOG_LEVEL: 'warn',
    BERTH_NVIDIA_SMI: join(REPO, 'test/fakes/bin/nvidia-smi'),
    FAKE_NVIDIA_SMI_MACHINE: 'h100x8',
  });
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--port', String(port)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(home, { recursive: true, force: true });
  };
  // A refused connection costs microseconds, so polling every 5 ms adds at most
  // that to the figure without taking a core from the daemon it is timing.
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`berth serve exited with ${child.exitCode}: ${output.trim()}`);
    }
    if (await healthy(url)) break;
    if (performance.now() - started > 30_000) {
      await stop();
      throw new Error(`berth serve did not answer within 30 s: ${output.trim()}`);
    }
    await sleep(5);
  }
  return { url, listenMs: performance.now() - started, stop };
}

function figure(name: string, targetMs: number | null, samples: number[]): CliFigure {
  const sorted = [...samples].sort((a, b) => a - b);
  const p50Ms = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { name, targetMs, p50Ms, maxMs: sorted.at(-1)!, runs: sorted.length, met: targetMs === null || p50Ms <= targetMs };
}

export async function benchCli(opts: CliBenchOptions = {}): Promise<CliFigure[]> {
  const runs = opts.runs ?? positive('BENCH_CLI_RUNS', 10);
  const starts = opts.starts ?? positive('BENCH_CLI_STARTS', 5);
  const log = opts.log ?? ((s: string) => process.stderr.write(s));

  // Node itself, starting and exiting with nothing to do: the floor under every
  // figure here, and on a busy machine the yardstick for reading them.
  const dropped = STARTUP_ONLY.filter((k) => process.env[k] !== undefined);
  if (dropped.length) log(`cli: timed without ${dropped.join(', ')} (set here; Node reads it at every start, whatever the program)\n`);
  log(`cli: node -e 0 × ${runs}\n`);
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) bare.push(await timeNode(['-e', '0'], cleanEnv({})));

  log(`cli: berth --help × ${runs}\n`);
  const help: number[] = [];
  // One untimed run first: the first spawn after a build reads files from disk.
  await timeCommand(['--help'], cleanEnv({}));
  for (let i = 0; i < runs; i++) help.push(await timeCommand(['--help'], cleanEnv({})));

  log(`cli: daemon start to listening × ${starts}\n`);
  const listen: number[] = [];
  let daemon: Serve | undefined;
  try {
    for (let i = 0; i < starts; i++) {
      const s = await startServe();
      listen.push(s.listenMs);
      // The last one stays up for `berth ps` unless the caller has a daemon.
      if (i === starts - 1 && !opts.daemonUrl) daemon = s;
      else await s.stop();
    }
    const url = new URL(opts.daemonUrl ?? daemon!.url);
    log(`cli: berth ps × ${runs} against ${url.origin}\n`);
    const psEnv = cleanEnv({ BERTH_HOST: url.hostname, BERTH_PORT: url.port });
    const ps: number[] = [];
    await timeCommand(['ps'], psEnv);
    for (let i = 0; i < runs; i++) ps.push(await timeCommand(['ps'], psEnv));
    return [figure('node -e 0 (reference)', null, bare), figure('berth --help', 150, help), figure('berth ps', 250, ps), figure('daemon start → listening', 1000, listen)];
  } finally {
    await daemon?.stop();
  }
}

export function renderCli(figures: CliFigure[]): string {
  const rows = [['CLI (fresh process each run)', 'runs', 'p50', 'max', 'target (p50)', ''], ...figures.map((f) => [
    f.name,
    String(f.runs),
    `${f.p50Ms.toFixed(0)} ms`,
    `${f.maxMs.toFixed(0)} ms`,
    f.targetMs === null ? '' : `≤ ${f.targetMs} ms`,
    f.targetMs === null ? '' : f.met ? '✓' : '✗',
  ])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${raw}: expected a whole number ≥ 1`);
  return n;
}

// `npm run bench:cli`: these figures alone, without nginx or the load runs.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const figures = await benchCli();
    console.log(`\n${renderCli(figures)}`);
    process.exitCode = figures.every((f) => f.met) ? 0 : 1;
  } catch (err) {
    console.error(`bench:cli: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
