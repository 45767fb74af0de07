// SGLang decisions the recipe data cannot express (see rules.ts).
import type { EngineRules } from './rules.js';
import type { EngineSpec } from './spec.js';
import { compareVersions } from './versions.js';

/** Does `version` fall under a requiredCompanionFlags key: `0.4.6.post1` or a range `0.4.6.post2..post5`? */
function keyCovers(key: string, version: string): boolean {
  const [low, high] = key.split('..') as [string, string | undefined];
  if (high === undefined) return compareVersions(key, version) === 0;
  // `..post5` abbreviates the upper end: same release as the lower end.
  const top = /^\d/.test(high) ? high : `${low.replace(/[.-]?(post|rc|dev)\d*$/, '')}.${high}`;
  return compareVersions(low, version) <= 0 && compareVersions(version, top) <= 0;
}

export function loraCompanions(spec: EngineSpec, version: string): string[] {
  const table = spec.lora.requiredCompanionFlags ?? {};
  return Object.entries(table).find(([key]) => keyCovers(key, version))?.[1] ?? [];
}

export const sglangRules: EngineRules = {
  check: () => null,
  warnings(args, { spec, version }) {
    // check_server_args asserts these alongside any --lora-paths, so the engine
    // exits at start (spec lora.requiredCompanionFlags; 0.4.6.post2 dropped
    // --disable-cuda-graph from the list).
    if (!args.options.has('--lora-paths')) return [];
    const missing = loraCompanions(spec, version).filter((f) => !args.options.has(f));
    if (missing.length === 0) return [];
    const assertion = spec.lora.assertMessage ? ` ("${spec.lora.assertMessage}")` : '';
    return [`sglang ${version} with --lora-paths also needs ${missing.join(' and ')}; without it the engine fails an assertion at start${assertion}`];
  },
};
