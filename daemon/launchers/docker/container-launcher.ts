// The Launcher for container mode: one container per replica, through the
// Engine API. It honours the same RunningProcess contract as the pty
// launcher (output, exit, signals), and adds the two things a container
// needs: a stop through Docker with the grace period, and, after the exit,
// removal and a wait until the GPUs no longer show its processes.
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PullProgress } from '../../contract/api.js';
import { LaunchError } from '../launch-error.js';
import type { ExitInfo, Launcher, LaunchSpec, PrepareHooks, RunningProcess } from '../types.js';
import { DockerApiError, type DockerApi } from './engine-api.js';
import { dockerLaunchError } from './errors.js';
import { imagePresent, pullImage } from './pull.js';
import { LABELS } from './container-spec.js';
import { OutputFanout } from '../output-fanout.js';

export interface ContainerLauncherOptions {
  /** The Engine API, or a LaunchError saying why Docker cannot be used. */
  api: () => DockerApi;
  /** Berth's state dir: the reaper removes the containers labelled with it. */
  stateDir: string;
  /** Host pids nvidia-smi shows on any GPU now (uncached). */
  gpuPids: () => Promise<ReadonlySet<number>>;
  /** Bound on the wait for the GPUs to let go of a removed container's processes. */
  gpuReleaseWaitMs?: number;
  /** Least time between two progress reports of one pull. */
  pullReportMs?: number;
}

/** After the container exits, how long its log stream may take to deliver the last lines. */
const LOG_DRAIN_MS = 2_000;
const GPU_POLL_MS = 250;
/**
 * Least time between two readings of a running container's processes. Once
 * it has exited Docker no longer lists them, and the ones on the GPUs are
 * the engine's workers, not its main process: they are read while it runs,
 * as its output comes (loading, serving), so that a crash is waited on too.
 */
const NOTE_PIDS_EVERY_MS = 1_000;

/** docker-init exits 128+n when the engine died of signal n, as a shell reports it. */
export function exitFromStatus(status: number): ExitInfo {
  if (status > 128 && status < 128 + 65) {
    const name = SIGNALS[status - 128];
    if (name) return { code: null, signal: name };
  }
  return { code: status, signal: null };
}

const SIGNALS: Record<number, NodeJS.Signals> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

/** The PID column of GET /containers/{id}/top. */
export function topPids(top: { Titles?: string[]; Processes?: string[][] } | null): number[] {
  const col = top?.Titles?.indexOf('PID') ?? -1;
  if (col < 0) return [];
  return (top?.Processes ?? []).map((row) => Number(row[col])).filter((n) => Number.isInteger(n) && n > 0);
}

class ContainerProcess implements RunningProcess {
  readonly startTime = null;
  readonly exited: Promise<ExitInfo>;
  private readonly output = new OutputFanout();
  /** Host pids seen in the container: what the GPUs must stop showing. */
  private readonly pids = new Set<number>();
  private readonly logs: AbortController = new AbortController();
  private running = true;
  private notedAt = 0;

  constructor(
    private readonly api: DockerApi,
    readonly id: string,
    readonly name: string,
    readonly pid: number,
    private readonly opts: ContainerLauncherOptions,
  ) {
    if (pid > 0) this.pids.add(pid);
    const decoder = new StringDecoder('utf8');
    const logsDone = api
      .stream('GET', `/containers/${id}/logs?follow=1&stdout=1&stderr=1`, (c) => {
        const text = decoder.write(c);
        if (text) this.output.emit(text);
        this.notePidsNow();
      }, { signal: this.logs.signal })
      .catch(() => undefined)
      .then(() => {
        const rest = decoder.end();
        if (rest) this.output.emit(rest);
      });
    this.exited = api
      .json<{ StatusCode?: number }>('POST', `/containers/${id}/wait`, undefined, { timeoutMs: null })
      .then((r) => exitFromStatus(r?.StatusCode ?? -1))
      .catch((): ExitInfo => ({ code: null, signal: null }))
      .then(async (exit) => {
        this.running = false;
        // Lines still in flight on the log stream belong before `exited`.
        await Promise.race([logsDone, sleep(LOG_DRAIN_MS)]);
        this.logs.abort();
        return exit;
      });
  }

  onData(listener: (chunk: string) => void): () => void {
    return this.output.subscribe(listener);
  }

  signal(sig: NodeJS.Signals): void {
    void this.api.json('POST', `/containers/${this.id}/kill?signal=${sig}`).catch(() => undefined);
  }

  async stop(graceMs: number): Promise<ExitInfo> {
    await this.notePids();
    const t = Math.max(1, Math.ceil(graceMs / 1000));
    // Docker sends the stop signal, waits t seconds, then SIGKILLs: the grace period, enforced by the engine that owns the process.
    await this.api.json('POST', `/containers/${this.id}/stop?t=${t}`, undefined, { timeoutMs: graceMs + 30_000 }).catch(() => this.signal('SIGKILL'));
    return this.exited;
  }

