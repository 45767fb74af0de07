// A launch plan computed without launching: for `berth plan`, POST /api/v1/plan
// and the supervisor's own starts. Allocation problems become warnings here,
// so a user can inspect a plan on a laptop with no GPU.
import { isAbsolute, join, resolve } from 'node:path';
import type { GpuInventory, LaunchPlan } from '../contract/api.js';
import { gpusPerReplica, type Deployment } from '../contract/deployment.js';
import { buildPlan } from '../engines/plan.js';
import { buildContainerPlan, PASSED_SECRETS } from '../launchers/docker/container-spec.js';
import { imageFor } from '../launchers/docker/images.js';
import { createModes, dockerApiFor } from '../launchers/mode-probes.js';
import type { ModeChoice, ModeResolver } from '../launchers/types.js';
import { allocateGpus } from '../scheduler/gpus.js';
import { pickPort, type PortProbe } from '../scheduler/ports.js';

export interface Interpreters {
  vllmPython: string;
  sglangPython: string;
}

export function interpreterFor(d: Pick<Deployment, 'backend'>, i: Interpreters): string {
  return d.backend === 'vllm' ? i.vllmPython : i.sglangPython;
}

/** What a plan needs from the machine besides GPUs and a port: paths and which secrets the daemon holds. */
export interface PlanContext {
  interpreters: Interpreters;
  /** Berth's state dir (labels its containers). */
  stateDir: string;
  /** The daemon's environment: HOME, HF_HOME and the secrets passed by name. */
  env: Readonly<Record<string, string | undefined>>;
  /** Where relative local model paths are resolved, as a process-mode engine would. */
  cwd: string;
}

export function planContext(settings: Interpreters & { home: string }, env: Readonly<Record<string, string | undefined>>, cwd = process.cwd()): PlanContext {
  return { interpreters: { vllmPython: settings.vllmPython, sglangPython: settings.sglangPython }, stateDir: settings.home, env, cwd };
}

/** `mode: auto`'s resolver for a plan made without a daemon (`berth plan`). */
export function offlineModes(settings: Interpreters & { docker: string }, env: Record<string, string>): ModeResolver {
  return createModes(settings, env, dockerApiFor(settings, env));
}

const LOCAL_MODEL = /^(\/|\.\/|\.\.\/|~\/)/;

/** A local modelId as an absolute host path, or null for a hub id. */
function localModelPath(modelId: string, ctx: PlanContext): string | null {
  if (!LOCAL_MODEL.test(modelId)) return null;
  if (modelId.startsWith('~/')) return join(ctx.env.HOME ?? '/root', modelId.slice(2));
  return isAbsolute(modelId) ? modelId : resolve(ctx.cwd, modelId);
}

/** The host's Hugging Face cache, where huggingface_hub itself would put it. */
function hfCacheHost(ctx: PlanContext): string {
  if (ctx.env.HF_HOME) return ctx.env.HF_HOME;
  return join(ctx.env.XDG_CACHE_HOME || join(ctx.env.HOME ?? '/root', '.cache'), 'huggingface');
}

/** One replica's plan in the mode chosen for it. Throws PlanError (400) as buildPlan does. */
export function replicaPlan(opts: { deployment: Deployment; gpus: number[]; port: number; replica: string; choice: ModeChoice; ctx: PlanContext }): LaunchPlan {
  const { deployment: d, gpus, port, choice, ctx } = opts;
  const modeReason = choice.reason ? { modeReason: choice.reason } : {};
  if (choice.mode === 'process') {
    return { ...buildPlan({ deployment: d, gpus, port, interpreter: interpreterFor(d, ctx.interpreters) }), mode: 'process', ...modeReason };
  }
  const { entry, image, warning } = imageFor(d.backend, d.backendVersion, d.image);
  const localModel = localModelPath(d.modelId, ctx);
  // Inside, the engine binds the container's own interface; Docker publishes it on host loopback only.
  const inside = buildPlan({ deployment: { ...d, modelId: localModel ?? d.modelId }, gpus, port, interpreter: entry.python, host: '0.0.0.0' });
  const container = buildContainerPlan({
    deployment: d,
    plan: inside,
    replica: opts.replica,
    image: { image, runs: entry.runs, python: entry.python, hfCache: entry.hfCache },
    stateDir: ctx.stateDir,
    hfCacheHost: hfCacheHost(ctx),
    localModel,
    passedSecrets: PASSED_SECRETS.filter((s) => ctx.env[s] !== undefined && ctx.env[s] !== ''),
  });
  // The container's GPUs are chosen by its device request, and CUDA numbers them from 0 inside.
  const env = { ...inside.env };
  if (!Object.hasOwn(d.env, 'CUDA_VISIBLE_DEVICES')) delete env.CUDA_VISIBLE_DEVICES;
  return {
    ...inside,
    env,
    // Where the daemon reaches it: the published address, whatever the engine binds inside.
    host: '127.0.0.1',
    mode: 'container',
    ...modeReason,
    container,
    warnings: warning ? [...inside.warnings, warning] : inside.warnings,
  };
}

export async function previewPlan(opts: {
  deployment: Deployment;
  inventory: GpuInventory;
  held: ReadonlyMap<number, string>;
  reservedPorts: ReadonlySet<number>;
  portBase: number;
  isPortFree: PortProbe;
  ctx: PlanContext;
  modes: ModeResolver;
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
  const choice = await opts.modes.resolve(deployment);
  const plan = replicaPlan({ deployment, gpus, port, replica: `${deployment.name}-0`, choice, ctx: opts.ctx });
  return { ...plan, warnings: [...plan.warnings, ...warnings] };
}
