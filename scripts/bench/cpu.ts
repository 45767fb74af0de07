// CPU time of the processes on a benchmark's path, read from /proc (Linux).
//
// Requests per second alone cannot say why a point is what it is: when the
// engine already saturates a core with no proxy in front, every proxy ties
// it, whatever the proxy costs. CPU per request says what each proxy costs,
// and the engine's busy share says whether a point was engine-bound.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second, the unit of /proc/<pid>/stat's times. */
const TICKS = (() => {
  const n = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
  return n > 0 ? n : 100;
})();

export interface ProcStat {
  ppid: number;
  /** User plus system time, in clock ticks. */
  ticks: number;
}

/** One /proc/<pid>/stat line, or null when it is not one. */
export function parseProcStat(line: string): ProcStat | null {
  // Field 2 is the command name in parentheses and may itself hold spaces and
  // parentheses, so the other fields are counted from the last ')'.
  const close = line.lastIndexOf(')');
  if (close < 0) return null;
  const f = line.slice(close + 2).split(' ');
  // From field 3 (state): ppid is field 4, utime and stime fields 14 and 15.
  const ppid = Number(f[1]);
  const ticks = Number(f[11]) + Number(f[12]);
  return Number.isInteger(ppid) && Number.isFinite(ticks) ? { ppid, ticks } : null;
}

function stat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // not Linux, or the process is gone
  }
}

/** Seconds of CPU the processes have used so far; null when /proc cannot tell for one of them. */
export function cpuSeconds(pids: readonly number[]): number | null {
  let ticks = 0;
  for (const pid of pids) {
    const s = stat(pid);
    if (!s) return null;
    ticks += s.ticks;
  }
  return ticks / TICKS;
}

/** The process and its direct children (nginx's master and its workers); [pid] where /proc is missing. */
export function withChildren(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [pid];
  }
  const out = [pid];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    if (stat(Number(e))?.ppid === pid) out.push(Number(e));
  }
  return out;
}
