// The daemon under test, run as `berth serve` in a process of its own: in-process
// (startDaemon) the gateway would share an event loop with the load generator
// and the benchmark would measure their contention, not the gateway.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../../test/helpers/process.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { DeploymentStatus } from '../../daemon/contract/api.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface Berth {
  url: string;
  /** The daemon's process: the gateway runs in it. */
  pid: number;
  /** Creates a one-replica deployment of the fake engine; resolves to its engine's port and process once ready. */
  deploy(name: string, env: Record<string, string>, backend?: 'vllm' | 'sglang'): Promise<{ port: number; pid: number }>;
  stop(): Promise<void>;
}


/** Polls fn until it returns a value; an error thrown by fn ends the wait. */
async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

export interface BerthOptions {
  /** A command the daemon runs under (e.g. valgrind and its flags): the process keeps its pid. */
  wrapper?: string[];
  /** Settings for the daemon (BERTH_ENGINE_PORT_BASE: two daemons side by side must not share engine ports). */
  env?: Record<string, string>;
  /** Flags for the daemon's node (--perf-basic-prof: JIT code named in /tmp/perf-<pid>.map, for callgrind's unnamed code). */
  nodeArgs?: string[];
  /** How long to wait for the daemon to listen (ms); a wrapped daemon starts slowly. */
  startTimeoutMs?: number;
}

export async function startBerth(opts: BerthOptions = {}): Promise<Berth> {
  const home = mkdtempSync(join(tmpdir(), 'berth-bench-home-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The caller's BERTH_* (an API key, a host) and FAKE_* (failure knobs, which the
  // daemon would hand on to the engines) would change what is measured.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(BERTH|FAKE)_/.test(k)));
  // BENCH_DAEMON_PROFILE=<dir>: the daemon writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_DAEMON_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_DAEMON_PROFILE] : [];
  const [command, ...args] = [...(opts.wrapper ?? []), process.execPath, ...(opts.nodeArgs ?? []), ...profile, join(REPO, 'bin/berth.mjs'), 'serve', '--port', String(port)];
  const child = spawn(command!, args, {
    env: {
      ...inherited,
      BERTH_HOME: home,
      BERTH_LOG_LEVEL: 'warn',
      // The fakes: an 8×H100 box whose "python" starts the fake vLLM (or SGLang) server.
      BERTH_VLLM_PYTHON: join(REPO, 'test/fakes/bin/python'),
      BERTH_SGLANG_PYTHON: join(REPO, 'test/fakes/bin/python'),
      BERTH_NVIDIA_SMI: join(REPO, 'test/fakes/bin/nvidia-smi'),
      FAKE_NVIDIA_SMI_MACHINE: 'h100x8',
      // Keeps shutdown well inside stop()'s wait below.
      BERTH_STOP_GRACE_MS: '3000',
      ...opts.env,
    },
    // Its own process group: Ctrl-C reaches only the bench, which then stops the
    // daemon in order (engines first) instead of racing it.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // BENCH_DAEMON_ECHO=1: the daemon's output goes on to the bench's stderr as well.
  const echo = process.env.BENCH_DAEMON_ECHO === '1';
  const keep = (c: Buffer) => {
    if (echo) process.stderr.write(c);
    output = (output + c.toString()).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const api = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        // SIGTERM: the daemon stops every engine, then exits. SIGKILL only if it hangs.
        child.kill('SIGTERM');
        const hung = await Promise.race([exited.then(() => false), sleep(10_000).then(() => true)]);
        if (hung) {
          process.kill(-child.pid!, 'SIGKILL');
          await exited;
        }
      }
      rmSync(home, { recursive: true, force: true });
    })());

  try {
    await until('the daemon to listen', opts.startTimeoutMs ?? 20_000, async () => {
      if (child.exitCode !== null) throw new Error(`berth serve exited with ${child.exitCode}:\n${output}`);
      // Refused connections are expected until it listens.
      return (await fetch(url + '/api/v1/health').then((r) => r.ok, () => false)) || undefined;
    });
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url,
    pid: child.pid!,
    stop,
    async deploy(name, env, backend = 'vllm') {
      await api('POST', '/api/v1/deployments', {
        name,
        modelId: 'Qwen/Qwen2.5-0.5B-Instruct',
        backend,
        // What a throughput-minded vLLM deployment runs with: no per-request log lines
        // (SGLang logs none by default).
        backendArgs: backend === 'vllm' ? ['--disable-uvicorn-access-log', '--disable-log-requests'] : [],
        // One replica: the gateway must not win by scaling out behind our back.
        scale: { min: 1, max: 1 },
        env,
      });
      return until(`deployment ${name} to be ready`, Math.max(60_000, opts.startTimeoutMs ?? 0), async () => {
        const d = await api<DeploymentStatus>('GET', `/api/v1/deployments/${name}`);
        if (d.state === 'failed') throw new Error(`deployment ${name} failed: ${d.reason}`);
        const r = d.replicas[0];
        return d.state === 'ready' && r?.port && r.pid ? { port: r.port, pid: r.pid } : undefined;
      });
    },
  };
}
