// ScaleGenAI's inference API: its create body -> a Berth deployment. Pure.
//
// What acts on this machine: the model, the engine and its mode (llm or
// embedding), the chat template, the Hugging Face token (a secret: the
// engine's HF_TOKEN, never in argv or an answer), GPUs per replica and their
// type, the worker bounds, scale to zero and its idle time, the
// ttft_latency_sec strategy, LoRA adapters and the context length. What
// cannot (clouds, spot, prices, the controller, the gateway) is kept and
// reported back field by field as not applicable on one machine.
//
// The published examples disagree with the field list and with each other
// (use_other_gpus / use_same_gpus_when_scaling, max_throughput_rate /
// min_throughput_rate): both spellings are accepted.
import { join } from 'node:path';
import { z } from 'zod';
import { BACKENDS, DEFAULT_SCALE, DNS_LABEL, type Backend, type DeploymentInput } from '../../contract/deployment.js';
import { invalid, parseBody, type IgnoredField, type RequestFile, type Translation } from '../common.js';

export const TTFT_STRATEGY = 'ttft_latency_sec';
/** vLLM is what ScaleGenAI's examples run; its template body names no engine. */
export const DEFAULT_ENGINE: Backend = 'vllm';
const DEFAULT_WINDOW_S = 60;

const num = z.number();
const bool = z.boolean();
const opt = <T extends z.ZodType>(t: T) => t.nullable().optional();

const loraSchema = z.union([
  z.string().min(1),
  z.object({ name: z.string().min(1), path: z.string().min(1) }).strict(),
]);

const workerSchema = z
  .object({
    min_workers: opt(num.int().min(0)),
    max_workers: opt(num.int().min(1)),
    initial_workers_gpu: opt(z.string().min(1)),
    initial_workers_gpu_num: opt(num.int().min(0).max(64)),
    use_other_gpus: opt(bool),
    use_same_gpus_when_scaling: opt(bool),
    expand_gpu_types: opt(bool),
    instance_types: opt(z.array(z.string())),
    use_on_prem: opt(bool),
    use_cloudburst: opt(bool),
    on_prem_node_ids: opt(z.array(z.string())),
  })
  .strict();

const autoscalingSchema = z
  .object({
    scale_to_zero: opt(bool),
    scale_to_zero_timeout_sec: opt(num.int().min(0)),
    autoscaling_strategy: opt(z.string().min(1)),
    upper_allowed_latency_sec: opt(num.positive()),
    lower_allowed_latency_sec: opt(num.min(0)),
    time_window_sec: opt(num.int().min(1).max(3600)),
    scale_up_time_window_sec: opt(num.int().min(1).max(3600)),
    scale_down_time_window_sec: opt(num.int().min(1).max(3600)),
    scaling_up_timeout_sec: opt(num.min(0)),
    scaling_down_timeout_sec: opt(num.min(0)),
    upper_allowed_threshold: opt(num),
    lower_allowed_threshold: opt(num),
    enable_speedup_shared: opt(bool),
    enable_fast_autoscaling: opt(bool),
  })
  .strict();

const bodySchema = z
  .object({
    name: z.string().min(1),
    model: opt(z.string().min(1)),
    base_model: opt(z.string().min(1)),
    inf_type: opt(z.enum(['llm', 'embedding'])),
    hf_token: opt(z.string()),
    engine: opt(z.enum(BACKENDS)),
    custom_chat_template: opt(z.string()),
    allow_spot_instances: opt(bool),
    logs_store: opt(z.string()),
    cloud_providers: opt(z.array(z.unknown())),
    gateway_config: opt(z.record(z.string(), z.unknown())),
    initial_worker_config: opt(workerSchema),
    autoscaling_config: opt(autoscalingSchema),
    max_price_per_hour: opt(num),
    min_throughput_rate: opt(num),
    max_throughput_rate: opt(num),
    controller_cloud_config: opt(z.record(z.string(), z.unknown())),
    controller_on_prem_config: opt(z.record(z.string(), z.unknown())),
    llm_loras: opt(z.array(loraSchema)),
    max_model_len: opt(num.int().min(1)),
    throughput_optimized: opt(bool),
  })
  .strict();

type Body = z.output<typeof bodySchema>;

