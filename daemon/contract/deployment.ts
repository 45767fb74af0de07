// The deployment spec: what a user asks Berth to run. Shared by the API, the
// CLI, the state file and (later) the desktop app, so every field is validated
// here once and every error names its field.
import { z } from 'zod';

/** RFC 1123 DNS label: it becomes part of URLs, log file names and, later, k8s names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

// Hugging Face repo ids are `name` or `owner/name` (letters, digits, `-_.`),
// at most 96 characters, no `--` or `..`. Anything else must be a local path.
const HF_REPO_ID = /^(?!.*(--|\.\.))[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
const LOCAL_PATH = /^(\/|\.\/|\.\.\/|~\/)/;
// A Docker image reference: [registry[:port]/]path[:tag][@sha256:digest], as
// the distribution reference grammar allows (lower-case path components).
const IMAGE_PATH = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_REF = new RegExp(
  `^(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?${IMAGE_PATH}(?:/${IMAGE_PATH})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);

export const BACKENDS = ['vllm', 'sglang'] as const;
export type Backend = (typeof BACKENDS)[number];

/**
 * How a replica runs: `process` from the engine's Python on the host,
 * `container` in the engine's official image, `auto` a container when the
 * engine's Python lacks the engine and Docker can reach the GPUs, else a process.
 */
export const DEPLOYMENT_MODES = ['process', 'container', 'auto'] as const;
export type DeploymentMode = (typeof DEPLOYMENT_MODES)[number];

export const DEFAULT_SCALE = { max: 5, min: 1, idleTime: 60, rpsValue: 100, inFlightValue: null } as const;

const modelId = z
  .string()
  .min(1)
  .refine((v) => LOCAL_PATH.test(v) || (v.length <= 96 && HF_REPO_ID.test(v)), {
    message: 'expected a Hugging Face repo id (owner/name) or a local path starting with /, ./, ../ or ~/',
  });

const servedName = z
  .string()
  .min(1)
  .max(256)
  .refine((v) => !/\s/.test(v), { message: 'expected a name without whitespace' });

const gpuSchema = z
  .object({
    count: z.number().int().min(0).max(64).default(1),
    // Either a k8s-style resource name (`nvidia.com/gpu-l40s`) or a GPU name fragment (`L40S`).
    gpuType: z.string().min(1).optional(),
  })
  .strict();

const resourceSchema = z
  .object({
    workers: z.number().int().min(1).max(64).default(1),
    gpu: gpuSchema.default({ count: 1 }),
    cpu: z.union([z.string().min(1), z.number().positive()]).optional(),
    mem: z.string().min(1).optional(),
  })
  .strict();

const ttftSchema = z
  .object({
    upper: z.number().positive(),
    lower: z.number().min(0),
    windowSec: z.number().int().min(1).max(3600).default(60),
  })
  .strict()
  .refine((t) => t.lower < t.upper, { message: 'scale.ttft.lower must be below scale.ttft.upper', path: ['lower'] });

const scaleSchema = z
  .object({
    min: z.number().int().min(0).default(DEFAULT_SCALE.min),
    max: z.number().int().min(1).default(DEFAULT_SCALE.max),
    /** Seconds without a request before replicas above `min` stop. */
    idleTime: z.number().int().min(0).default(DEFAULT_SCALE.idleTime),
    rpsValue: z.number().positive().default(DEFAULT_SCALE.rpsValue),
    inFlightValue: z.number().int().min(1).nullable().default(DEFAULT_SCALE.inFlightValue),
    /**
     * Scale on measured time to first token instead of rps/in-flight targets
     * (ScaleGenAI's `ttft_latency_sec` strategy): above `upper` seconds one
     * more replica, below `lower` one fewer, averaged over `windowSec`.
     */
    ttft: ttftSchema.optional(),
  })
  .strict()
  .refine((s) => s.min <= s.max, { message: 'scale.min must not exceed scale.max', path: ['min'] });

/**
 * Where a deployment came from when a serving platform's request or manifest
 * created it (Alaya, ScaleGenAI, llmaz, KServe, Knative). Kept so the
 * platform's own API can answer by its id, so an export goes back the way it
 * came, and so every field that has no meaning on one machine is reported
 * back instead of dropped.
 */
export const PLATFORMS = ['alaya', 'scalegenai', 'llmaz', 'kserve', 'knative'] as const;
export type Platform = (typeof PLATFORMS)[number];

const ignoredFieldSchema = z
  .object({
    /** The field's path in the platform's body or manifest, e.g. `cloud_providers` or `spec.predictor.model.storage.key`. */
    field: z.string().min(1),
    /** Why Berth does not act on it on one machine. */
    reason: z.string().min(1),
  })
  .strict();

