// One engine process and its life: launch, readiness, crash restarts with
// backoff, drain-free stop. The deployment controller owns allocation; a
// replica keeps its GPUs and port across crash restarts so a restart never
// races another deployment for them.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LaunchPlan, PullProgress, ReplicaState, ReplicaStatus } from '../contract/api.js';
import type { Launcher, RunningProcess, ExitInfo } from '../launchers/types.js';
import { stopGroup } from '../launchers/process-group.js';
import { ReplicaLog } from '../logs/replica-log.js';
import { heldByAnother } from '../net/port-owner.js';
import type { StateStore } from '../state/store.js';
import { nextRestart } from './backoff.js';
import { explainFailure, isFatalLogLine } from './failure-reason.js';
import { lineSignalsReady, pollHttpReady, type HttpProbe } from './readiness.js';
import { ReplicaStateCell } from './states.js';

export interface ReplicaTiming {
  startTimeoutMs: number;
  stopGraceMs: number;
  readinessIntervalMs: number;
}

export interface ReplicaDeps {
  launcher: Launcher;
  store: StateStore;
  timing: ReplicaTiming;
  log: Logger;
  /** The environment every engine inherits before the plan's env is applied. */
  baseEnv: Record<string, string>;
  /** The deployment's secretEnv: the values behind the plan's REDACTED placeholders, set at spawn only. */
  secretEnv?: Record<string, string>;
  logDir: string | null;
  probe?: HttpProbe;
  onChange: (replica: Replica, from: ReplicaState, to: ReplicaState, reason: string | null) => void;
  /**
   * Runs once the engine answers and before the replica counts as ready (and
   * takes requests), on every start: state the engine loses when it exits,
   * such as runtime LoRA adapters, is put back here. Must not throw; `signal`
   * aborts when the replica is stopped meanwhile.
   */
  beforeReady?: (replica: Replica, signal: AbortSignal) => Promise<void>;
  /** An image download for this replica advanced (container mode). */
  onPull?: (replica: Replica, progress: PullProgress) => void;
}

type AttemptOutcome =
  | { kind: 'ready' }
  | { kind: 'exited'; exit: ExitInfo }
  | { kind: 'timeout' }
  | { kind: 'fatal'; line: string }
  | { kind: 'aborted' };

export class ReplicaFailedError extends Error {
  readonly status = 503;
  readonly code = 'replica_failed';
}

export class Replica {
  readonly cell = new ReplicaStateCell();
  readonly output: ReplicaLog;
  private proc: RunningProcess | null = null;
  private attempt: AbortController | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private crashTimes: number[] = [];
  private stopping: Promise<void> | null = null;
  /** The launch attempt in progress (through the engine's exit and its bookkeeping). */
  private running: Promise<void> = Promise.resolve();
  private startedAt: string | null = null;
  private readyAt: string | null = null;
  /** The image download in progress, while `pulling`. */
  private pull: PullProgress | null = null;
  /** The last percentage step written to the log, so the log gets a line per 10%, not per tick. */
  private pullLogged = -1;
  /** Why the GPUs may still be busy after the last engine exit (its launcher's bounded wait ran out). */
  private releaseProblem: string | null = null;
  restarts = 0;
  /** Requests being served by this replica right now (the gateway's leases). */
  inFlight = 0;

  constructor(
    readonly id: string,
    readonly deployment: string,
    readonly plan: LaunchPlan,
    private readonly deps: ReplicaDeps,
  ) {
    this.output = new ReplicaLog({
      file: deps.logDir ? join(deps.logDir, `${id}.log`) : null,
      onError: (err) => deps.log.warn({ err }, 'log file write failed'),
    });
    this.cell.onChange((from, to, reason) => deps.onChange(this, from, to, reason));
  }

  get state(): ReplicaState {
    return this.cell.state;
  }

  /** Where the gateway reaches this engine. */
  get baseUrl(): string {
    return `http://${urlHost(this.plan.host)}:${this.plan.port}`;
  }

  status(): ReplicaStatus {
    return {
      id: this.id,
      state: this.cell.state,
      reason: this.cell.reason,
      pid: this.proc?.pid ?? null,
      port: this.plan.port,
      gpus: this.plan.gpus,
      startedAt: this.startedAt,
      readyAt: this.readyAt,
      restarts: this.restarts,
      inFlight: this.inFlight,
      ...(this.cell.state === 'pulling' && this.pull ? { pull: this.pull } : {}),
    };
  }

  /** Kicks off a launch from `pending`; progress is observable through state changes. */
  start(): void {
    this.running = this.runAttempt();
  }