  async release(): Promise<string | null> {
    await this.notePids();
    await this.api.json('DELETE', `/containers/${this.id}?force=1`).catch(() => undefined);
    const bound = this.opts.gpuReleaseWaitMs ?? 30_000;
    const end = Date.now() + bound;
    for (;;) {
      let busy: number[];
      try {
        const onGpu = await this.opts.gpuPids();
        busy = [...this.pids].filter((p) => onGpu.has(p));
      } catch {
        return null; // no nvidia-smi: nothing to wait on
      }
      if (busy.length === 0) return null;
      if (Date.now() >= end) {
        return `the GPUs still show process${busy.length > 1 ? 'es' : ''} ${busy.join(', ')} of container ${this.name} ${Math.round(bound / 1000)} s after it was removed`;
      }
      await sleep(GPU_POLL_MS);
    }
  }

  /** Reads the container's processes if it runs and they were not read in the last NOTE_PIDS_EVERY_MS. */
  private notePidsNow(): void {
    const now = Date.now();
    if (!this.running || now - this.notedAt < NOTE_PIDS_EVERY_MS) return;
    this.notedAt = now;
    void this.notePids();
  }

  /** Host pids of the container's processes, while it runs (top answers 409 once it stopped). */
  private async notePids(): Promise<void> {
    const top = await this.api.json<{ Titles?: string[]; Processes?: string[][] }>('GET', `/containers/${this.id}/top`).catch(() => null);
    for (const p of topPids(top)) this.pids.add(p);
  }
}

async function removeByName(api: DockerApi, name: string): Promise<void> {
  try {
    await api.json('DELETE', `/containers/${encodeURIComponent(name)}?force=1`);
  } catch (err) {
    if (err instanceof DockerApiError && err.status === 404) return;
    throw err;
  }
}

/** Reports at most every `ms`, and always the first and the 100% one. */
function throttled(report: (p: PullProgress) => void, ms: number): (p: PullProgress) => void {
  let last = 0;
  let first = true;
  return (p) => {
    const now = Date.now();
    if (first || p.percent === 100 || now - last >= ms) {
      first = false;
      last = now;
      report(p);
    }
  };
}

export function createContainerLauncher(opts: ContainerLauncherOptions): Launcher {
  const api = (): DockerApi => {
    try {
      return opts.api();
    } catch (err) {
      throw dockerLaunchError('docker', err);
    }
  };
  return {
    async prepare(spec: LaunchSpec, hooks: PrepareHooks, signal: AbortSignal): Promise<void> {
      const c = spec.container;
      if (!c) return;
      const docker = api();
      try {
        if (await imagePresent(docker, c.image, signal)) return;
        await pullImage(docker, c.image, throttled((p) => hooks.onPull(p), opts.pullReportMs ?? 250), signal);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw dockerLaunchError(`cannot pull ${c.image}`, err);
      }
    },

    async start(spec: LaunchSpec): Promise<RunningProcess> {
      const c = spec.container;
      if (!c) throw new LaunchError('EINVAL', 'the container launcher needs a container plan');
      const docker = api();
      // Values join the body here and nowhere else (see container-spec.ts).
      const secrets = c.secretEnv.filter((k) => spec.env[k] !== undefined).map((k) => `${k}=${spec.env[k]}`);
      let id: string;
      try {
        // The name is this replica's: what holds it is an earlier incarnation (a crash, a lost daemon).
        await removeByName(docker, c.name);
        ({ Id: id } = await docker.json<{ Id: string }>('POST', `/containers/create?name=${encodeURIComponent(c.name)}`, { ...c.create, Env: [...c.create.Env, ...secrets] }));
      } catch (err) {
        throw dockerLaunchError(`cannot create container ${c.name}`, err);
      }
      try {
        await docker.json('POST', `/containers/${id}/start`);
        const info = await docker.json<{ State?: { Pid?: number } }>('GET', `/containers/${id}/json`);
        return new ContainerProcess(docker, id, c.name, info?.State?.Pid ?? 0, opts);
      } catch (err) {
        await docker.json('DELETE', `/containers/${id}?force=1`).catch(() => undefined);
        throw dockerLaunchError(`cannot start container ${c.name}`, err);
      }
    },

    async reapLeftovers(): Promise<number> {
      let docker: DockerApi;
      try {
        docker = opts.api();
      } catch {
        return 0;
      }
      const filters = JSON.stringify({ label: [`${LABELS.STATE_DIR}=${opts.stateDir}`] });
      const list = await docker.json<{ Id: string }[]>('GET', `/containers/json?all=1&filters=${encodeURIComponent(filters)}`).catch(() => []);
      let removed = 0;
      for (const c of list ?? []) {
        const ok = await docker.json('DELETE', `/containers/${c.Id}?force=1`).then(() => true, () => false);
        if (ok) removed++;
      }
      return removed;
    },
  };
}
