// LoRA adapters as the engines take them: those named at launch in a
// deployment's backendArgs, the deployment's own `loras` as SGLang 0.4.6
// must get them (in argv, with the flags its check_server_args asserts), and
// how many vLLM takes. Clients pick an adapter by `model` on both engines;
// SGLang itself selects adapters by the body field `lora_path`, so the
// gateway needs to know SGLang's names. Pure.
import type { Deployment } from '../contract/deployment.js';
import { lastUse } from './argparse.js';
import { berthArgs, type BerthArg, type LaunchContext } from './berth-flags.js';
import { resolveRecipe, type ResolvedRecipe } from './catalogue.js';
import { composeArgv } from './compose.js';
import { PlanError } from './errors.js';
import { loraCompanions } from './sglang.js';

export interface StaticAdapter {
  name: string;
  path: string;
}

function valuesOf(args: readonly string[], flag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith(`${flag}=`)) out.push(a.slice(flag.length + 1));
    else if (a === flag) {
      // Greedy nargs: every following token that is not a flag.
      for (let j = i + 1; j < args.length && !args[j]!.startsWith('-'); j++) out.push(args[j]!);
    }
  }
  return out;
}

function parseAdapter(token: string): StaticAdapter | null {
  if (token.startsWith('{')) {
    try {
      const v = JSON.parse(token) as { name?: unknown; path?: unknown };
      return typeof v.name === 'string' && typeof v.path === 'string' ? { name: v.name, path: v.path } : null;
    } catch {
      return null;
    }
  }
  const eq = token.indexOf('=');
  // SGLang also accepts a bare path, named by itself.
  return eq === -1 ? { name: token, path: token } : { name: token.slice(0, eq), path: token.slice(eq + 1) };
}

/** vLLM `--lora-modules name=path|{json}`, SGLang `--lora-paths name=path|path`. */
export function staticAdapters(d: Pick<Deployment, 'backend' | 'backendArgs'>): StaticAdapter[] {
  const flag = d.backend === 'vllm' ? '--lora-modules' : '--lora-paths';
  return valuesOf(d.backendArgs, flag)
    .map(parseAdapter)
    .filter((a): a is StaticAdapter => a !== null);
}

/**
 * The deployment's `loras` as SGLang 0.4.6 takes them: `--lora-paths
 * name=path ...`, then the companion flags its release asserts alongside
 * (spec lora.requiredCompanionFlags: --disable-radix-cache, and
 * --disable-cuda-graph before 0.4.6.post2). The store_true companions come
 * last, so the greedy --lora-paths never ends Berth's part of the argv.
 * Empty for vLLM, which loads adapters at run time, and without adapters.
 */
export function launchLoraArgs(d: Pick<Deployment, 'backend' | 'loras'>, r: ResolvedRecipe): BerthArg[] {
  if (d.backend !== 'sglang' || d.loras.length === 0) return [];
  return [
    { text: '--lora-paths', source: 'recipe' },
    ...d.loras.map((l): BerthArg => ({ text: `${l.name}=${l.path}`, source: 'loras' })),
    ...loraCompanions(r.spec, r.recipeVersion).map((text): BerthArg => ({ text, source: 'recipe' })),
  ];
}

/**
 * The deployment's own argv (recipe flags + backendArgs) as the engine parses
 * it. No rule reads the model, names, host, port or GPUs: placeholders do.
 */
function parsedArgs(d: Deployment) {
  const resolved = resolveRecipe(d.backend, d.backendVersion);
  const ctx: LaunchContext = {
    modelId: 'model',
    servedName: ['model'],
    host: '127.0.0.1',
    port: resolved.spec.defaultPort,
    gpus: [],
    replicaGpus: 0,
    hasBackendArgs: d.backendArgs.length > 0,
  };
  const composed = composeArgv(resolved, berthArgs(resolved.recipe, ctx), d.backendArgs);
  // The argv is Berth's tokens (those the user did not replace), then backendArgs.
  return { resolved, parsed: composed.parsed, userFrom: composed.argv.length - d.backendArgs.length };
}

export interface RuntimeLoraCapacity {
  /** LoRA is on (--enable-lora, not turned off by --no-enable-lora). */
  enabled: boolean;
  /** vLLM's effective --max-loras. */
  maxLoras: number;
  /** Where that value comes from, for messages: `--max-loras 16, Berth's default`. */
  origin: string;
}

/**
 * How many adapters a vLLM deployment's engines take: the last --max-loras
 * in its argv (the deployment's backendArgs, else the recipe's default), else
 * argparse's default from the spec. Null for an engine without runtime
 * adapters (SGLang 0.4.6).
 */
export function runtimeLoraCapacity(d: Deployment): RuntimeLoraCapacity | null {
  if (d.backend !== 'vllm') return null;
  const { resolved, parsed, userFrom } = parsedArgs(d);
  const lora = lastUse(parsed, '--enable-lora');
  const max = lastUse(parsed, '--max-loras');
  const value = max ? max.converted[0] : resolved.spec.flags.find((f) => f.name === '--max-loras')?.default;
  const maxLoras = typeof value === 'number' ? value : 1;
  const from = !max ? `${d.backend}'s default` : max.index >= userFrom ? 'from backendArgs' : "Berth's default";
  return { enabled: lora !== null && !lora.negated, maxLoras, origin: `--max-loras ${maxLoras}, ${from}` };
}

/**
 * Why the deployment's `loras` cannot be served as given, naming the field,
 * or null. Checked whenever a deployment is created or changed, so a list
 * the engine would refuse (or silently lose) never gets stored.
 */
export function loraProblem(d: Deployment): PlanError | null {
  if (d.loras.length === 0) return null;
  const launched = staticAdapters(d).map((a) => a.name);
  const seen = new Set<string>();
  for (const [i, l] of d.loras.entries()) {
    const field = `loras[${i}].name`;
    if (seen.has(l.name)) return new PlanError('adapter_exists', field, `adapter ${l.name} is already in loras`);
    if (d.servedName.includes(l.name)) return new PlanError('adapter_exists', field, `adapter ${l.name} has the name of a served name of ${d.name}`);
    if (launched.includes(l.name)) return new PlanError('adapter_exists', field, `adapter ${l.name} is already named in backendArgs`);
    seen.add(l.name);
  }
  const { parsed } = parsedArgs(d);
  if (d.backend === 'sglang') {
    // Berth's --lora-paths would be replaced by the user's, adapters and all.
    if (parsed.options.has('--lora-paths')) {
      return new PlanError('adapters_twice', 'loras', 'backendArgs already passes --lora-paths: list the adapters in loras or in backendArgs, not both');
    }
    return null;
  }
  const capacity = runtimeLoraCapacity(d)!;
  if (!capacity.enabled) return new PlanError('lora_disabled', 'loras', 'LoRA is off for this deployment (--no-enable-lora in backendArgs)');
  const total = d.loras.length + launched.length;
  if (total > capacity.maxLoras) {
    const most = `${capacity.maxLoras} LoRA adapter${capacity.maxLoras === 1 ? '' : 's'}`;
    const message = `${d.name} serves at most ${most} (${capacity.origin}), so ${total} is too many: remove one, or pass a larger --max-loras in backendArgs`;
    return new PlanError('too_many_adapters', 'loras', message);
  }
  return null;
}
