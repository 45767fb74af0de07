// Stopping an engine means stopping its whole process group. vLLM with
// tensor parallelism forks one worker per GPU, SGLang forks schedulers and a
// detokenizer; each holds GPU memory. Killing only the leader leaves them
// running, still holding the GPUs the next start needs.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { groupMembers, isSameProcess } from '../state/proc.js';
import type { ExitInfo, RunningProcess } from './types.js';

const POLL_MS = 50;

/**
 * How long to wait for members to vanish after SIGKILL. A SIGKILLed process
 * still has to leave the kernel: closing a large CUDA context in the NVIDIA
 * driver can take seconds, and until then its GPU memory is not free.
 */
const DEFAULT_KILL_WAIT_MS = 10_000;

const IS_LINUX = process.platform === 'linux';

/** True while any live process belongs to group `pgid`. */
export function groupAlive(pgid: number): boolean {
  if (IS_LINUX) return groupMembers(pgid).length > 0;
  // Without /proc: kill(-pgid, 0) succeeds while the group has any member.
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Sends `sig` to group `pgid`, only while it has members: once they are all
 * gone the number is free and may by now lead somebody else's group. ESRCH
 * (the last member left in between) is ignored.
 */
export function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  if (IS_LINUX && !groupAlive(pgid)) return;
  try {
    process.kill(-pgid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Polls until group `pgid` is empty; false if members remain after `timeoutMs`. */
async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!groupAlive(pgid)) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await sleep(Math.min(POLL_MS, left));
  }
}

/** Resolves with `p`'s value, or `null` when `ms` pass first. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  const ac = new AbortController();
  const timeout = sleep(ms, null, { signal: ac.signal }).catch(() => null);
  try {
    return await Promise.race([p, timeout]);
  } finally {
    ac.abort();
  }
}

export interface StopGroupOptions {
  /** Time from SIGTERM to SIGKILL, shared by the leader and its group. */
  graceMs: number;
  /** After SIGKILL, how long to wait for the members to disappear. Default 10 s. */
  killWaitMs?: number;
}

/**
 * Stops `proc` and everything in its process group:
 *  1. SIGTERM to the group (engines shut down their own workers on SIGTERM);
 *  2. SIGKILL to the group if the leader outlives `graceMs`;
 *  3. once the leader is gone, members that outlived it (a worker ignoring
 *     SIGTERM, a daemonised grandchild) get what is left of the grace period,
 *     then SIGKILL, so no child is left behind holding a GPU.
 * Resolves with the leader's exit. Safe to call on a process that already
 * exited: then only the leftovers are dealt with.
 *
 * The leader's exit is awaited without a bound after SIGKILL: the kernel
 * always completes a SIGKILL, and "stopped" must mean its GPU memory is free.
 */
export async function stopGroup(proc: RunningProcess, opts: StopGroupOptions): Promise<ExitInfo> {
  const deadline = performance.now() + opts.graceMs;
  proc.signal('SIGTERM');
  let exit = await within(proc.exited, opts.graceMs);
  if (exit === null) {
    proc.signal('SIGKILL');
    exit = await proc.exited;
  }
  const gone = await waitGroupGone(proc.pid, Math.max(0, deadline - performance.now()));
  if (!gone) {
    signalGroup(proc.pid, 'SIGKILL');
    await waitGroupGone(proc.pid, opts.killWaitMs ?? DEFAULT_KILL_WAIT_MS);
  }
  return exit;
}

/**
 * Stops a process group that a previous daemon started and lost track of,
 * identified by its leader's pid and /proc start time (state/proc.ts). Refuses
 * (false) unless `pid` is alive and still has that start time: a bare pid from
 * a state file may have been recycled for an unrelated process. True when the
 * group was signalled; it is then gone, or stuck in the kernel after SIGKILL.
 *
 * Limitation: if the leader died but members survived, the start time can no
 * longer be proven and nothing is killed.
 */
export async function killGroupByPid(pid: number, startTime: string | null, graceMs: number): Promise<boolean> {
  if (!isSameProcess(pid, startTime)) return false;
  signalGroup(pid, 'SIGTERM');
  if (!(await waitGroupGone(pid, graceMs))) {
    signalGroup(pid, 'SIGKILL');
    await waitGroupGone(pid, DEFAULT_KILL_WAIT_MS);
  }
  return true;
}
