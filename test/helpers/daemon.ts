// Starts a real daemon in this process (or as a child process) with the fakes
// on its tool paths: the daemon code is the production code, only settings
// point at test/fakes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { loadSettings, type Settings, type SettingsInput } from '../../daemon/config/settings.js';
import type { BerthEvent, DeploymentStatus } from '../../daemon/contract/api.js';
import { createClient, fetchTransport, type Client } from '../../daemon/contract/client.js';
import { startDaemon, type RunningDaemon } from '../../daemon/main.js';
import { isAlive } from '../../daemon/state/proc.js';
import { SAFETY_MS } from './limits.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const FAKE_PYTHON = join(REPO, 'test/fakes/bin/python');
export const FAKE_NVIDIA_SMI = join(REPO, 'test/fakes/bin/nvidia-smi');

export function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'berth-test-'));
}

const SLOTS = 120;
const SLOT_DIR = join(tmpdir(), 'berth-test-port-slots');
const mySlots: string[] = [];

/**
 * A port range of its own per test daemon: one of 120 slots of 100 ports,
 * claimed with an exclusive file so that no two test processes on the machine
 * hold the same slot (a random pick shared one about once a run, and an
 * engine of one daemon then bound the port another daemon had just probed
 * free, so the second daemon's readiness probe reached the first one's
 * engine). A slot is held until this process exits; one whose owner is gone
 * is taken over. Below Linux's ephemeral range (32768-60999): there, any
 * client socket on the machine (a test's own requests, a benchmark's thousand
 * streams) may hold the port an engine is about to bind.
 */
export function randomPortBase(): number {
  mkdirSync(SLOT_DIR, { recursive: true });
  const first = Math.floor(Math.random() * SLOTS);
  const claim = (file: string): boolean => {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
    } catch {
      return false;
    }
    if (mySlots.length === 0) process.once('exit', () => mySlots.forEach((f) => rmSync(f, { force: true })));
    mySlots.push(file);
    return true;
  };
  const owner = (file: string): number => {
    try {
      return Number(readFileSync(file, 'utf8').trim()) || 0;
    } catch {
      return 0;
    }
  };
  // First lap: free slots only. Second lap: take over slots whose owner is gone.
  for (let i = 0; i < SLOTS * 2; i++) {
    const slot = (first + i) % SLOTS;
    const file = join(SLOT_DIR, String(slot));
    if (i >= SLOTS) {
      const pid = owner(file);
      if (pid === process.pid || (pid > 0 && isAlive(pid))) continue;
      rmSync(file, { force: true });
    }
    if (claim(file)) return 20000 + slot * 100;
  }
  // Every slot held by a live process: share one, as before.
  return 20000 + first * 100;
}

export interface TestDaemon extends RunningDaemon {
  home: string;
  settings: Settings;
  /** The contract's one client, over fetch, with the daemon's API key when it has one. */
  client: Client;
  api<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Headers }>;
  stop(): Promise<void>;
}

export function testEnv(home: string, machine: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    BERTH_HOME: home,
    BERTH_NVIDIA_SMI: FAKE_NVIDIA_SMI,
    BERTH_VLLM_PYTHON: FAKE_PYTHON,
    BERTH_SGLANG_PYTHON: FAKE_PYTHON,
    FAKE_NVIDIA_SMI_MACHINE: machine,
    ...extra,
  };
}

export async function startTestDaemon(
  opts: { machine?: string; home?: string; settings?: Partial<SettingsInput>; env?: Record<string, string>; /** To read what the daemon logs. */ log?: Logger } = {},
): Promise<TestDaemon> {
  const home = opts.home ?? tempHome();
  const env = testEnv(home, opts.machine ?? 'h100x8', opts.env);
  // The fake nvidia-smi is a child of this process and reads its machine from our env.
  process.env.FAKE_NVIDIA_SMI_MACHINE = env.FAKE_NVIDIA_SMI_MACHINE;
  const settings = loadSettings({
    env,
    overrides: { port: 0, enginePortBase: randomPortBase(), readinessIntervalMs: 100, stopGraceMs: 3000, ...opts.settings },
  });
  const daemon = await startDaemon(settings, { log: opts.log ?? pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' }), env });
  return {
    ...daemon,
    home,
    settings,
    client: createClient(fetchTransport({ baseUrl: daemon.url, apiKey: settings.apiKey })),
    async api(method, path, body, headers = {}) {
      const res = await fetch(daemon.url + path, {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* plain text body */
      }
      return { status: res.status, body: parsed as never, headers: res.headers };
    },
    async stop() {
      await daemon.close();
      // A log file or state write still finishing can race the removal; retry briefly.
      if (!opts.home) rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    },
  };
}

export async function waitFor<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = SAFETY_MS): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Polls a deployment until `pred` holds (by default: it is ready) and returns that status. */
export function deploymentWhen(
  d: TestDaemon,
  name: string,
  pred: (s: DeploymentStatus) => boolean = (s) => s.state === 'ready',
  what = `${name} ready`,
  timeoutMs?: number,
): Promise<DeploymentStatus> {
  let last: DeploymentStatus | undefined;
  return waitFor(async () => {
    // Through the client, which carries the daemon's API key when it has one.
    const body = await d.client.getDeployment({ params: { name } });
    last = body;
    return pred(body) ? body : null;
  }, what, timeoutMs).catch((err: unknown) => {
    // Slow or stuck? The last status tells (a replica still starting, or failed and why).
    const replicas = last?.replicas.map((r) => `${r.id} ${r.state}${r.reason ? ` (${r.reason})` : ''}`).join(', ');
    throw new Error(`${err instanceof Error ? err.message : String(err)}; last seen: ${last ? `${last.state}, replicas: ${replicas || 'none'}` : 'nothing'}`);
  });
}

/**
 * Every event the daemon publishes from now on, and a wait for the one that
 * matters. Record before the action that causes the event: `find` looks at the
 * events already seen first, so a fast daemon cannot publish it too early.
 */
export class EventLog {
  readonly all: BerthEvent[] = [];
  private readonly wakers = new Set<() => void>();

  constructor(d: TestDaemon) {
    d.events.subscribe((e) => {
      this.all.push(e);
      for (const wake of [...this.wakers]) wake();
    });
  }

  find<E extends BerthEvent>(pred: (e: BerthEvent) => e is E, what: string, timeoutMs?: number): Promise<E>;
  find(pred: (e: BerthEvent) => boolean, what: string, timeoutMs?: number): Promise<BerthEvent>;
  find(pred: (e: BerthEvent) => boolean, what: string, timeoutMs = SAFETY_MS): Promise<BerthEvent> {
    const seen = this.all.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(check);
      };
      const check = () => {
        const e = this.all.find(pred);
        if (!e) return;
        done();
        resolve(e);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no event: ${what} (events seen: ${this.all.map((e) => e.type).join(', ') || 'none'})`));
      }, timeoutMs);
      this.wakers.add(check);
    });
  }
}