const ONE_MACHINE = 'not applicable on one machine';
/** Cloud-only fields and why each has no meaning here. */
const CLOUD_ONLY: Readonly<Record<string, string>> = {
  allow_spot_instances: `spot capacity is a cloud's; ${ONE_MACHINE}`,
  logs_store: 'Berth keeps engine logs in its state dir (logs/<deployment>/), readable at /api/v1/deployments/<name>/logs',
  cloud_providers: `cloud providers and regions are ${ONE_MACHINE}`,
  gateway_config: 'Berth is the gateway (/v1 on this daemon)',
  max_price_per_hour: `price caps are ${ONE_MACHINE}`,
  min_throughput_rate: `throughput targets for cloud placement are ${ONE_MACHINE}`,
  max_throughput_rate: `throughput targets for cloud placement are ${ONE_MACHINE}`,
  controller_cloud_config: `the cloud controller is ${ONE_MACHINE}; the daemon is the controller`,
  controller_on_prem_config: `the on-prem controller is ${ONE_MACHINE}; the daemon is the controller`,
  throughput_optimized: 'a placement hint for ScaleGenAI\'s scheduler; tune the engine with a Berth deployment\'s backendArgs',
  'initial_worker_config.instance_types': `instance types are ${ONE_MACHINE}`,
  'initial_worker_config.use_on_prem': `on-prem nodes are ${ONE_MACHINE}`,
  'initial_worker_config.use_cloudburst': `cloud bursting is ${ONE_MACHINE}`,
  'initial_worker_config.on_prem_node_ids': `node ids are ${ONE_MACHINE}`,
  'autoscaling_config.scaling_up_timeout_sec': 'a cloud worker\'s provisioning timeout; a replica\'s start here is bounded by the daemon\'s startTimeoutMs',
  'autoscaling_config.scaling_down_timeout_sec': 'a cloud worker\'s teardown timeout; a replica here stops within the daemon\'s stopGraceMs',
  'autoscaling_config.enable_speedup_shared': `shared-infrastructure speedup is ${ONE_MACHINE}`,
  'autoscaling_config.enable_fast_autoscaling': 'Berth decides every scaleIntervalMs already',
};

const present = (v: unknown) => v !== undefined && v !== null;

function cloudOnly(b: Body): IgnoredField[] {
  const out: IgnoredField[] = [];
  for (const [field, reason] of Object.entries(CLOUD_ONLY)) {
    const [a, c] = field.split('.') as [string, string | undefined];
    const parent = (b as Record<string, unknown>)[a];
    const v = c === undefined ? parent : present(parent) ? (parent as Record<string, unknown>)[c] : undefined;
    if (present(v)) out.push({ field, reason });
  }
  return out;
}

/** An llm_loras item -> {name, path}: `{name, path}`, `"name=path"`, or a path named by its last segment. */
export function loraOf(item: z.output<typeof loraSchema>, index: number): { name: string; path: string } {
  if (typeof item !== 'string') return item;
  const eq = item.indexOf('=');
  if (eq > 0) return { name: item.slice(0, eq), path: item.slice(eq + 1) };
  const name = item.replace(/\/+$/, '').split('/').pop();
  if (!name) throw invalid(`llm_loras[${index}]`, 'expected {name, path}, "name=path" or a path');
  return { name, path: item };
}

/** Engine flags for the body's mode, adapters and context length, each with the field it comes from. */
function engineArgs(b: Body, engine: Backend, templatePath: string | null): { args: string[]; origin: string[] } {
  const args: string[] = [];
  const origin: string[] = [];
  const add = (field: string, ...tokens: string[]) => {
    args.push(...tokens);
    for (const _ of tokens) origin.push(field);
  };
  const loras = (b.llm_loras ?? []).map(loraOf);
  if (b.inf_type === 'embedding') {
    if (engine === 'vllm') {
      add('inf_type', '--task', 'embed');
      // Berth's vLLM recipe enables LoRA; most embedding models (BERT and
      // friends) do not support it and vLLM refuses to load them with it on.
      if (loras.length === 0) add('inf_type', '--no-enable-lora');
    } else add('inf_type', '--is-embedding');
  }
  if (present(b.max_model_len)) add('max_model_len', engine === 'vllm' ? '--max-model-len' : '--context-length', String(b.max_model_len));
  if (templatePath) add('custom_chat_template', '--chat-template', templatePath);
  return { args, origin };
}

/** Where a deployment's chat template lives: one file per inf_id, so a refused create never touches another's. */
export function chatTemplatePath(home: string, infId: string): string {
  return join(home, 'chat-templates', `${infId}.jinja`);
}