  /**
   * Resolves when the replica is ready; rejects when it fails or stops first.
   * Callers ask instead of peeking at the state (STYLE example 2).
   */
  waitReady(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): boolean => {
        const s = this.cell.state;
        if (s === 'ready') return resolve(), true;
        if (s === 'failed' || s === 'stopped' || s === 'stopping') {
          return reject(new ReplicaFailedError(this.cell.reason ?? `replica ${this.id} is ${s}`)), true;
        }
        return false;
      };
      if (check()) return;
      const off = this.cell.onChange(() => {
        if (check()) cleanup();
      });
      const onAbort = () => (cleanup(), reject(signal?.reason ?? new Error('aborted')));
      const cleanup = () => (off(), signal?.removeEventListener('abort', onAbort));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async runAttempt(): Promise<void> {
    const attempt = new AbortController();
    this.attempt = attempt;
    const { argv, env, container } = this.plan;
    const spec = { argv, env: { ...this.deps.baseEnv, ...env, ...this.deps.secretEnv }, ...(container ? { container } : {}) };
    // Before `starting`: an image download can take longer than any start timeout.
    if (this.deps.launcher.prepare) {
      try {
        await this.deps.launcher.prepare(spec, { onPull: (p) => this.onPull(p) }, attempt.signal);
      } catch (err) {
        if (attempt.signal.aborted) return; // stop() took over
        this.fail(err instanceof Error ? err.message : String(err));
        return;
      }
      if (attempt.signal.aborted) return;
    }
    this.cell.transition(['pending', 'pulling'], 'starting');
    let proc: RunningProcess;
    try {
      proc = await this.deps.launcher.start(spec);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.fail(container ? message : `cannot start ${argv[0]}: ${message}`);
      return;
    }
    if (attempt.signal.aborted) {
      // stop() arrived while the launcher was spawning.
      await this.stopEngine(proc);
      await this.afterExit(proc);
      return;
    }
    this.proc = proc;
    this.startedAt = new Date().toISOString();
    const unsubscribeData = proc.onData((chunk) => this.output.write(chunk));
    await this.deps.store
      .recordProcess({ deployment: this.deployment, replica: this.id, pid: proc.pid, startTime: proc.startTime, port: this.plan.port, gpus: this.plan.gpus })
      .catch((err: unknown) => this.deps.log.error({ err }, 'could not record engine pid'));
    this.deps.log.info({ pid: proc.pid, port: this.plan.port, gpus: this.plan.gpus }, 'engine started');

    let outcome = await this.awaitReadiness(proc, attempt.signal);
    if (outcome.kind === 'ready' && this.deps.beforeReady) {
      await this.deps.beforeReady(this, attempt.signal);
      if (attempt.signal.aborted) outcome = { kind: 'aborted' };
    }
    if (outcome.kind === 'ready') {
      this.readyAt = new Date().toISOString();
      this.cell.transition('starting', 'ready');
      const exit = await proc.exited;
      unsubscribeData();
      await this.afterExit(proc);
      if (this.cell.state === 'ready') this.onCrash(exit);
      return;
    }
    if (outcome.kind === 'aborted') {
      unsubscribeData();
      return; // stop() owns the process from here.
    }
    let exit: ExitInfo | null = null;
    if (outcome.kind === 'exited') exit = outcome.exit;
    else exit = await this.stopEngine(proc);
    unsubscribeData();
    await this.afterExit(proc);
    if (this.cell.state !== 'starting') return;
    const lines = this.output.lastLines(200);
    const reason =
      outcome.kind === 'fatal'
        ? outcome.line
        : explainFailure({
            lines,
            exit,
            backend: this.plan.backend,
            timedOut: outcome.kind === 'timeout',
            timeoutMs: this.deps.timing.startTimeoutMs,
          });
    // A restart that cannot come up counts against the crash budget; a first start fails at once.
    if (this.crashTimes.length > 0) this.scheduleRestart(reason, 'starting');
    else this.fail(reason);
  }

