// Kubernetes pieces every platform's manifest shares: a container's resources,
// its env, the engine version in an image tag, and the `berth/*` annotations
// an export writes for what a platform has no field for (so applying an export
// gives back the same deployment).
import type { Backend, DeploymentInput } from '../contract/deployment.js';
import { listEngines } from '../engines/catalogue.js';
import { compareVersions, isVersion } from '../engines/versions.js';
import type { Fields } from './fields.js';
import type { Path } from './paths.js';

export const GPU_RESOURCE = 'nvidia.com/gpu';

export interface Resources {
  gpu: { count: number; gpuType?: string };
  cpu?: string;
  mem?: string;
}

const CPU_MEM_REASON = 'Berth does not cap an engine\'s CPU or memory on one machine; kept (resource.cpu, resource.mem) for export';

/**
 * A container's `resources`: the GPU count from `limits` (requests of an
 * extended resource must equal its limits), a GPU type from a named GPU
 * resource (`nvidia.com/gpu-l40s`, `nvidia.com/mig-1g.10gb`), CPU and memory
 * kept. No GPU limit means no GPU, as on a cluster.
 */
export function readResources(f: Fields, path: Path, warnings: string[]): Resources {
  const limits = f.object([...path, 'limits']) ?? {};
  const requests = f.object([...path, 'requests']) ?? {};
  const out: Resources = { gpu: { count: 0 } };
  let gpuFrom: 'limits' | 'requests' | null = null;
  for (const side of ['limits', 'requests'] as const) {
    const table = side === 'limits' ? limits : requests;
    for (const key of Object.keys(table)) {
      const p = [...path, side, key];
      if (key.startsWith('nvidia.com/')) {
        if (gpuFrom === 'limits' && side === 'requests') {
          f.ignore(p, 'requests of a GPU resource equal its limits on Kubernetes; Berth reads the limits');
          continue;
        }
        if (gpuFrom === side) f.fail(p, `a second GPU resource; one container asks for one kind of GPU (${GPU_RESOURCE} or a named one)`);
        out.gpu.count = f.int(p, 0) ?? 0;
        if (key !== GPU_RESOURCE) out.gpu.gpuType = key;
        gpuFrom = side;
      } else if (key === 'cpu' || key === 'memory') {
        if (side === 'requests') {
          f.ignore(p, 'requests reserve room on a node for the scheduler; nothing is reserved on one machine');
          continue;
        }
        const v = f.str(p);
        if (v !== undefined) out[key === 'cpu' ? 'cpu' : 'mem'] = v;
        f.ignored.push({ field: f.label(p), reason: CPU_MEM_REASON });
      } else {
        f.ignore(p, `${key}: Berth allocates NVIDIA GPUs only`);
      }
    }
  }
  if (!gpuFrom) warnings.push(`${[f.doc.kind, f.doc.name].filter(Boolean).join(' ')}: no ${GPU_RESOURCE} limit, so the engine gets no GPU, as on a cluster`);
  return out;
}

/** The path part of a `host://` or `file://` URI as Berth's modelId: absolute, or relative as written (`./`, `../`, `~/`). */
export function localPath(rest: string): string {
  return /^(\/|\.\/|\.\.\/|~\/)/.test(rest) ? rest : `/${rest}`;
}

/** A container's `env` list; `valueFrom` (Secrets, ConfigMaps) has no cluster to read from. */
export function readEnv(f: Fields, path: Path): Record<string, string> {
  const env: Record<string, string> = {};
  const list = f.list(path) ?? [];
  list.forEach((_, i) => {
    const name = f.str([...path, i, 'name']);
    if (!name) f.fail([...path, i, 'name'], 'an env entry needs a name');
    if (f.peek([...path, i, 'valueFrom']) !== undefined) {
      f.ignore([...path, i, 'valueFrom'], `${name} is read from a Secret or ConfigMap of the cluster; set ${name} in the daemon's environment, which engines inherit`);
      return;
    }
    env[name] = f.str([...path, i, 'value']) ?? '';
  });
  return env;
}