function scaleOf(b: Body, ignored: IgnoredField[]) {
  const w = b.initial_worker_config ?? {};
  const a = b.autoscaling_config ?? {};
  const toZero = a.scale_to_zero === true;
  // Berth's scale.min is the floor the idle timer keeps; with scale_to_zero
  // that floor is 0 and the first request starts a replica.
  const min = toZero ? 0 : Math.max(w.min_workers ?? 1, 1);
  if (toZero && (w.min_workers ?? 0) > 0) {
    ignored.push({ field: 'initial_worker_config.min_workers', reason: 'with scale_to_zero Berth deploys asleep: the first request starts a replica, the load adds more' });
  }
  const max = w.max_workers ?? Math.max(DEFAULT_SCALE.max, min);
  if (max < min) throw invalid('initial_worker_config.max_workers', `must be at least min_workers (${min})`);
  let idleTime: number = DEFAULT_SCALE.idleTime;
  if (present(a.scale_to_zero_timeout_sec)) {
    if (toZero) idleTime = a.scale_to_zero_timeout_sec!;
    else ignored.push({ field: 'autoscaling_config.scale_to_zero_timeout_sec', reason: 'scale_to_zero is not true: replicas never go to zero' });
  }
  const strategy = a.autoscaling_strategy ?? (present(a.upper_allowed_latency_sec) || present(a.lower_allowed_latency_sec) ? TTFT_STRATEGY : null);
  if (strategy !== null && strategy !== TTFT_STRATEGY) {
    throw invalid('autoscaling_config.autoscaling_strategy', `Berth scales on "${TTFT_STRATEGY}" (time to first token), or on requests per second when the strategy is absent`);
  }
  let ttft: { upper: number; lower: number; windowSec: number } | undefined;
  if (strategy === TTFT_STRATEGY) {
    if (!present(a.upper_allowed_latency_sec)) throw invalid('autoscaling_config.upper_allowed_latency_sec', `required by the ${TTFT_STRATEGY} strategy`);
    const upper = a.upper_allowed_latency_sec!;
    const lower = a.lower_allowed_latency_sec ?? 0;
    if (lower >= upper) throw invalid('autoscaling_config.lower_allowed_latency_sec', `must be below upper_allowed_latency_sec (${upper})`);
    const windowSec = a.time_window_sec ?? a.scale_up_time_window_sec ?? a.scale_down_time_window_sec ?? DEFAULT_WINDOW_S;
    for (const f of ['time_window_sec', 'scale_up_time_window_sec', 'scale_down_time_window_sec'] as const) {
      if (present(a[f]) && a[f] !== windowSec) {
        ignored.push({ field: `autoscaling_config.${f}`, reason: `Berth averages time to first token over one window for both directions (${windowSec} s)` });
      }
    }
    ttft = { upper, lower, windowSec };
    for (const f of ['upper_allowed_threshold', 'lower_allowed_threshold'] as const) {
      if (present(a[f])) ignored.push({ field: `autoscaling_config.${f}`, reason: `a threshold of another strategy; ${TTFT_STRATEGY} uses the latency bounds` });
    }
  } else {
    for (const f of ['upper_allowed_threshold', 'lower_allowed_threshold', 'time_window_sec', 'scale_up_time_window_sec', 'scale_down_time_window_sec'] as const) {
      if (present(a[f])) ignored.push({ field: `autoscaling_config.${f}`, reason: `used by the ${TTFT_STRATEGY} strategy only; without it Berth scales on requests per second` });
    }
  }
  return { ...DEFAULT_SCALE, min, max, idleTime, ...(ttft ? { ttft } : {}) };
}

function resourceOf(b: Body, ignored: IgnoredField[]) {
  const w = b.initial_worker_config ?? {};
  const count = w.initial_workers_gpu_num ?? 1;
  const gpuType = w.initial_workers_gpu ?? undefined;
  // use_other_gpus / expand_gpu_types (and use_same_gpus_when_scaling: false)
  // let any GPU type serve; then the named type is only where the cloud would start.
  const otherTypes = w.use_other_gpus ?? w.expand_gpu_types ?? (present(w.use_same_gpus_when_scaling) ? !w.use_same_gpus_when_scaling : false);
  let type: string | undefined = gpuType;
  if (gpuType && count === 0) {
    ignored.push({ field: 'initial_worker_config.initial_workers_gpu', reason: 'initial_workers_gpu_num is 0: the engine runs without a GPU' });
    type = undefined;
  } else if (gpuType && otherTypes) {
    const by = present(w.use_other_gpus) ? 'use_other_gpus is true' : present(w.expand_gpu_types) ? 'expand_gpu_types is true' : 'use_same_gpus_when_scaling is false';
    ignored.push({ field: 'initial_worker_config.initial_workers_gpu', reason: `${by}: any GPU type on this machine will do` });
    type = undefined;
  }
  return { workers: 1, gpu: { count, ...(type ? { gpuType: type } : {}) } };
}

