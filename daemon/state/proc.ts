// Facts about processes read from Linux /proc. They let the daemon recognise
// its own engines again after a restart and find every member of an engine's
// process group, including children that outlived the leader.
//
// A pid alone is not an identity: the kernel recycles pids, so a pid written
// to the state file by a previous daemon may now belong to someone's editor.
// The pair (pid, start time) is: the start time (field 22 of /proc/<pid>/stat,
// clock ticks since boot) never changes for a process and exec does not reset
// it, so a recycled pid has a different one.
//
// Linux only. On other platforms these return null / [] / false: without /proc
// we cannot prove identity, and refusing to act is the safe answer.
import { readdirSync, readFileSync } from 'node:fs';

const HAS_PROC = process.platform === 'linux';

export interface StatFields {
  /** Field 3: R, S, D, Z, T, ... */
  state: string;
  /** Field 4. */
  ppid: number;
  /** Field 5. */
  pgrp: number;
  /** Field 22, kept as text: it is only ever compared, and may exceed 2^53 ticks in theory. */
  startTime: string;
  /** Fields 14 and 15: CPU time used so far, user plus system, in clock ticks. */
  cpuTicks: number;
}

/**
 * Parses /proc/<pid>/stat. Field 2 is `(comm)` and comm may contain spaces and
 * parentheses (a process can name itself `a) b (c`), so the fixed fields are
 * counted from after the LAST ')'.
 */
export function parseStat(text: string): StatFields | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // After ") " come fields 3, 4, 5, ...: field N is at index N - 3.
  const rest = text.slice(close + 2).split(' ');
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgrp = Number(rest[2]);
  const startTime = rest[19];
  const cpuTicks = Number(rest[11]) + Number(rest[12]);
  if (!state || !Number.isInteger(ppid) || !Number.isInteger(pgrp) || !startTime || !/^\d+$/.test(startTime) || !Number.isInteger(cpuTicks)) return null;
  return { state, ppid, pgrp, startTime, cpuTicks };
}

function readStat(pid: number): StatFields | null {
  if (!HAS_PROC || !Number.isInteger(pid) || pid <= 0) return null;
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // ENOENT: gone; ESRCH/EACCES on a racing exit: treat as gone.
  }
}

/** The start time of `pid` (ticks since boot, as text), or null when it does not exist. */
export function readStartTime(pid: number): string | null {
  return readStat(pid)?.startTime ?? null;
}

/** CPU time `pid` has used so far (all its threads), in clock ticks; null when it does not exist. */
export function readCpuTicks(pid: number): number | null {
  return readStat(pid)?.cpuTicks ?? null;
}

/**
 * True when `pid` is still the process that had `startTime`. A null start time
 * (never recorded) proves nothing and answers false.
 */
export function isSameProcess(pid: number, startTime: string | null): boolean {
  if (startTime === null) return false;
  const stat = readStat(pid);
  return stat !== null && stat.state !== 'Z' && stat.startTime === startTime;
}

/**
 * True while `pid` exists and is not a zombie. A zombie has exited and holds no
 * memory, GPU or port; it only waits for its parent to reap it.
 */
export function isAlive(pid: number): boolean {
  if (!HAS_PROC) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  const stat = readStat(pid);
  return stat !== null && stat.state !== 'Z';
}

/**
 * Live (non-zombie) members of process group `pgid`, the leader included if it
 * still runs. Scans every /proc/<pid>/stat: a few milliseconds for a thousand
 * processes, and procfs reads never block on disk, so synchronous is fine.
 * The answer is a snapshot: members may exit or fork right after.
 */
export function groupMembers(pgid: number): number[] {
  if (!HAS_PROC || !Number.isInteger(pgid) || pgid <= 0) return [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue; // not a pid directory
    const pid = Number(name);
    const stat = readStat(pid);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') members.push(pid);
  }
  return members;
}

/**
 * Process group and parent of each of `pids` and of their ancestors (up to
 * `maxDepth` generations), for mapping GPU processes to the engines that
 * started them (gpu/usage.ts). Pids that are gone, or in another pid
 * namespace (nvidia-smi run in a container), are simply absent.
 */
export function readProcLinks(pids: readonly number[], maxDepth = 64): Map<number, { pgid: number; ppid: number }> {
  const links = new Map<number, { pgid: number; ppid: number }>();
  for (const start of pids) {
    let pid = start;
    for (let depth = 0; depth <= maxDepth && pid > 1 && !links.has(pid); depth++) {
      const stat = readStat(pid);
      if (!stat || stat.state === 'Z') break;
      links.set(pid, { pgid: stat.pgrp, ppid: stat.ppid });
      pid = stat.ppid;
    }
  }
  return links;
}
