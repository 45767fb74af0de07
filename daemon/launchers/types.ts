// How a replica's engine runs, seen from the supervisor. One interface for
// every way of running an engine (a pty process, a container), so the
// supervisor never knows which it drives.
import type { ContainerPlan, PullProgress } from '../contract/api.js';
import type { Deployment } from '../contract/deployment.js';
export { LaunchError, type LaunchErrorCode } from './launch-error.js';

export interface LaunchSpec {
  /** argv[0] is the program: an absolute or relative path, or a name looked up in `env.PATH`. */
  argv: string[];
  /**
   * The child's COMPLETE environment, passed exactly as given: nothing of the
   * daemon's own environment leaks in and nothing is added (not even TERM or
   * PWD). The caller composes it, e.g. base env + plan env.
   */
  env: Record<string, string>;
  /** Working directory; the daemon's own when omitted. */
  cwd?: string;
  /** Terminal size. Engines wrap argparse usage and size tqdm bars to it. Default 200x50. */
  cols?: number;
  rows?: number;
  /**
   * Run this container instead (the plan's container mode): `argv` is then
   * what runs inside, and `env` only supplies the values of the plan's
   * `secretEnv` (the container's own environment is in its create body).
   */
  container?: ContainerPlan;
}

export interface ExitInfo {
  /** Exit status when the leader exited normally, else null. */
  code: number | null;
  /** The signal that killed the leader, else null. */
  signal: NodeJS.Signals | null;
}

export interface RunningProcess {
  /** Also the process-group id: the engine leads its own group (and session). */
  readonly pid: number;
  /**
   * /proc start time of `pid` (see daemon/state/proc.ts), recorded so that a
   * later daemon never kills a recycled pid. Null where it could not be read
   * (not Linux, or the process was already gone).
   */
  readonly startTime: string | null;
  /**
   * Raw terminal output, as decoded UTF-8 strings (characters are never split
   * across chunks; lines are). Output produced before the first listener
   * subscribes is kept (bounded) and replayed to it, so a caller that awaits
   * something between start() and onData() loses nothing. Returns unsubscribe.
   */
  onData(listener: (chunk: string) => void): () => void;
  /** Resolves once the leader exited AND its output is drained. Never rejects. */
  readonly exited: Promise<ExitInfo>;
  /**
   * Sends `sig` to the whole process group. ESRCH (nobody left) is ignored.
   * After the leader exited it only signals while members remain, so a pgid
   * whose pid has been recycled is not hit.
   */
  signal(sig: NodeJS.Signals): void;
  /**
   * How this runner stops its engine, where that is not signals to a process
   * group (launchers/process-group.ts stopGroup, the default): a container is
   * stopped by its engine with the grace period. Resolves with the exit.
   */
  stop?(graceMs: number): Promise<ExitInfo>;
  /**
   * After the exit: removes what is left (a container) and waits, bounded,
   * until the GPUs show none of its processes. Resolves with why the GPUs
   * may still be busy, or null. Without it the group is SIGKILLed.
   */
  release?(): Promise<string | null>;
}

export interface PrepareHooks {
  /** An image download advanced. The first call means a download is needed. */
  onPull(progress: PullProgress): void;
}

export interface Launcher {
  /**
   * Starts the program. Rejects with a LaunchError when it cannot be executed
   * at all (missing program, missing script interpreter, not executable,
   * missing cwd); anything that fails after exec shows up in `exited`.
   */
  start(spec: LaunchSpec): Promise<RunningProcess>;
  /**
   * What must happen before start() and may take minutes (a container's
   * image pull); outside the start timeout. Rejects with a LaunchError
   * saying why in plain words; with `signal`'s reason when aborted.
   */
  prepare?(spec: LaunchSpec, hooks: PrepareHooks, signal: AbortSignal): Promise<void>;
  /**
   * Removes what a previous daemon with this state dir left running (its
   * containers). Called once at daemon start, before anything launches.
   * Resolves with how many it removed; never rejects.
   */
  reapLeftovers?(): Promise<number>;
}

/** What `mode` a deployment runs in, `auto` decided. */
export interface ModeChoice {
  mode: 'process' | 'container';
  /** Why `auto` chose it; null for an explicit mode. */
  reason: string | null;
}

export interface ModeResolver {
  resolve(d: Pick<Deployment, 'mode' | 'backend' | 'resource'>): Promise<ModeChoice>;
}