/** Berth's field names -> the body's, for errors the spec check or the supervisor raise. */
function fieldMapper(origin: readonly string[]): (f: string) => string {
  const fixed: Record<string, string> = {
    name: 'name',
    servedName: 'name',
    modelId: 'model',
    backend: 'engine',
    backendVersion: 'engine',
    'resource.gpu.count': 'initial_worker_config.initial_workers_gpu_num',
    'resource.gpu.gpuType': 'initial_worker_config.initial_workers_gpu',
    'scale.min': 'initial_worker_config.min_workers',
    'scale.max': 'initial_worker_config.max_workers',
    'scale.idleTime': 'autoscaling_config.scale_to_zero_timeout_sec',
    'scale.ttft.upper': 'autoscaling_config.upper_allowed_latency_sec',
    'scale.ttft.lower': 'autoscaling_config.lower_allowed_latency_sec',
    'scale.ttft.windowSec': 'autoscaling_config.time_window_sec',
    'secretEnv.HF_TOKEN': 'hf_token',
  };
  return (f) => {
    const lora = /^loras\[(\d+)\]/.exec(f);
    if (lora) return `llm_loras[${lora[1]}]`;
    const arg = /^backendArgs\[(\d+)\]$/.exec(f);
    if (arg) return origin[Number(arg[1])] ?? 'body';
    if (f.startsWith('servedName')) return 'name';
    return fixed[f] ?? f;
  };
}

/**
 * The create body -> the Berth deployment it becomes, its chat template file
 * (under `home`), and `source` (inf_id, the body as given without hf_token,
 * every field that does not apply). Throws a 400 naming ScaleGenAI's field.
 */
export function translateScaleGenAi(body: unknown, opts: { infId: string; home: string }): Translation {
  const b = parseBody(bodySchema, body, 'the ScaleGenAI create body');
  if (!DNS_LABEL.test(b.name)) throw invalid('name', 'expected a DNS label: lower-case letters, digits and -, at most 63 (it names the deployment at /v1)');
  const model = b.model ?? b.base_model;
  if (!model) throw invalid('model', 'required (or base_model)');
  const engine = b.engine ?? DEFAULT_ENGINE;
  const ignored: IgnoredField[] = cloudOnly(b);
  if (present(b.base_model) && present(b.model) && b.base_model !== b.model) {
    ignored.push({ field: 'base_model', reason: `Berth serves model ("${b.model}"); base_model is kept for the record` });
  }
  const files: RequestFile[] = [];
  let templatePath: string | null = null;
  if (present(b.custom_chat_template) && b.custom_chat_template !== '') {
    templatePath = chatTemplatePath(opts.home, opts.infId);
    files.push({ path: templatePath, content: b.custom_chat_template! });
  }
  const { args, origin } = engineArgs(b, engine, templatePath);
  const scale = scaleOf(b, ignored);
  const resource = resourceOf(b, ignored);
  const { hf_token: token, ...kept } = body as Record<string, unknown>;
  const input: DeploymentInput = {
    name: b.name,
    // The deployment's name, and the model's as ScaleGenAI clients send it.
    servedName: model === b.name || /\s/.test(model) ? [b.name] : [b.name, model],
    modelId: model,
    backend: engine,
    backendArgs: args,
    resource,
    scale,
    // Berth's own adapters: vLLM loads them at run time (and `berth lora`
    // manages them after), SGLang 0.4.6 gets them at launch.
    loras: (b.llm_loras ?? []).map(loraOf),
    ...(typeof token === 'string' && token !== '' ? { secretEnv: { HF_TOKEN: token } } : {}),
    source: { platform: 'scalegenai', id: opts.infId, kept, ignored },
  };
  return { input, files, fieldOf: fieldMapper(origin) };
}
