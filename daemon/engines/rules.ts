// Engine-specific decisions that recipe data cannot express: what argparse
// lets through but the engine refuses at start, and what deserves a warning.
// One implementation per engine (vllm.ts, sglang.ts); plan.ts applies them to
// the final, already argparse-checked argv.
import type { Backend } from '../contract/deployment.js';
import type { ParsedArgv } from './argparse.js';
import type { EngineSpec } from './spec.js';
import { sglangRules } from './sglang.js';
import { vllmRules } from './vllm.js';

export interface RuleContext {
  spec: EngineSpec;
  /** The release whose behaviour applies (the resolved recipe version). */
  version: string;
}

/** An argument the engine would refuse; `index` is a position in the checked argv. */
export interface RuleViolation {
  index: number;
  flag: string;
  message: string;
}

export interface EngineRules {
  /** The first argument the engine would refuse at start although argparse accepts it, or null. */
  check(args: ParsedArgv, ctx: RuleContext): RuleViolation | null;
  /** Launch-time problems Berth reports but does not refuse. */
  warnings(args: ParsedArgv, ctx: RuleContext): string[];
}

export const ENGINE_RULES: Readonly<Record<Backend, EngineRules>> = { vllm: vllmRules, sglang: sglangRules };
