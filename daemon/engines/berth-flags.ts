// The flags Berth itself passes to an engine, in order, read from the recipe
// (resources/engines/catalogue.json). To see where a flag comes from, find it
// in the catalogue; this file only says in which order and under which
// conditions recipe entries apply.
import type { Recipe, RecipeCondition } from './catalogue.js';

/** What a launch depends on. */
export interface LaunchContext {
  modelId: string;
  servedName: readonly string[];
  host: string;
  port: number;
  /** GPU indices allocated to this replica. */
  gpus: readonly number[];
  /** GPUs the deployment asks per replica: workers x gpu.count. */
  replicaGpus: number;
  /** The deployment passes its own backendArgs (non-empty). */
  hasBackendArgs: boolean;
}

/** One argv token Berth adds, and the deployment field its text comes from (for error messages). */
export interface BerthArg {
  text: string;
  source: 'modelId' | 'servedName' | 'recipe' | 'loras';
}

function holds(when: RecipeCondition, ctx: LaunchContext): boolean {
  return (!when.noBackendArgs || !ctx.hasBackendArgs) && ctx.gpus.length >= (when.minGpus ?? 0);
}

const fromRecipe = (argv: readonly string[]): BerthArg[] => argv.map((text) => ({ text, source: 'recipe' }));

/**
 * model, served names, host, port, the recipe's default flags, its conditional
 * flags, tensor parallelism. No greedy (nargs '+') flag ends the list, so the
 * user's backendArgs appended after it are never swallowed by it.
 */
export function berthArgs(recipe: Recipe, ctx: LaunchContext): BerthArg[] {
  const names = recipe.servedNames.pass === 'all' ? ctx.servedName : ctx.servedName.slice(0, 1);
  const tp = recipe.tensorParallel;
  const tpSize = tp.size === 'allocatedGpus' ? ctx.gpus.length : ctx.replicaGpus;
  return [
    ...fromRecipe([recipe.model.flag]),
    { text: ctx.modelId, source: 'modelId' },
    ...fromRecipe([recipe.servedNames.flag]),
    ...names.map((text): BerthArg => ({ text, source: 'servedName' })),
    ...fromRecipe([recipe.hostFlag, ctx.host, recipe.portFlag, String(ctx.port)]),
    ...recipe.defaultFlags.flatMap((f) => fromRecipe(f.argv)),
    ...recipe.conditionalFlags.filter((f) => holds(f.when, ctx)).flatMap((f) => fromRecipe(f.argv)),
    ...(holds(tp.when, ctx) ? fromRecipe([tp.flag, String(tpSize)]) : []),
  ];
}