/** `repo/vllm:0.4.1` -> `0.4.1`; `vllm/vllm-openai:v0.9.0.1` -> `0.9.0.1`; a digest, `latest` or no tag -> null. */
export function imageVersion(image: string): string | null {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  if (colon <= slash) return null;
  const m = /^v?(\d+(?:\.\d+)+(?:[.-]?(?:post|rc|dev)\d*)?)(?:$|[-+_])/.exec(noDigest.slice(colon + 1));
  return m && isVersion(m[1]!) ? m[1]! : null;
}

/**
 * The backendVersion for a version a manifest names. One Berth has no recipe
 * for is kept and planned with the nearest lower recipe (with a warning from
 * the plan); one older than every recipe cannot be planned by its own flags,
 * so Berth's oldest recipe is used and the caller keeps the original for export.
 */
export function backendVersionFor(backend: Backend, version: string, what: string, warnings: string[]): string {
  const known = listEngines().find((e) => e.backend === backend)!.versions;
  if (known.some((v) => compareVersions(v, version) === 0)) return version;
  const oldest = known[0]!;
  if (compareVersions(version, oldest) < 0) {
    warnings.push(
      `${what}: ${backend} ${version} is older than every release Berth has a recipe for (${known.join(', ')}); planned as ${backend} ${oldest}, whose flags the engine you run must accept`,
    );
    return oldest;
  }
  // Kept as given; the plan says which recipe it uses (resolveRecipe's warning).
  return version;
}

/** What no platform has a field for, written by an export as annotations and read back by apply. */
export const BERTH_ANNOTATIONS = {
  servedNames: 'berth/served-names',
  fallback: 'berth/fallback',
  idleTime: 'berth/idle-time',
  rpsValue: 'berth/rps-value',
  inFlightValue: 'berth/in-flight-value',
  workers: 'berth/workers',
  gpuType: 'berth/gpu-type',
  backendVersion: 'berth/backend-version',
  loras: 'berth/loras',
  ttft: 'berth/ttft',
} as const;

interface TtftBand {
  upper: number;
  lower: number;
  windowSec?: number;
}

export interface BerthAnnotations {
  servedNames?: string[];
  fallback?: string[];
  idleTime?: number;
  rpsValue?: number;
  /** null: no per-replica limit. */
  inFlightValue?: number | null;
  workers?: number;
  gpuType?: string;
  backendVersion?: string;
  loras?: { name: string; path: string }[];
  ttft?: TtftBand;
}

const isLora = (x: unknown): x is { name: string; path: string } =>
  typeof x === 'object' && x !== null && typeof (x as { name?: unknown }).name === 'string' && typeof (x as { path?: unknown }).path === 'string' && Object.keys(x).length === 2;

const isTtft = (x: unknown): x is TtftBand =>
  typeof x === 'object' &&
  x !== null &&
  typeof (x as TtftBand).upper === 'number' &&
  typeof (x as TtftBand).lower === 'number' &&
  ['undefined', 'number'].includes(typeof (x as TtftBand).windowSec);

export function readBerthAnnotations(f: Fields, path: Path): BerthAnnotations {
  const at = (key: string): Path => [...path, key];
  const A = BERTH_ANNOTATIONS;
  // Checked for shape here; the deployment schema checks the values and names the field.
  const jsonOf = <T>(key: string, ok: (x: unknown) => x is T, expected: string): T | undefined => {
    const v = f.str(at(key));
    if (v === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      parsed = undefined;
    }
    if (!ok(parsed)) f.fail(at(key), `expected ${expected}`);
    return parsed;
  };
  const isNames = (x: unknown): x is string[] => Array.isArray(x) && x.every((n) => typeof n === 'string');
  const list = (key: string) => jsonOf(key, isNames, 'a JSON list of names, e.g. ["a","b"]');
  const out: BerthAnnotations = {};
  const loras = jsonOf(A.loras, (x): x is { name: string; path: string }[] => Array.isArray(x) && x.every(isLora), 'a JSON list of LoRA adapters, e.g. [{"name":"sql","path":"/adapters/sql"}]');
  if (loras) out.loras = loras;
  const ttft = jsonOf(A.ttft, isTtft, 'a JSON time-to-first-token band, e.g. {"upper":2,"lower":0.5}');
  if (ttft) out.ttft = ttft;
  const servedNames = list(A.servedNames);
  if (servedNames) out.servedNames = servedNames;
  const fallback = list(A.fallback);
  if (fallback) out.fallback = fallback;
  const idle = f.int(at(A.idleTime), 0);
  if (idle !== undefined) out.idleTime = idle;
  const rps = f.number(at(A.rpsValue));
  if (rps !== undefined) out.rpsValue = rps;
  if (f.peek(at(A.inFlightValue)) === 'none') {
    f.take(at(A.inFlightValue));
    out.inFlightValue = null;
  } else {
    const inFlight = f.int(at(A.inFlightValue), 1);
    if (inFlight !== undefined) out.inFlightValue = inFlight;
  }
  const workers = f.int(at(A.workers), 1);
  if (workers !== undefined) out.workers = workers;
  const gpuType = f.str(at(A.gpuType));
  if (gpuType) out.gpuType = gpuType;
  const version = f.str(at(A.backendVersion));
  if (version) out.backendVersion = version;
  return out;
}

