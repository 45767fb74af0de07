// vLLM decisions the recipe data cannot express (see rules.ts).
import { lastUse } from './argparse.js';
import type { EngineRules } from './rules.js';

export const vllmRules: EngineRules = {
  check(args, { spec }) {
    // --max-lora-rank has no argparse choices: LoRAConfig rejects other values
    // when the engine config is built, and only with LoRA enabled, after the
    // model has started loading (spec lora.maxLoraRankValidation). Berth says
    // so up front, in the engine's own words.
    const lora = lastUse(args, '--enable-lora');
    const rank = lastUse(args, '--max-lora-rank');
    const allowed = spec.lora.maxLoraRankAllowed;
    if (!lora || lora.negated || !rank || !allowed) return null;
    const value = rank.converted[0];
    if (typeof value === 'number' && allowed.includes(value)) return null;
    return {
      index: rank.tokens.at(-1)!,
      flag: rank.flag,
      message: `max_lora_rank (${String(value)}) must be one of (${allowed.join(', ')}).`,
    };
  },
  warnings: () => [],
};
