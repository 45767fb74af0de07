// What the engine makes of its parsed argv: names it serves, where it binds, what it enables.
// Defaults come from the spec (vLLM binds all interfaces by default, SGLang loopback).
import type { Parser } from './argparse.js';
import type { Knobs } from './knobs.js';
import { PyFloat, PyObject } from './pyrepr.js';
import type { EngineName, EngineSpec } from './shared.js';
import { loraModules } from './vllm-argv.js';

export interface LoraAdapter {
  name: string;
  path: string;
  base: string | null;
}

export interface EngineConfig {
  engine: EngineName;
  version: string;
  model: string;
  /** Names accepted in `model` (vLLM) / listed by /v1/models; the first labels the metrics. */
  servedNames: string[];
  /** Address given to listen(): vLLM's default host None binds '' (all IPv4 interfaces). */
  bindHost: string;
  /** Address the start-up log prints ('0.0.0.0' for vLLM's default). */
  shownHost: string;
  port: number;
  maxModelLen: number;
  apiKey: string | null;
  metricsEnabled: boolean;
  staticLoras: LoraAdapter[];
  /** vLLM: /v1/load_lora_adapter and /v1/unload_lora_adapter exist (env, read once at start). */
  runtimeLora: boolean;
  /** vLLM --task: 'auto' serves everything in the fake; 'embed' only embeddings; others only generation. */
  task: string;
  accessLog: boolean;
  logRequests: boolean;
  knobs: Knobs;
  values: Map<string, unknown>;
  parser: Parser;
}

/** vLLM reads VLLM_ALLOW_RUNTIME_LORA_UPDATING as `.strip().lower() in ('1', 'true')`. */
const envTrue = (v: string | undefined) => ['1', 'true'].includes((v ?? '').trim().toLowerCase());

export function configure(
  engine: EngineName,
  version: string,
  spec: EngineSpec,
  parser: Parser,
  values: Map<string, unknown>,
  knobs: Knobs,
): EngineConfig {
  const get = <T>(dest: string, fallback: T): T => (values.has(dest) ? (values.get(dest) as T) : fallback);
  const vllm = engine === 'vllm';
  const model = vllm ? get('model', 'facebook/opt-125m') : get('model_path', '');
  const served = vllm ? get<string[] | null>('served_model_name', null) : [get<string | null>('served_model_name', null)];
  const servedNames = (served ?? []).filter((s): s is string => !!s);
  if (servedNames.length === 0) servedNames.push(model);
  const host = get<string | null>('host', spec.defaultHost);
  return {
    engine,
    version,
    model,
    servedNames,
    bindHost: host || '0.0.0.0',
    shownHost: host || '0.0.0.0',
    port: get('port', spec.defaultPort),
    maxModelLen: get<number | null>(vllm ? 'max_model_len' : 'context_length', null) ?? 32768,
    apiKey: get<string | null>('api_key', null) ?? (vllm ? process.env.VLLM_API_KEY ?? null : null),
    metricsEnabled: vllm || get('enable_metrics', false),
    staticLoras: vllm ? loraModules(get<string[] | null>('lora_modules', null) ?? []) : [],
    runtimeLora: vllm && envTrue(process.env.VLLM_ALLOW_RUNTIME_LORA_UPDATING),
    task: vllm ? get('task', 'auto') : get('is_embedding', false) ? 'embed' : 'auto',
    accessLog: !get('disable_uvicorn_access_log', false),
    logRequests: !get('disable_log_requests', false),
    knobs,
    values,
    parser,
  };
}

/**
 * The parsed values as Python objects, in registration order, for the lines that print them
 * (vLLM `non-default args: {...}`, SGLang `server_args=ServerArgs(...)`): only the values
 * given on the command line that differ from the default, as vLLM's log_non_default_args does.
 */
export function pythonValues(cfg: EngineConfig): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const a of cfg.parser.actions) {
    if (!cfg.values.has(a.dest) || !a.flag) continue;
    const v = cfg.values.get(a.dest);
    if (JSON.stringify(v) === JSON.stringify(a.flag.default)) continue;
    const float = (x: unknown) => (typeof x === 'number' && a.type?.includes('float') ? new PyFloat(x) : x);
    let py: unknown = Array.isArray(v) ? v.map(float) : float(v);
    if (a.dest === 'lora_modules') {
      py = loraModules(v as string[]).map(
        (l) => new PyObject('LoRAModulePath', { name: l.name, path: l.path, base_model_name: l.base }),
      );
    }
    if (a.dest === 'lora_paths') {
      py = Object.fromEntries((v as string[]).map((s) => (s.includes('=') ? [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)] : [s, s])));
    }
    out.push([a.dest, py]);
  }
  return out;
}