/**
 * The parts of a deployment every manifest reader builds alike: resources,
 * scale, and what only the `berth/*` annotations carry. `scale` holds what the
 * format itself says (replica bounds, and a target where it has one).
 */
export function deploymentParts(
  berth: BerthAnnotations,
  resources: Resources,
  scale: { min: number; max: number; rpsValue?: number; inFlightValue?: number | null },
): Pick<DeploymentInput, 'resource' | 'scale' | 'fallback' | 'loras'> {
  const gpuType = resources.gpu.gpuType ?? berth.gpuType;
  const { min, max, rpsValue, inFlightValue } = scale;
  return {
    resource: {
      workers: berth.workers ?? 1,
      gpu: { count: resources.gpu.count, ...(gpuType ? { gpuType } : {}) },
      ...(resources.cpu ? { cpu: resources.cpu } : {}),
      ...(resources.mem ? { mem: resources.mem } : {}),
    },
    scale: {
      min,
      max,
      ...(berth.idleTime !== undefined ? { idleTime: berth.idleTime } : {}),
      ...(rpsValue !== undefined ? { rpsValue } : {}),
      ...(inFlightValue !== undefined ? { inFlightValue } : {}),
      ...(berth.ttft ? { ttft: berth.ttft } : {}),
    },
    fallback: berth.fallback ?? [],
    ...(berth.loras ? { loras: berth.loras } : {}),
  };
}

/** The annotations an export writes for `d`'s fields that `native` (what the format says itself) does not carry. */
export function berthAnnotationsFor(
  d: {
    servedName: string[];
    fallback: string[];
    scale: { idleTime: number; rpsValue: number; inFlightValue: number | null; ttft?: TtftBand };
    resource: { workers: number };
    loras: { name: string; path: string }[];
  },
  native: { servedNames: string[]; idleTime?: boolean; rpsValue?: boolean; inFlightValue?: boolean },
  defaults: { idleTime: number; rpsValue: number; inFlightValue: number | null },
): Record<string, string> {
  const A = BERTH_ANNOTATIONS;
  const out: Record<string, string> = {};
  if (JSON.stringify(d.servedName) !== JSON.stringify(native.servedNames)) out[A.servedNames] = JSON.stringify(d.servedName);
  if (d.fallback.length) out[A.fallback] = JSON.stringify(d.fallback);
  if (!native.idleTime && d.scale.idleTime !== defaults.idleTime) out[A.idleTime] = String(d.scale.idleTime);
  if (!native.rpsValue && d.scale.rpsValue !== defaults.rpsValue) out[A.rpsValue] = String(d.scale.rpsValue);
  if (!native.inFlightValue && d.scale.inFlightValue !== defaults.inFlightValue) out[A.inFlightValue] = d.scale.inFlightValue === null ? 'none' : String(d.scale.inFlightValue);
  if (d.resource.workers !== 1) out[A.workers] = String(d.resource.workers);
  if (d.loras.length) out[A.loras] = JSON.stringify(d.loras);
  if (d.scale.ttft) out[A.ttft] = JSON.stringify(d.scale.ttft);
  return out;
}
