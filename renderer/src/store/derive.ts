// Pure readings of the store that more than one view needs: the overall state
// the header shows, each deployment's colour, and a GPU's memory bar. No DOM.
import type { DeploymentStatus, Gpu } from '../../../daemon/contract/api.js';
import type { GpuShare, GpuUsageReport } from '../../../daemon/contract/live.js';
import type { LiveState } from './reducer.js';

export type Overall = 'connecting' | 'unreachable' | 'error' | 'starting' | 'serving' | 'idle';

/** One word for the whole daemon, as the header (and the tray) show it. */
export function overallState(s: Pick<LiveState, 'connection' | 'synced' | 'deployments'>): Overall {
  if (s.connection === 'unreachable') return 'unreachable';
  if (!s.synced) return 'connecting';
  const running = s.deployments.filter((d) => d.desired === 'running');
  if (running.some((d) => d.state === 'failed')) return 'error';
  if (running.some((d) => d.state === 'pending' || d.state === 'pulling' || d.state === 'starting')) return 'starting';
  if (s.deployments.some((d) => d.state === 'ready')) return 'serving';
  return 'idle';
}

/** The number of share colours in styles.css (`--share-1` … `--share-8`). */
export const SHARE_COLOURS = 8;

/**
 * A deployment's colour, 1..SHARE_COLOURS, stable while the set of names is:
 * the same deployment has the same colour on every GPU card and in the table.
 */
export function shareColour(name: string, deployments: readonly Pick<DeploymentStatus, 'name'>[]): number {
  const names = deployments.map((d) => d.name).sort();
  const i = names.indexOf(name);
  return ((i < 0 ? names.length : i) % SHARE_COLOURS) + 1;
}

/** Which lifecycle actions mean something for a deployment now. */
export function lifecycleActions(d: Pick<DeploymentStatus, 'desired' | 'state'>): { start: boolean; stop: boolean; restart: boolean } {
  const running = d.desired === 'running';
  return {
    // A failed deployment still wants to run: starting it again is the retry.
    start: !running || d.state === 'failed',
    stop: running,
    restart: running && d.state !== 'stopping',
  };
}

export interface ReplicaSummary {
  ready: number;
  /** Replicas that exist and are not stopped: what the deployment is running or bringing up. */
  wanted: number;
  gpus: number[];
  ports: number[];
}

export function replicaSummary(d: Pick<DeploymentStatus, 'replicas'>): ReplicaSummary {
  const live = d.replicas.filter((r) => r.state !== 'stopped');
  const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  return {
    ready: live.filter((r) => r.state === 'ready').length,
    wanted: live.length,
    gpus: uniq(live.flatMap((r) => r.gpus)),
    ports: uniq(live.flatMap((r) => (r.port === null ? [] : [r.port]))),
  };
}

/** The state word a deployment shows: "sleeping" when scaled to zero on purpose. */
export function stateLabel(d: Pick<DeploymentStatus, 'state' | 'sleeping' | 'desired'>): string {
  if (d.sleeping) return 'sleeping';
  if (d.desired === 'stopped' && d.state === 'failed') return 'failed (stopped)';
  return d.state;
}

export function sharesOf(usage: GpuUsageReport | null, deployment: string): GpuShare[] {
  return usage ? usage.shares.filter((s) => s.deployment === deployment) : [];
}

export interface BarSegment {
  kind: 'share' | 'foreign' | 'other';
  /** The deployment's name for a share; "other processes" / "other" otherwise. */
  label: string;
  /** 1..SHARE_COLOURS for a share, null for grey. */
  colour: number | null;
  allocatedMiB: number | null;
  usedMiB: number | null;
  /** Width in % of the GPU's total memory. */
  widthPct: number;
  /** The used part, in % of this segment's width (the rest is allocated, not yet used). */
  usedPctOfSegment: number;
}

export interface MemoryBar {
  totalMiB: number;
  usedMiB: number | null;
  freeMiB: number | null;
  segments: BarSegment[];
}

const sumOrNull = (xs: (number | null)[]): number | null => {
  const known = xs.filter((x): x is number => x !== null);
  return known.length ? known.reduce((a, b) => a + b, 0) : null;
};

// Below this share of the card, unexplained memory (driver, CUDA contexts) is not worth a segment.
const OTHER_MIN_FRACTION = 0.01;

/**
 * The memory bar of one GPU: a segment per deployment holding it (as wide as
 * the larger of what Berth allocated and what the engine uses, the used part
 * solid), one grey segment for processes that are not Berth's, one for memory
 * nobody accounts for, and the rest free. null when the driver reports no total.
 */
export function memoryBar(
  gpu: Gpu,
  usage: GpuUsageReport | null,
  deployments: readonly Pick<DeploymentStatus, 'name'>[],
): MemoryBar | null {
  const total = gpu.memoryTotalMiB;
  if (total === null || total <= 0) return null;
  const shares = usage ? usage.shares.filter((s) => s.gpuIndex === gpu.index) : [];
  const byDeployment = new Map<string, GpuShare[]>();
  for (const s of shares) byDeployment.set(s.deployment, [...(byDeployment.get(s.deployment) ?? []), s]);

  const segments: BarSegment[] = [];
  for (const [name, list] of [...byDeployment].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const allocatedMiB = sumOrNull(list.map((s) => s.allocatedMiB));
    const usedMiB = sumOrNull(list.map((s) => s.usedMiB));
    const width = Math.max(allocatedMiB ?? 0, usedMiB ?? 0);
    segments.push({
      kind: 'share',
      label: name,
      colour: shareColour(name, deployments),
      allocatedMiB,
      usedMiB,
      widthPct: (width / total) * 100,
      usedPctOfSegment: width > 0 ? ((usedMiB ?? 0) / width) * 100 : 0,
    });
  }

  const foreign = usage ? usage.foreign.filter((f) => f.gpuIndex === gpu.index) : [];
  const foreignMiB = sumOrNull(foreign.map((f) => f.usedMiB)) ?? 0;
  if (foreign.length > 0) {
    segments.push({
      kind: 'foreign',
      label: 'other processes',
      colour: null,
      allocatedMiB: null,
      usedMiB: foreignMiB,
      widthPct: (foreignMiB / total) * 100,
      usedPctOfSegment: 100,
    });
  }

  const sharesUsed = segments.filter((s) => s.kind === 'share').reduce((a, s) => a + (s.usedMiB ?? 0), 0);
  const otherMiB = gpu.memoryUsedMiB === null ? 0 : gpu.memoryUsedMiB - sharesUsed - foreignMiB;
  if (otherMiB > total * OTHER_MIN_FRACTION) {
    segments.push({
      kind: 'other',
      label: 'other',
      colour: null,
      allocatedMiB: null,
      usedMiB: otherMiB,
      widthPct: (otherMiB / total) * 100,
      usedPctOfSegment: 100,
    });
  }

  // Allocations are budgets, not measurements: together with what others use
  // they can exceed the card. Scale the bar rather than overflow it.
  const sum = segments.reduce((a, s) => a + s.widthPct, 0);
  if (sum > 100) for (const s of segments) s.widthPct = (s.widthPct / sum) * 100;

  return { totalMiB: total, usedMiB: gpu.memoryUsedMiB, freeMiB: gpu.memoryFreeMiB, segments };
}
