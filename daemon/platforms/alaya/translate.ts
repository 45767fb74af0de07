// Alaya serverless inference, "Deploy Service (QuickStart)": its POST body
// -> a Berth deployment. Pure. Alaya's deployment is already Berth's shape
// (servedName, modelId, backend, backendVersion, backendArgs, resource,
// scale), so the fields map one to one and the engine defaults Alaya
// documents (vLLM 0.9.0.1: --enable-lora, VLLM_ALLOW_RUNTIME_LORA_UPDATING,
// --max-loras 16 --max-lora-rank 16 without backendArgs; SGLang 0.4.6:
// --tp workers x gpu.count without backendArgs) are the recipes' own.
//
// Names: a namespace scopes a service name on Alaya, and Berth has one flat
// namespace of DNS labels. A service in `default` keeps its name; in any
// other namespace it becomes `<name>-<namespace>` (`chat` in `team-a` is
// `chat-team-a` at /v1). Two services that land on the same Berth name are a
// 409, never a silent replacement.
import { z } from 'zod';
import { BACKENDS, DEFAULT_SCALE, DNS_LABEL, type DeploymentInput } from '../../contract/deployment.js';
import type { IgnoredField, Translation } from '../common.js';
import { invalid, parseBody } from '../common.js';

export const DEFAULT_NAMESPACE = 'default';

const QUICKSTART_MIN =
  'QuickStart services never scale below one instance (its documentation: 不支持将实例数量缩减至零); use scale.min 1 or more, or deploy through /api/v1/deployments with scale.min 0 to sleep when idle';

const scaleSchema = z
  .object({
    max: z.number().int().min(1).optional(),
    min: z.number().int().optional(),
    idleTime: z.number().int().min(0).optional(),
    rpsValue: z.number().positive().optional(),
    inFlightValue: z.number().int().min(1).nullable().optional(),
  })
  .strict();

const bodySchema = z
  .object({
    vksId: z.string().min(1),
    namespace: z.string().min(1),
    name: z.string().min(1),
    servedName: z.array(z.string()).min(1),
    modelId: z.string().min(1),
    backend: z.enum(BACKENDS),
    backendVersion: z.string().min(1),
    backendArgs: z.array(z.string()),
    resource: z
      .object({
        workers: z.number().int().min(1).optional(),
        cpu: z.union([z.number().positive(), z.string().min(1)]).optional(),
        gpu: z.object({ count: z.number().int().min(0).optional(), gpuType: z.string().min(1).optional() }).strict().optional(),
        mem: z.union([z.number().positive(), z.string().min(1)]).optional(),
      })
      .strict(),
    scale: scaleSchema.nullable().optional(),
  })
  .strict();

export type AlayaBody = z.input<typeof bodySchema>;

/** The Berth name of a service: scoped by its namespace unless that is `default`. */
export function berthName(name: string, namespace: string): string {
  return namespace === DEFAULT_NAMESPACE ? name : `${name}-${namespace}`;
}

/**
 * The QuickStart body -> the Berth deployment it becomes, with the service's
 * id, namespace and vksId in `source`. Throws a 400 naming Alaya's field.
 */
export function translateAlaya(body: unknown, serviceId: string): Translation {
  const b = parseBody(bodySchema, body, 'the QuickStart deployment body');
  if (!DNS_LABEL.test(b.namespace)) throw invalid('namespace', 'expected a DNS label: lower-case letters, digits and -, at most 63');
  if (!DNS_LABEL.test(b.name)) throw invalid('name', 'expected a DNS label: lower-case letters, digits and -, at most 63');
  const name = berthName(b.name, b.namespace);
  if (!DNS_LABEL.test(name)) throw invalid('name', `"${b.name}" in namespace "${b.namespace}" is served as "${name}", longer than 63 characters`);
  if (b.scale?.min !== undefined && b.scale.min < 1) throw invalid('scale.min', QUICKSTART_MIN);

  const ignored: IgnoredField[] = [{ field: 'vksId', reason: 'a VKS cluster id; Berth runs on this machine only' }];
  const kept: Record<string, unknown> = { vksId: b.vksId, name: b.name };
  const { cpu, mem } = b.resource;
  if (cpu !== undefined || mem !== undefined) {
    kept.resource = { ...(cpu !== undefined ? { cpu } : {}), ...(mem !== undefined ? { mem } : {}) };
    const reason = 'Berth runs the engine as a process of this machine and does not cap its CPU or memory';
    if (cpu !== undefined) ignored.push({ field: 'resource.cpu', reason });
    if (mem !== undefined) ignored.push({ field: 'resource.mem', reason });
  }
  const scale = { ...DEFAULT_SCALE, ...Object.fromEntries(Object.entries(b.scale ?? {}).filter(([, v]) => v !== undefined)) };
  const input: DeploymentInput = {
    name,
    servedName: b.servedName,
    modelId: b.modelId,
    backend: b.backend,
    backendVersion: b.backendVersion,
    backendArgs: b.backendArgs,
    resource: {
      workers: b.resource.workers ?? 1,
      gpu: { count: b.resource.gpu?.count ?? 1, ...(b.resource.gpu?.gpuType ? { gpuType: b.resource.gpu.gpuType } : {}) },
    },
    scale,
    source: { platform: 'alaya', id: serviceId, namespace: b.namespace, kept, ignored },
  };
  // Berth's own field names are Alaya's, but for the scoped name.
  return { input, files: [], fieldOf: (f) => f };
}
