// How much of each GPU an engine takes for itself, as a fraction of the GPU's
// total memory, read from its argv the way the engine would read it. Pure.
// The UI shows it beside what nvidia-smi says the engine really uses.
import type { LaunchPlan } from '../contract/api.js';
import type { Backend } from '../contract/deployment.js';
import { checkArgv, lastUse } from './argparse.js';
import { resolveRecipe } from './catalogue.js';

/**
 * The flag that sets the budget. vLLM: `--gpu-memory-utilization`, the
 * fraction of each GPU's total memory for this instance (weights, activations
 * and KV cache), default 0.9 in the spec. SGLang: `--mem-fraction-static`,
 * the fraction for weights and KV cache; the spec's default is null because
 * ServerArgs computes it at start-up from the GPU's memory and the TP size
 * (and the rule changed within 0.4.6.postN), so without the flag the budget
 * is unknown rather than guessed.
 */
const BUDGET_FLAG: Record<Backend, string> = {
  vllm: '--gpu-memory-utilization',
  sglang: '--mem-fraction-static',
};

const fraction = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 1 ? v : null);

// A replica's plan never changes, and GPU accounting asks every few seconds.
const memo = new WeakMap<LaunchPlan, number | null>();

/** The budget fraction `plan` gives its engine on each of its GPUs, or null when the engine decides alone. */
export function memoryFraction(plan: LaunchPlan): number | null {
  let f = memo.get(plan);
  if (f === undefined) memo.set(plan, (f = readFraction(plan)));
  return f;
}

function readFraction(plan: LaunchPlan): number | null {
  const { recipe, spec, recipeVersion } = resolveRecipe(plan.backend, plan.backendVersion);
  const flag = BUDGET_FLAG[plan.backend];
  // The engine's own arguments follow `-m <module>`; a plan that is not shaped
  // so (a container, later) says nothing about the flag.
  const at = plan.argv.findIndex((a, i) => a === recipe.module && plan.argv[i - 1] === '-m');
  if (at >= 0) {
    const parsed = checkArgv(spec, plan.argv.slice(at + 1), { entrypoint: recipe.entrypoint, version: recipeVersion });
    const use = parsed.ok ? lastUse(parsed, flag) : null;
    if (use) return fraction(use.converted[0]);
  }
  return fraction(spec.flags.find((f) => f.name === flag)?.default);
}