  private awaitReadiness(proc: RunningProcess, signal: AbortSignal): Promise<AttemptOutcome> {
    const readiness = this.plan.readiness;
    return new Promise<AttemptOutcome>((resolve) => {
      const local = new AbortController();
      let settled = false;
      const done = (o: AttemptOutcome) => {
        if (settled) return;
        settled = true;
        local.abort();
        clearTimeout(timer);
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        resolve(o);
      };
      const onAbort = () => done({ kind: 'aborted' });
      signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => done({ kind: 'timeout' }), this.deps.timing.startTimeoutMs);
      // Only the engine's own answers count (see net/port-owner.ts). A
      // container's published port is held by the container runtime, not by
      // the engine's process group, so there the check cannot apply.
      let warned = false;
      const isEngine = (): boolean => {
        if (this.plan.container || !heldByAnother(this.plan.port, proc.pid)) return true;
        if (!warned) {
          warned = true;
          this.output.write(`berth: port ${this.plan.port} is held by another process, not this engine: its answers do not make the engine ready\r\n`);
        }
        return false;
      };
      const unsubscribe = this.output.subscribe((lines) => {
        for (const line of lines) {
          if (lineSignalsReady(readiness, line) && isEngine()) return done({ kind: 'ready' });
          const fatal = isFatalLogLine(this.plan.backend, line);
          if (fatal) return done({ kind: 'fatal', line: fatal });
        }
      });
      void proc.exited.then((exit) => done({ kind: 'exited', exit }));
      void pollHttpReady(readiness, this.baseUrl, this.deps.timing.readinessIntervalMs, local.signal, this.deps.probe, isEngine).then((ok) => {
        if (ok) done({ kind: 'ready' });
      });
    });
  }

  private onPull(p: PullProgress): void {
    if (this.cell.state === 'pending') this.cell.transition('pending', 'pulling', `pulling ${p.image}`);
    this.pull = p;
    const step = p.percent === null ? -1 : Math.floor(p.percent / 10) * 10;
    if (this.pullLogged === -1 || step > this.pullLogged) {
      this.pullLogged = Math.max(step, 0);
      const size = p.totalBytes === null ? `${mib(p.completedBytes)}` : `${mib(p.completedBytes)} of ${mib(p.totalBytes)}`;
      this.output.write(`berth: pulling ${p.image}: ${size}${p.percent === null ? '' : ` (${p.percent}%)`}\r\n`);
    }
    this.deps.onPull?.(this, p);
  }

  /** Stops the engine the way its launcher knows (a container through Docker), else its process group by signals. */
  private stopEngine(proc: RunningProcess): Promise<ExitInfo> {
    const graceMs = this.deps.timing.stopGraceMs;
    return proc.stop ? proc.stop(graceMs) : stopGroup(proc, { graceMs });
  }

  /**
   * After the leader exits: kill whatever of its group survived (or remove
   * the container and wait for its GPUs) and forget the pid. Until this
   * returns the replica keeps its GPUs, so none is handed on still busy.
   */
  private async afterExit(proc: RunningProcess): Promise<void> {
    if (proc.release) {
      const problem = await proc.release();
      this.releaseProblem = problem;
      if (problem) {
        this.deps.log.warn({ problem }, 'GPUs not free after the engine stopped');
        this.output.write(`berth: ${problem}\r\n`);
      }
    } else proc.signal('SIGKILL');
    if (this.proc === proc) this.proc = null;
    await this.deps.store.forgetProcess(this.id).catch(() => undefined);
  }

  private onCrash(exit: ExitInfo): void {
    const reason = explainFailure({ lines: this.output.lastLines(200), exit, backend: this.plan.backend });
    this.deps.log.warn({ exit, reason }, 'engine exited after ready');
    this.scheduleRestart(reason, 'ready');
  }

  private scheduleRestart(reason: string, from: 'ready' | 'starting'): void {
    const decision = nextRestart(this.crashTimes, Date.now());
    this.crashTimes = [...decision.recent, Date.now()];
    if (decision.giveUp) {
      this.fail(`${reason} (crashed ${this.crashTimes.length} times in 10 minutes; not restarting)`);
      return;
    }
    const seconds = Math.round(decision.delayMs / 100) / 10;
    this.cell.transition(from, 'pending', `crashed: ${reason}; restarting in ${seconds}s`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.cell.state !== 'pending') return;
      this.restarts++;
      this.running = this.runAttempt();
    }, decision.delayMs);
  }

  private fail(reason: string): void {
    const s = this.cell.state;
    if (s === 'failed' || s === 'stopped') return;
    this.cell.transition(s, 'failed', reason);
    this.deps.log.warn({ reason }, 'replica failed');
  }

  /** Stops the engine: SIGTERM to its process group, SIGKILL after the grace period. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = this.doStop().finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const s = this.cell.state;
    if (s === 'stopped' || s === 'failed') return;
    this.cell.transition(s, 'stopping');
    this.attempt?.abort();
    const proc = this.proc;
    if (proc) {
      const exit = await this.stopEngine(proc);
      this.deps.log.info({ exit }, 'engine stopped');
      await this.afterExit(proc);
    }
    // The attempt also handles the exit (and may still be killing a process it
    // was spawning when the stop came): `stopped` means all of that is done.
    await this.running;
    // Stopped all the same (the engine is gone), saying why its GPUs may not be free yet.
    this.cell.transition('stopping', 'stopped', this.releaseProblem);
  }

  async dispose(): Promise<void> {
    await this.stop();
    await this.output.close();
  }
}

function mib(bytes: number): string {
  return bytes >= 1 << 30 ? `${(bytes / (1 << 30)).toFixed(1)} GiB` : `${Math.round(bytes / (1 << 20))} MiB`;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
