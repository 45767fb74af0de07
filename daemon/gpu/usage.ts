// Which replica holds how much of each GPU: nvidia-smi's compute apps (pid,
// GPU, used MiB) mapped to the replicas that own them. Pure: the process table
// and the replicas come in as data (state/proc.ts reads /proc, the supervisor
// names the replicas), so every rule here is a table-driven test.
import type { GpuInventory } from '../contract/api.js';
import type { GpuShare, GpuUsageReport } from '../contract/live.js';

/** One replica as GPU accounting sees it. */
export interface GpuClaim {
  deployment: string;
  replica: string;
  /** The engine's pid, which leads its own process group (launchers/types.ts). */
  pid: number;
  /** nvidia-smi indexes Berth allocated to the replica. */
  gpus: readonly number[];
  /** The engine's memory budget as a fraction of each GPU's total; null when unknown. */
  memoryFraction: number | null;
}

/** Two facts per process from /proc/<pid>/stat. */
export interface ProcLink {
  pgid: number;
  ppid: number;
}

/** Parent links followed at most; a cycle or a deep tree ends the walk without an owner. */
const MAX_ANCESTORS = 64;

/**
 * The claim whose engine `pid` belongs to: the engine itself, a member of its
 * process group (vLLM's EngineCore, SGLang's schedulers), or failing that a
 * descendant of either (a worker that started its own session or group, as
 * multiprocessing with setsid or Ray does). null: foreign to Berth, or gone
 * before /proc was read (then no link is known).
 */
export function ownerOf<C extends { pid: number }>(pid: number, leaders: ReadonlyMap<number, C>, links: ReadonlyMap<number, ProcLink>): C | null {
  let cur: number | undefined = pid;
  for (let step = 0; cur !== undefined && cur > 1 && step <= MAX_ANCESTORS; step++) {
    const own = leaders.get(cur);
    if (own) return own;
    const link = links.get(cur);
    if (!link) return null;
    const group = leaders.get(link.pgid);
    if (group) return group;
    cur = link.ppid;
  }
  return null;
}

const addMiB = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : a + b);

/**
 * The report for `inventory`'s processes. Every claimed GPU gets a share,
 * with usedMiB null until the engine's processes show up on it; a GPU where a
 * replica's process runs without Berth having given it (the deployment's own
 * CUDA_VISIBLE_DEVICES) gets a share with allocatedMiB null. Processes no
 * replica owns are `foreign`.
 */
export function usageReport(inventory: GpuInventory, claims: readonly GpuClaim[], links: ReadonlyMap<number, ProcLink>, at: string): GpuUsageReport {
  const leaders = new Map(claims.map((c) => [c.pid, c]));
  const byIndex = new Map(inventory.gpus.map((g) => [g.index, g]));
  const shares = new Map<string, GpuShare>();
  const shareOf = (c: GpuClaim, gpuIndex: number): GpuShare => {
    const key = `${c.replica}\u0000${gpuIndex}`;
    let s = shares.get(key);
    if (!s) {
      const gpu = byIndex.get(gpuIndex);
      const total = gpu?.memoryTotalMiB ?? null;
      const allocated = c.gpus.includes(gpuIndex) && c.memoryFraction !== null && total !== null ? Math.round(c.memoryFraction * total) : null;
      s = { gpuIndex, gpuUuid: gpu?.uuid || null, deployment: c.deployment, replica: c.replica, allocatedMiB: allocated, usedMiB: null, pids: [] };
      shares.set(key, s);
    }
    return s;
  };
  for (const c of claims) for (const i of c.gpus) shareOf(c, i);

  const foreign: GpuUsageReport['foreign'] = [];
  for (const gpu of inventory.gpus) {
    for (const p of gpu.processes) {
      const owner = ownerOf(p.pid, leaders, links);
      if (!owner) {
        foreign.push({ gpuIndex: gpu.index, pid: p.pid, name: p.name, usedMiB: p.usedMiB });
        continue;
      }
      const s = shareOf(owner, gpu.index);
      s.usedMiB = addMiB(s.usedMiB, p.usedMiB);
      if (!s.pids.includes(p.pid)) s.pids.push(p.pid);
    }
  }
  const ordered = [...shares.values()].sort((a, b) => a.gpuIndex - b.gpuIndex || a.deployment.localeCompare(b.deployment) || a.replica.localeCompare(b.replica));
  return { shares: ordered, foreign, at };
}