const sourceSchema = z
  .object({
    platform: z.enum(PLATFORMS),
    /** The platform's id for this deployment (Alaya serviceId, ScaleGenAI inf_id, manifest `kind/name`). */
    id: z.string().min(1).max(256).optional(),
    /** Alaya's namespace or a manifest's metadata.namespace. */
    namespace: z.string().min(1).max(253).optional(),
    /** Platform-only fields, kept as given so GET answers and exports can return them. */
    kept: z.record(z.string(), z.unknown()).default({}),
    /** Every field Berth does not act on, with the reason. */
    ignored: z.array(ignoredFieldSchema).default([]),
  })
  .strict();

// Environment variable names as POSIX shells accept them.
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');

/**
 * A LoRA adapter served on top of the deployment's model, selected by `model`
 * at /v1. The name ends up in argv (SGLang's `--lora-paths name=path`), so it
 * cannot hold whitespace or `=`, nor start with `-`.
 */
export const loraSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(256)
      .refine((v) => !/[\s=]/.test(v) && !v.startsWith('-'), { message: 'expected a name without whitespace or "=", not starting with "-"' }),
    // The engine reads the path, not the caller: an absolute path on this
    // machine (the CLI resolves relative ones) or a Hugging Face repo id.
    path: z
      .string()
      .min(1)
      .max(4096)
      .refine((v) => v.startsWith('/') || (v.length <= 96 && v.includes('/') && HF_REPO_ID.test(v)), {
        message: 'expected an absolute path or a Hugging Face repo id (owner/name)',
      }),
  })
  .strict();

export type Lora = z.output<typeof loraSchema>;

export const deploymentInputSchema = z
  .object({
    name: z.string().regex(DNS_LABEL, 'expected a DNS label: lower-case letters, digits and -, at most 63'),
    servedName: z.array(servedName).min(1).optional(),
    modelId,
    backend: z.enum(BACKENDS),
    backendVersion: z.string().regex(/^\d+(\.\d+)*([.-]?(post|rc|dev)\d*)*$/, 'expected a version like 0.9.0.1').optional(),
    backendArgs: z.array(z.string()).default([]),
    mode: z.enum(DEPLOYMENT_MODES).default('process'),
    resource: resourceSchema.default({ workers: 1, gpu: { count: 1 } }),
    scale: scaleSchema.default({ ...DEFAULT_SCALE }),
    env: z.record(envName, z.string()).default({}),
    /** Served names to try when this deployment fails (used by the gateway). */
    fallback: z.array(servedName).default([]),
    /** Set when a serving platform's API or manifest created this deployment. */
    source: sourceSchema.optional(),
    /** LoRA adapters: vLLM loads them into running engines, SGLang 0.4.6 takes them at launch. */
    loras: z.array(loraSchema).max(256).default([]),
    /**
     * Environment the engine gets but nobody reads back (HF_TOKEN): kept in
     * the state file (0600), never in argv, logs, plans or API answers, where
     * each value reads REDACTED.
     */
    secretEnv: z.record(envName, z.string()).optional(),
    /**
     * Container mode: the image to run instead of the catalogue's image for
     * the backend and version (resources/containers/images.json). It must keep
     * the official image's entrypoint convention (see that catalogue).
     */
    image: z
      .string()
      .max(512)
      .regex(IMAGE_REF, 'expected an image reference like vllm/vllm-openai:v0.9.0.1 (registry/name:tag or @sha256:digest)')
      .optional(),
  })
  .strict();

export type DeploymentInput = z.input<typeof deploymentInputSchema>;

/** A validated deployment with every default filled in (servedName, backendVersion included). */
export type Deployment = Omit<z.output<typeof deploymentInputSchema>, 'servedName' | 'backendVersion'> & {
  servedName: string[];
  backendVersion: string;
};

/** What a secret's value reads as in every answer; sent back in an update, it keeps the stored value. */
export const REDACTED = '<redacted>';

/** The deployment as answers show it: every secretEnv value replaced by REDACTED. */
export function redactSecrets<D extends { secretEnv?: Record<string, string> }>(d: D): D {
  if (!d.secretEnv || Object.keys(d.secretEnv).length === 0) return d;
  return { ...d, secretEnv: Object.fromEntries(Object.keys(d.secretEnv).map((k) => [k, REDACTED])) };
}

/** GPUs one replica needs: `workers × gpu.count` (workers are tensor-parallel ranks). */
export function gpusPerReplica(d: Pick<Deployment, 'resource'>): number {
  return d.resource.workers * d.resource.gpu.count;
}
