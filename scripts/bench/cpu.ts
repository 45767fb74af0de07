// CPU time of the processes on a benchmark's path, from the daemon's own
// /proc reader (Linux; null elsewhere).
//
// Requests per second alone cannot say why a point is what it is: when the
// engine already saturates a core with no proxy in front, every proxy ties
// it, whatever the proxy costs. CPU per request says what each proxy costs,
// and the engine's busy share says whether a point was engine-bound.
import { spawnSync } from 'node:child_process';
import { readCpuTicks } from '../../daemon/state/proc.js';

/** Clock ticks per second, the unit of /proc/<pid>/stat's times. */
const TICKS = (() => {
  const n = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
  return n > 0 ? n : 100;
})();

/**
 * Seconds of CPU the processes have used so far; null when there are none
 * (direct: no proxy; nginx's group where /proc is missing) or /proc cannot
 * tell for one of them.
 */
export function cpuSeconds(pids: readonly number[]): number | null {
  if (pids.length === 0) return null;
  let ticks = 0;
  for (const pid of pids) {
    const t = readCpuTicks(pid);
    if (t === null) return null;
    ticks += t;
  }
  return ticks / TICKS;
}
