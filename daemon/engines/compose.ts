// Berth's flags + the deployment's backendArgs -> the argv the engine gets,
// checked the way the engine will parse it. Pure.
import { type ArgvError, type ParsedArgv, checkArgv } from './argparse.js';
import type { BerthArg } from './berth-flags.js';
import type { ResolvedRecipe } from './catalogue.js';
import { PlanError } from './errors.js';
import { ENGINE_RULES } from './rules.js';

export interface ComposedArgv {
  /** The arguments after `<interpreter> -m <module>`. */
  argv: string[];
  parsed: ParsedArgv;
  warnings: string[];
}

const CODES: Readonly<Record<ArgvError['code'], string>> = {
  unrecognized: 'unrecognized_argument',
  ambiguous: 'ambiguous_argument',
  required: 'missing_argument',
  'expected-value': 'invalid_argument',
  'ignored-value': 'invalid_argument',
  'invalid-value': 'invalid_argument',
  'not-allowed': 'invalid_argument',
};

/** Blames the deployment field behind argv position `index` (Berth's tokens first, then backendArgs). */
function planError(
  code: ArgvError['code'],
  index: number,
  message: string,
  berth: readonly BerthArg[],
  backendArgs: readonly string[],
  label: string,
): PlanError {
  if (index < 0) return new PlanError(CODES[code], 'backendArgs', `invalid backendArgs for ${label}: ${message}`);
  if (index >= berth.length) {
    const i = index - berth.length;
    const token = backendArgs[i]!;
    const text =
      code === 'unrecognized'
        ? `unrecognized argument "${token}" for ${label}`
        : `invalid argument "${token}" for ${label}: ${message}`;
    return new PlanError(CODES[code], `backendArgs[${i}]`, text);
  }
  // Berth's own flags parse for every recipe (test/engines); what can still fail
  // here is deployment text Berth passes on, e.g. a served name starting with
  // '-', which argparse takes for an option, leaving the flag before it empty.
  let arg = berth[index]!;
  const next = berth[index + 1];
  if (arg.source === 'recipe' && code === 'expected-value' && next && next.source !== 'recipe') arg = next;
  const field = arg.source === 'recipe' ? 'backendVersion' : arg.source;
  return new PlanError(CODES[code], field, `${label} cannot take "${arg.text}" from ${field}: ${message}`);
}

export function composeArgv(r: ResolvedRecipe, berth: readonly BerthArg[], backendArgs: readonly string[]): ComposedArgv {
  const at = { entrypoint: r.recipe.entrypoint, version: r.recipeVersion };
  const label = `${r.recipe.backend} ${r.recipeVersion}`;

  // 1. Everything together, so a bad user argument is reported as the engine would.
  const together = checkArgv(r.spec, [...berth.map((a) => a.text), ...backendArgs], at);
  if (!together.ok) {
    const e = together.error;
    throw planError(e.code, e.index, e.message, berth, backendArgs, label);
  }

  // 2. A user flag replaces Berth's flag of the same canonical name, whatever
  //    its spelling (-tp, --tp, --tensor_parallel_size=2, --no-enable-lora).
  const userFlags = new Set(together.uses.filter((u) => u.index >= berth.length).map((u) => u.flag));
  const dropped = new Set(together.uses.filter((u) => u.index < berth.length && userFlags.has(u.flag)).flatMap((u) => u.tokens));
  const kept = berth.filter((_, i) => !dropped.has(i));

  // 3. The argv the engine gets, checked whole.
  const argv = [...kept.map((a) => a.text), ...backendArgs];
  const parsed = checkArgv(r.spec, argv, at);
  if (!parsed.ok) {
    const e = parsed.error;
    throw planError(e.code, e.index, e.message, kept, backendArgs, label);
  }
  const rules = ENGINE_RULES[r.recipe.backend];
  const ctx = { spec: r.spec, version: r.recipeVersion };
  const violation = rules.check(parsed, ctx);
  if (violation) {
    const message = `argument ${violation.flag}: ${violation.message}`;
    throw planError('invalid-value', violation.index, message, kept, backendArgs, label);
  }
  return { argv, parsed, warnings: rules.warnings(parsed, ctx) };
}
