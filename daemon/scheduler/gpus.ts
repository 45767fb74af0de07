// Pure GPU allocation: which GPUs a new replica gets, or why it gets none.
import type { Gpu } from '../contract/api.js';
import { matchesGpuType } from './gpu-type.js';

export interface GpuRequest {
  count: number;
  gpuType?: string;
}

export type Allocation =
  | { ok: true; gpus: number[] }
  | {
      ok: false;
      needed: number;
      free: number;
      /** Deployments holding matching GPUs, so the user knows what to stop. */
      heldBy: { deployment: string; gpus: number[] }[];
      message: string;
    };

/**
 * @param held GPU index → name of the deployment whose replica holds it.
 * Prefers the GPUs with the most free memory (another user's process may sit
 * on a GPU Berth does not hold), then the lowest index for stable plans.
 */
export function allocateGpus(gpus: readonly Gpu[], held: ReadonlyMap<number, string>, req: GpuRequest): Allocation {
  if (req.count === 0) return { ok: true, gpus: [] };
  const matching = gpus.filter((g) => matchesGpuType(g.name, req.gpuType));
  const free = matching
    .filter((g) => !held.has(g.index))
    .sort((a, b) => (b.memoryFreeMiB ?? -1) - (a.memoryFreeMiB ?? -1) || a.index - b.index);
  if (free.length >= req.count) return { ok: true, gpus: free.slice(0, req.count).map((g) => g.index).sort((a, b) => a - b) };

  const byDeployment = new Map<string, number[]>();
  for (const g of matching) {
    const owner = held.get(g.index);
    if (owner !== undefined) byDeployment.set(owner, [...(byDeployment.get(owner) ?? []), g.index]);
  }
  const heldBy = [...byDeployment].map(([deployment, idx]) => ({ deployment, gpus: idx }));
  const kind = req.gpuType ? ` matching "${req.gpuType}"` : '';
  const parts = [`needs ${req.count} GPU${req.count === 1 ? '' : 's'}${kind}, ${free.length} free`];
  if (matching.length === 0) parts.push(gpus.length === 0 ? 'no NVIDIA GPU detected' : `no GPU${kind} on this machine`);
  if (heldBy.length) parts.push(`held by ${heldBy.map((h) => `${h.deployment} (GPU ${h.gpus.join(', ')})`).join(', ')}`);
  return { ok: false, needed: req.count, free: free.length, heldBy, message: parts.join('; ') };
}
