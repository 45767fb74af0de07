// How a replica's engine runs, seen from the supervisor. One interface for
// every way of running an engine (a pty process today, a container later), so
// the supervisor never knows which it drives.
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
}

export interface Launcher {
  /**
   * Starts the program. Rejects with a LaunchError when it cannot be executed
   * at all (missing program, missing script interpreter, not executable,
   * missing cwd); anything that fails after exec shows up in `exited`.
   */
  start(spec: LaunchSpec): Promise<RunningProcess>;
}
