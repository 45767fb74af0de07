// Deployment + allocation -> LaunchPlan: the command line, environment and
// readiness signals of one replica. Pure: no process is started and nothing is
// read but the bundled engine resources.
//
// Where things come from:
//   which flags and env Berth adds      resources/engines/catalogue.json (berth-flags.ts orders them)
//   what a flag accepts                 resources/engines/<engine>-<version>.json (argparse.ts checks)
//   engine rules beyond argparse        vllm.ts, sglang.ts
import type { LaunchPlan } from '../contract/api.js';
import { type Backend, type Deployment, gpusPerReplica, REDACTED } from '../contract/deployment.js';
import { type OptionUse, type ParsedArgv, lastUse } from './argparse.js';
import { type LaunchContext, berthArgs } from './berth-flags.js';
import { type ResolvedRecipe, resolveRecipe } from './catalogue.js';
import { composeArgv } from './compose.js';
import { engineParser } from './engine-parser.js';
import { launchLoraArgs } from './lora.js';

export { PlanError } from './errors.js';

/** Engines listen on loopback only; the gateway is the one public door. */
export const DEFAULT_ENGINE_HOST = '127.0.0.1';

export interface PlanInput {
  deployment: Deployment;
  /** GPU indices allocated to this replica; empty for none. */
  gpus: number[];
  port: number;
  /** The Python that has the engine installed. */
  interpreter: string;
  host?: string;
}

/** The use the engine keeps for the recipe's `optionString`, in whatever spelling the user chose. */
function effective(r: ResolvedRecipe, parsed: ParsedArgv, optionString: string): OptionUse | null {
  const flag = engineParser(r.spec, r.recipe.entrypoint, r.recipeVersion).optionStrings.get(optionString)?.flag;
  return flag ? lastUse(parsed, flag) : null;
}

/** Throws PlanError (400) when the engine would refuse the deployment's backendArgs or version. */
export function buildPlan(input: PlanInput): LaunchPlan {
  const { deployment: d, gpus } = input;
  const resolved = resolveRecipe(d.backend, d.backendVersion);
  const { recipe } = resolved;
  const ctx: LaunchContext = {
    modelId: d.modelId,
    servedName: d.servedName,
    host: input.host ?? DEFAULT_ENGINE_HOST,
    port: input.port,
    gpus,
    replicaGpus: gpusPerReplica(d),
    hasBackendArgs: d.backendArgs.length > 0,
  };
  const composed = composeArgv(resolved, [...berthArgs(recipe, ctx), ...launchLoraArgs(d, resolved)], d.backendArgs);
  const warnings = [...resolved.warnings];

  if (recipe.servedNames.pass === 'first' && d.servedName.length > 1) {
    const [first, ...others] = d.servedName;
    warnings.push(`${d.backend} serves only the first served name ("${first}"); the gateway maps ${others.map((n) => `"${n}"`).join(', ')} to it`);
  }
  warnings.push(...composed.warnings);

  const env: Record<string, string> = {};
  for (const e of recipe.defaultEnv) env[e.name] = e.value;
  // Unset means "every GPU": a replica given none would otherwise see, and take
  // memory on, GPUs allocated to other replicas. '' hides them all.
  env.CUDA_VISIBLE_DEVICES = gpus.join(',');
  const userGpus = d.env.CUDA_VISIBLE_DEVICES;
  if (userGpus !== undefined) {
    warnings.push(`env sets CUDA_VISIBLE_DEVICES="${userGpus}"; the engine uses it instead of the allocated GPUs (${gpus.join(',') || 'none'})`);
  }
  Object.assign(env, d.env);
  // Names only: the replica puts the values in the engine's environment at
  // spawn, so a plan (shown by the API, the CLI, the UI) never holds a secret.
  for (const name of Object.keys(d.secretEnv ?? {})) env[name] = REDACTED;

  // Host and port as the engine will bind them, after any backendArgs override.
  // vLLM reads --host '' or 'None' as no host and binds every IPv4 interface
  // (spec defaultHostBehavior).
  const host = effective(resolved, composed.parsed, recipe.hostFlag)?.converted[0];
  const port = effective(resolved, composed.parsed, recipe.portFlag)?.converted[0];
  return {
    backend: d.backend,
    backendVersion: d.backendVersion,
    recipeVersion: resolved.recipeVersion,
    argv: [input.interpreter, '-m', recipe.module, ...composed.argv],
    env,
    host: host === undefined ? ctx.host : typeof host === 'string' ? host : '0.0.0.0',
    port: typeof port === 'number' ? port : input.port,
    gpus: [...gpus],
    readiness: { http: recipe.readiness.http, logLine: recipe.readiness.logLine },
    warnings,
  };
}

/**
 * Throws PlanError when `args` would not survive buildPlan, so a bad deployment
 * is refused when it is submitted rather than when a replica starts. Checks a
 * placeholder deployment: no rule depends on the model, names, host, port or GPUs.
 */
export function validateBackendArgs(backend: Backend, version: string, args: readonly string[]): void {
  const resolved = resolveRecipe(backend, version);
  const ctx: LaunchContext = {
    modelId: 'model',
    servedName: ['model'],
    host: DEFAULT_ENGINE_HOST,
    port: resolved.spec.defaultPort,
    gpus: [],
    replicaGpus: 0,
    hasBackendArgs: args.length > 0,
  };
  composeArgv(resolved, berthArgs(resolved.recipe, ctx), args);
}
