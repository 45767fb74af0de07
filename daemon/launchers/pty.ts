// Runs an engine on a pseudo-terminal (node-pty), like a user's shell would.
//
// Why a pty and not pipes: engines behave as they do for their users only on a
// terminal. uvicorn colours its lines, tqdm redraws bars with '\r', argparse
// wraps at the terminal width, and Python line-buffers stdout instead of
// block-buffering it, so a crash never swallows the last lines. stdout and
// stderr arrive merged in write order, which is what makes tracebacks readable.
//
// Process model, from forkpty(3): the child calls setsid() before exec, so it
// leads a new session AND a new process group whose id is its pid. Everything
// the engine forks (vLLM workers, SGLang schedulers) stays in that group unless
// it asks otherwise, so one kill(-pid) reaches all of it; stop logic lives in
// process-group.ts.
import { closeSync, constants as fsConstants, existsSync, openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { spawn as ptySpawn, type IPty } from 'node-pty';
import { readStartTime } from '../state/proc.js';
import { LaunchError } from './launch-error.js';
import { signalGroup } from './process-group.js';
import { checkCwd, resolveExecutable } from './resolve-executable.js';
import type { ExitInfo, Launcher, LaunchSpec, RunningProcess } from './types.js';
import { OutputFanout } from './output-fanout.js';

const DEFAULT_COLS = 200;
const DEFAULT_ROWS = 50;


/**
 * node-pty always sets PWD (to the cwd) and, when the env has none, TERM=xterm
 * in the child's environment. The spec promises the environment exactly as
 * given, so we exec through env(1) to undo exactly those two additions. env
 * execs the engine in place: same pid, same group, same start time.
 */
const ENV_BINARY = '/usr/bin/env';
let envBinaryExists: boolean | undefined;

const SIGNAL_NAMES: ReadonlyMap<number, NodeJS.Signals> = new Map(
  Object.entries(osConstants.signals).map(([name, num]) => [num, name as NodeJS.Signals]),
);

/** Maps node-pty's exit event (signal 0 = none) to ExitInfo. */
export function toExitInfo(exitCode: number, signal: number | undefined): ExitInfo {
  if (signal) {
    // Real-time signals have no Node name; such a death reads as {null, null}.
    return { code: null, signal: SIGNAL_NAMES.get(signal) ?? null };
  }
  return { code: exitCode, signal: null };
}

/** The file and args that exec `program` with `env` and nothing else. */
function exactEnvCommand(program: string, args: string[], env: Record<string, string>): { file: string; args: string[] } {
  envBinaryExists ??= existsSync(ENV_BINARY);
  // env(1) reads any operand containing '=' as an assignment, so a program
  // path with '=' cannot go through it. That, or a system without
  // /usr/bin/env, is rare enough to accept node-pty's PWD/TERM additions
  // rather than fail the launch.
  if (!envBinaryExists || program.includes('=')) return { file: program, args };
  const envArgs: string[] = [];
  if (!Object.hasOwn(env, 'TERM')) envArgs.push('-u', 'TERM');
  // node-pty overwrites a given PWD with the cwd; restate the caller's value.
  const assignments = Object.hasOwn(env, 'PWD') ? [`PWD=${env.PWD}`] : [];
  if (assignments.length === 0) envArgs.push('-u', 'PWD');
  return { file: ENV_BINARY, args: [...envArgs, '--', ...assignments, program, ...args] };
}

/**
 * Opens the pty's slave side in the daemon (write-only, never written to), so
 * the master sees no hang-up the moment the engine exits.
 *
 * Why: libuv takes POLLHUP on the master plus a short read for EOF and stops
 * reading, while a Linux pty master can still hold unread output (libuv#4992,
 * node-pty#85; fixed by libuv#4997, long after the libuv 1.46 in Node 20). In
 * a probe here, 3 runs in 8 of a 3000-line burst lost their last 200-460
 * lines, and the tail is exactly the traceback an engine prints as it dies.
 * With our fd open there is no hang-up: node-pty reads on until it destroys
 * the socket 200 ms after the exit, ample to drain the few KiB a pty buffers
 * (unless the event loop is blocked that long). The cost: `exited` resolves
 * 200 ms after the leader died.
 *
 * openSync goes through libuv, so the fd is close-on-exec and later engines do
 * not inherit it. (node-pty 1.1.0's master fd is NOT close-on-exec, so each
 * engine inherits the masters of the ptys open when it starts; node-pty 1.2
 * closes inherited fds in the child.)
 */
function holdSlaveOpen(term: IPty): number | null {
  // UnixTerminal exposes `ptsName`; the public typings do not declare it.
  const pts = (term as IPty & { readonly ptsName?: unknown }).ptsName;
  if (process.platform !== 'linux' || typeof pts !== 'string') return null;
  try {
    return openSync(pts, fsConstants.O_WRONLY | fsConstants.O_NOCTTY);
  } catch {
    return null; // we lose only the drain guarantee, not the process
  }
}

class PtyProcess implements RunningProcess {
  readonly pid: number;
  readonly startTime: string | null;
  readonly exited: Promise<ExitInfo>;
  private readonly output = new OutputFanout();

  constructor(term: IPty) {
    this.pid = term.pid;
    // Read at once: the leader can exit (and be reaped by node-pty's waitpid
    // thread) at any moment, after which its start time is gone for good.
    this.startTime = readStartTime(term.pid);
    const slave = holdSlaveOpen(term);
    term.onData((chunk) => this.output.emit(chunk));
    // node-pty emits exit only once the pty socket is closed: at EOF, or 200 ms
    // after the leader was reaped when something keeps the pty open (always
    // our slave fd, see holdSlaveOpen). No data event follows it, which is
    // what `exited` promises.
    this.exited = new Promise<ExitInfo>((resolve) => {
      term.onExit(({ exitCode, signal }) => {
        if (slave !== null) closeSync(slave);
        resolve(toExitInfo(exitCode, signal));
      });
    });
  }

  onData(listener: (chunk: string) => void): () => void {
    return this.output.subscribe(listener);
  }

  signal(sig: NodeJS.Signals): void {
    // Through /proc, not an "exited" flag: node-pty reports the exit up to
    // 200 ms after reaping the leader, and from the reap on the pid is only
    // reserved while group members remain (see signalGroup).
    signalGroup(this.pid, sig);
  }
}

/**
 * The Launcher for engines on a pty. The program reaches exec as its resolved
 * absolute path, which is also its argv[0] (node-pty has no separate argv0).
 */
export function createPtyLauncher(): Launcher {
  return {
    async start(spec: LaunchSpec): Promise<RunningProcess> {
      const [program, ...args] = spec.argv;
      if (program === undefined) throw new LaunchError('EINVAL', 'empty argv');
      const cwd = spec.cwd ?? process.cwd();
      await checkCwd(cwd);
      const file = await resolveExecutable(program, spec.env.PATH, cwd);
      const command = exactEnvCommand(file, args, spec.env);
      let term: IPty;
      try {
        term = ptySpawn(command.file, command.args, {
          name: spec.env.TERM ?? 'xterm',
          cols: spec.cols ?? DEFAULT_COLS,
          rows: spec.rows ?? DEFAULT_ROWS,
          cwd,
          // A copy: node-pty adds PWD/TERM to the object it is given.
          env: { ...spec.env },
          encoding: 'utf8',
        });
      } catch (err) {
        // forkpty(3) itself failed: out of ptys (kernel.pty.max) or processes.
        throw new LaunchError('ESPAWN', `could not start ${program} on a pty: ${(err as Error).message}`, { cause: err });
      }
      return new PtyProcess(term);
    },
  };
}
