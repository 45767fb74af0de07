// What the three exporters share: the Kubernetes shapes of a deployment's
// resources and env, the engine image, and the `berth/*` annotations for what
// a platform has no field for.
import { DEFAULT_SCALE, DNS_LABEL, type Deployment, type Platform } from '../contract/deployment.js';
import { defaultBackendVersion, resolveRecipe } from '../engines/catalogue.js';
import { compareVersions } from '../engines/versions.js';
import { ENGINE_MODULES } from './engine-command.js';
import { BERTH_ANNOTATIONS, backendVersionFor, berthAnnotationsFor, GPU_RESOURCE, imageVersion } from './kubernetes.js';

/** The engine's port inside a container when the deployment came from nowhere that said (KServe's and Knative's convention). */
export const CONTAINER_PORT = 8080;

export function k8sResources(d: Deployment): Record<string, unknown> {
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  if (d.resource.cpu !== undefined) limits.cpu = String(d.resource.cpu);
  if (d.resource.mem !== undefined) limits.memory = d.resource.mem;
  const count = d.resource.gpu.count;
  if (count > 0) {
    const t = d.resource.gpu.gpuType;
    const key = t?.startsWith('nvidia.com/') ? t : GPU_RESOURCE;
    limits[key] = String(count);
    requests[key] = String(count);
  }
  return { ...(Object.keys(limits).length ? { limits } : {}), ...(Object.keys(requests).length ? { requests } : {}) };
}

/**
 * The container's env. A secret (secretEnv: HF_TOKEN) never leaves this
 * machine in a manifest: it becomes a reference to a Secret the cluster must
 * hold, `<deployment>-secrets`, under the variable's name.
 */
export const k8sEnv = (d: Deployment) => [
  ...Object.entries(d.env).map(([name, value]) => ({ name, value })),
  ...Object.keys(d.secretEnv ?? {}).map((name) => ({ name, valueFrom: { secretKeyRef: { name: `${d.name}-secrets`, key: name } } })),
];

export const hasEnv = (d: Deployment) => Object.keys(d.env).length + Object.keys(d.secretEnv ?? {}).length > 0;

/** What a manifest of one of `from` kept (another platform's `kept` means something else). */
export function keptString(d: Deployment, key: string, from: readonly Platform[]): string | undefined {
  if (!d.source || !from.includes(d.source.platform)) return undefined;
  const v = d.source.kept[key];
  return typeof v === 'string' ? v : undefined;
}

/** Platforms whose manifests name a container image and its port. */
const CONTAINER_PLATFORMS: readonly Platform[] = ['kserve', 'knative'];

export function keptPort(d: Deployment): number {
  const v = d.source && CONTAINER_PLATFORMS.includes(d.source.platform) ? d.source.kept.port : undefined;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : CONTAINER_PORT;
}

/** The image a cluster runs: the one the manifest named, else the engine's public image at this version. */
export function engineImage(d: Deployment): string {
  const kept = keptString(d, 'image', CONTAINER_PLATFORMS);
  if (kept) return kept;
  return d.backend === 'vllm' ? `vllm/vllm-openai:v${d.backendVersion}` : `lmsysorg/sglang:v${d.backendVersion}`;
}

export const engineModule = (d: Deployment) => ENGINE_MODULES[d.backend];
export const modelFlag = (d: Deployment) => resolveRecipe(d.backend, d.backendVersion).recipe.model.flag;

/** The served names the engine's flag carries natively (SGLang takes one). */
export function nativeServedNames(d: Deployment): string[] {
  return d.backend === 'sglang' ? d.servedName.slice(0, 1) : d.servedName;
}

/**
 * `berth/*` annotations: the scale fields the format has no place for, the
 * served names when the format carries others, workers, a GPU type that is not
 * a resource name, and the backend version when the image does not say it.
 */
export function berthAnnotations(
  d: Deployment,
  native: { servedNames: string[]; idleTime?: boolean; rpsValue?: boolean; inFlightValue?: boolean; image?: string | null },
): Record<string, string> {
  const out = berthAnnotationsFor(d, native, DEFAULT_SCALE);
  const t = d.resource.gpu.gpuType;
  if (t && !t.startsWith('nvidia.com/')) out[BERTH_ANNOTATIONS.gpuType] = t;
  if (native.image !== undefined) {
    // What applying the export would read as the version: the image's tag, else the engine's default.
    const tag = native.image ? imageVersion(native.image) : null;
    const read = tag ? backendVersionFor(d.backend, tag, '', []) : defaultBackendVersion(d.backend);
    if (compareVersions(read, d.backendVersion) !== 0) out[BERTH_ANNOTATIONS.backendVersion] = d.backendVersion;
  }
  return out;
}

export function metadata(name: string, d: Deployment, annotations: Record<string, string>): Record<string, unknown> {
  return {
    name,
    ...(d.source?.namespace && DNS_LABEL.test(d.source.namespace) ? { namespace: d.source.namespace } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  };
}
