// Attach or spawn, and own only what you spawned. A daemon already on the
// port (started by `berth serve`, a systemd unit, an earlier app run with
// "keep running") is used as is and never stopped by the app; when nothing
// listens, the app starts one with Electron's own Node and stops it on quit
// unless the user asked to keep models running.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, fstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { API_VERSION } from '../daemon/contract/routes.js';
import { probeDaemon, type Probe } from './daemon-client.js';

export type DaemonErrorCode = 'port_in_use' | 'incompatible' | 'api_key' | 'spawn_failed' | 'exited';

/** What the tray and the window follow. */
export type DaemonStatus =
  | { kind: 'checking'; port: number }
  | { kind: 'starting'; port: number; pid: number }
  | { kind: 'running'; port: number; url: string; version: string; owned: boolean }
  | { kind: 'error'; port: number; code: DaemonErrorCode; message: string }
  | { kind: 'stopping'; port: number }
  | { kind: 'stopped'; port: number };

export interface DaemonLaunch {
  port: number;
  /** Electron's binary (run as Node through ELECTRON_RUN_AS_NODE), or node itself. */
  execPath: string;
  /** bin/berth.mjs, outside the asar archive. */
  entry: string;
  /** The child's whole environment (daemonEnv()). */
  env: Record<string, string>;
  /** The daemon's output goes here: a file, not a pipe, so a daemon left running outlives the app without a broken pipe. */
  logFile: string;
  /** For a daemon that requires one (BERTH_API_KEY in the app's environment). */
  apiKey: string | null;
  /** How long a spawned daemon may take to answer health. */
  startTimeoutMs?: number;
  /** SIGTERM, then SIGKILL after this long. The daemon stops its engines on SIGTERM, which takes their stop grace. */
  stopTimeoutMs?: number;
  probeIntervalMs?: number;
}

export type QuitOutcome = 'not-owned' | 'not-running' | 'left-running' | 'stopped' | 'killed';

/** Settings that reach the daemon, by environment variable only (never argv, which every user on the machine can read). */
export interface DaemonSettings {
  port: number;
  vllmPython: string | null;
  sglangPython: string | null;
}

/**
 * The spawned daemon's environment: the app's own, Electron's Node switch,
 * loopback on the configured port, the engines' Pythons, and the Hugging Face
 * token under the name the engines read (HF_TOKEN; the daemon hands its
 * environment down to engines and redacts it from logs).
 */
export function daemonEnv(base: NodeJS.ProcessEnv, s: DaemonSettings, hfToken: string | null): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  env.ELECTRON_RUN_AS_NODE = '1';
  env.BERTH_HOST = '127.0.0.1';
  env.BERTH_PORT = String(s.port);
  if (s.vllmPython) env.BERTH_VLLM_PYTHON = s.vllmPython;
  if (s.sglangPython) env.BERTH_SGLANG_PYTHON = s.sglangPython;
  if (hfToken) env.HF_TOKEN = hfToken;
  return env;
}

/** The last line of the daemon's output that says something, for an error message. */
export function lastLogLine(text: string): string | null {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line.startsWith('{')) {
      try {
        const msg = (JSON.parse(line) as { msg?: unknown; err?: { message?: unknown } });
        const text = typeof msg.err?.message === 'string' ? msg.err.message : msg.msg;
        if (typeof text === 'string' && text) return text;
        continue;
      } catch {
        /* not JSON after all */
      }
    }
    return line;
  }
  return null;
}

