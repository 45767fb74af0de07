// A launch plan computed without launching: for `berth plan`, POST /api/v1/plan
// and the supervisor's own starts. Allocation problems become warnings here,
// so a user can inspect a plan on a laptop with no GPU.
import type { GpuInventory, LaunchPlan } from '../contract/api.js';
import { gpusPerReplica, type Deployment } from '../contract/deployment.js';
import { buildPlan } from '../engines/plan.js';
import { allocateGpus } from '../scheduler/gpus.js';
import { pickPort, type PortProbe } from '../scheduler/ports.js';

export interface Interpreters {
  vllmPython: string;
  sglangPython: string;
}

export function interpreterFor(d: Pick<Deployment, 'backend'>, i: Interpreters): string {
  return d.backend === 'vllm' ? i.vllmPython : i.sglangPython;
}

export async function previewPlan(opts: {
  deployment: Deployment;
  inventory: GpuInventory;
  held: ReadonlyMap<number, string>;
  reservedPorts: ReadonlySet<number>;
  portBase: number;
  isPortFree: PortProbe;
  interpreters: Interpreters;
}): Promise<LaunchPlan> {
  const { deployment } = opts;
  const count = gpusPerReplica(deployment);
  const warnings: string[] = [];
  const alloc = allocateGpus(opts.inventory.gpus, opts.held, { count, gpuType: deployment.resource.gpu.gpuType });
  let gpus: number[];
  if (alloc.ok) gpus = alloc.gpus;
  else {
    gpus = Array.from({ length: count }, (_, i) => i);
    const why = opts.inventory.available ? '' : ` (${opts.inventory.reason})`;
    warnings.push(`cannot start here now: ${alloc.message}${why}; showing GPUs ${gpus.join(', ')}`);
  }
  const port = await pickPort(opts.portBase, opts.reservedPorts, opts.isPortFree);
  const plan = buildPlan({ deployment, gpus, port, interpreter: interpreterFor(deployment, opts.interpreters) });
  return { ...plan, warnings: [...plan.warnings, ...warnings] };
}