function readTail(file: string, bytes = 8192): string {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const len = Math.min(bytes, size);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** The message the user reads when the port cannot be used. */
export function probeError(probe: Exclude<Probe, { kind: 'berth' | 'absent' }>, port: number): { code: DaemonErrorCode; message: string } {
  switch (probe.kind) {
    case 'foreign':
    case 'silent':
      return { code: 'port_in_use', message: `Port ${port} is used by another service, not Berth (${probe.detail}). Stop that service, or give Berth another port (daemon port in Settings, or BERTH_PORT).` };
    case 'incompatible':
      return {
        code: 'incompatible',
        message: `The Berth daemon on port ${port} (version ${probe.health.version}) speaks API version ${probe.health.apiVersion}; this app speaks ${API_VERSION}. Update the older one, or stop that daemon so the app can start its own.`,
      };
    case 'locked':
      return { code: 'api_key', message: `The Berth daemon on port ${port} requires an API key: start the app with BERTH_API_KEY set to it.` };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class DaemonProcess {
  private child: ChildProcess | null = null;
  private current: DaemonStatus;
  private quitting = false;
  private starting: Promise<DaemonStatus> | null = null;
  private readonly listeners = new Set<(s: DaemonStatus) => void>();

  /** `launch` is read at every start, so a retry uses the settings saved since. */
  constructor(private readonly launch: () => DaemonLaunch) {
    this.current = { kind: 'checking', port: launch().port };
  }

  get status(): DaemonStatus {
    return this.current;
  }

  /** Whether this app started the daemon that is running now. */
  get owned(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  onStatus(fn: (s: DaemonStatus) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Attach to a Berth daemon on the port, or spawn one; resolves with the
   * outcome, which is also published. A call while one is in flight (Retry
   * clicked twice) joins it rather than spawning a second daemon.
   */
  start(): Promise<DaemonStatus> {
    this.starting ??= this.attachOrSpawn().finally(() => (this.starting = null));
    return this.starting;
  }

  private async attachOrSpawn(): Promise<DaemonStatus> {
    if (this.owned) return this.current;
    const launch = this.launch();
    const url = `http://127.0.0.1:${launch.port}`;
    this.set({ kind: 'checking', port: launch.port });
    const probe = await probeDaemon(url, launch.apiKey);
    if (probe.kind === 'berth') return this.set({ kind: 'running', port: launch.port, url, version: probe.health.version, owned: false });
    if (probe.kind !== 'absent') return this.set({ kind: 'error', port: launch.port, ...probeError(probe, launch.port) });
    return this.spawn(launch, url);
  }

  private async spawn(launch: DaemonLaunch, url: string): Promise<DaemonStatus> {
    const fail = (code: DaemonErrorCode, why: string) => {
      const last = lastLogLine(readTail(launch.logFile));
      return this.set({ kind: 'error', port: launch.port, code, message: `${why}${last ? `: ${last}` : ''} (daemon log: ${launch.logFile})` });
    };
    let child: ChildProcess;
    const spawnError: { err: Error | null } = { err: null };
    try {
      mkdirSync(dirname(launch.logFile), { recursive: true });
      const out = openSync(launch.logFile, 'a');
      try {
        // detached: its own process group, so a Ctrl-C in the terminal that
        // started the app does not reach it, and one left running on quit
        // is not tied to the app's session.
        child = spawn(launch.execPath, [launch.entry, 'serve'], { env: launch.env, stdio: ['ignore', out, out], detached: true, windowsHide: true });
      } finally {
        closeSync(out);
      }
    } catch (err) {
      return fail('spawn_failed', `Could not start the daemon (${(err as Error).message})`);
    }
    child.on('error', (err) => (spawnError.err = err));
    this.child = child;
    if (child.pid === undefined) {
      await new Promise((r) => setImmediate(r));
      this.child = null;
      return fail('spawn_failed', `Could not start the daemon (${spawnError.err?.message ?? 'no process'})`);
    }
    this.set({ kind: 'starting', port: launch.port, pid: child.pid });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      if (this.quitting || this.current.kind !== 'running') return;
      fail('exited', `The daemon stopped unexpectedly (${signal ?? `exit code ${code}`})`);
    });

    const deadline = Date.now() + (launch.startTimeoutMs ?? 60_000);
    const interval = launch.probeIntervalMs ?? 200;
    for (;;) {
      if (this.child !== child) return fail('spawn_failed', 'The daemon exited while starting');
      const probe = await probeDaemon(url, launch.apiKey, 5000);
      if (this.child !== child) return fail('spawn_failed', 'The daemon exited while starting');
      if (probe.kind === 'berth') return this.set({ kind: 'running', port: launch.port, url, version: probe.health.version, owned: true });
      // Anything but "absent" that is not our Berth will not turn into it by waiting:
      // another program took the port first (ours then dies of EADDRINUSE), or
      // what answers is not the daemon this app ships.
      if (probe.kind !== 'absent' && probe.kind !== 'silent') {
        await this.stopChild(child, exited, launch.stopTimeoutMs ?? 30_000);
        return this.set({ kind: 'error', port: launch.port, ...probeError(probe, launch.port) });
      }
      if (Date.now() > deadline) {
        await this.stopChild(child, exited, launch.stopTimeoutMs ?? 30_000);
        return fail('spawn_failed', `The daemon did not answer on port ${launch.port} within ${Math.round((launch.startTimeoutMs ?? 60_000) / 1000)} s`);
      }
      await Promise.race([sleep(interval), exited]);
    }
  }

  /**
   * On quit: a daemon the app did not start is never touched; one it started
   * is left running when the user keeps models running, else stopped (SIGTERM,
   * bounded wait, then SIGKILL).
   */
  async quit(keepRunning: boolean): Promise<QuitOutcome> {
    this.quitting = true;
    const child = this.child;
    if (!child) return this.current.kind === 'running' && !this.current.owned ? 'not-owned' : 'not-running';
    if (keepRunning) {
      // Let the app exit without waiting for the child; the daemon keeps its engines.
      child.unref();
      return 'left-running';
    }
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    this.set({ kind: 'stopping', port: this.current.port });
    const outcome = await this.stopChild(child, exited, this.launch().stopTimeoutMs ?? 30_000);
    this.set({ kind: 'stopped', port: this.current.port });
    return outcome;
  }

  private async stopChild(child: ChildProcess, exited: Promise<void>, timeoutMs: number): Promise<'stopped' | 'killed'> {
    if (this.child === child) this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return 'stopped';
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
    clearTimeout(timer);
    if (inTime) return 'stopped';
    child.kill('SIGKILL');
    await exited;
    return 'killed';
  }

  private set(status: DaemonStatus): DaemonStatus {
    this.current = status;
    for (const fn of this.listeners) fn(status);
    return status;
  }
}
