// The argparse parser an engine builds for one entrypoint at one release,
// rebuilt from the spec: which option strings exist, in registration order
// (abbreviation and "ambiguous option" listings follow that order), and what
// each action takes.
import { type PyType, pyTypeFor } from './python-types.js';
import type { EngineSpec, SpecFlag } from './spec.js';
import { compareVersions } from './versions.js';

export type Nargs = null | number | '?' | '*' | '+';

export interface ParserAction {
  /** The spec's canonical flag name; every spelling of the action reports this. */
  readonly flag: string;
  /** Every option string argparse registered, in order (`--enable-lora`, `--no-enable-lora`). */
  readonly optionStrings: readonly string[];
  /** The `--no-` spelling of a BooleanOptionalAction, else null. */
  readonly negatedForm: string | null;
  readonly nargs: Nargs;
  /**
   * store: keeps values. help: argparse's own -h/--help, which prints usage and
   * exits 0. removed: SGLang's DeprecatedAction, which raises ValueError when used.
   */
  readonly kind: 'store' | 'help' | 'removed';
  /** null for flags that take no value. */
  readonly type: PyType | null;
  readonly choices: readonly (string | number)[] | null;
  readonly required: boolean;
}

export interface EngineParser {
  /** vLLM's FlexibleArgumentParser rewrites argv before argparse sees it (see flexible-argv.ts). */
  readonly flexible: boolean;
  readonly actions: readonly ParserAction[];
  /** Option string -> action, in argparse's `_option_string_actions` insertion order. */
  readonly optionStrings: ReadonlyMap<string, ParserAction>;
}

// Both engines build their parser with add_help=True: `[-h]` opens the usage
// block in test/fixtures/engine-logs/*-unrecognized-arg.log.
const HELP: ParserAction = {
  flag: '--help',
  optionStrings: ['-h', '--help'],
  negatedForm: null,
  nargs: 0,
  kind: 'help',
  type: null,
  choices: null,
  required: false,
};

// Custom actions that store what they are given; their own item checks
// (e.g. --lora-modules name=path or JSON) are left to the engine.
const STORE_ACTIONS = new Set(['store', 'append', 'LoRAParserAction', 'PromptAdapterParserAction', 'LoRAPathAction']);
const FLAG_ACTIONS = new Set(['store_true', 'BooleanOptionalAction']);

function toAction(f: SpecFlag, version: string): ParserAction {
  if (f.positional) throw new Error(`positional ${f.name}: Berth's entrypoints take none`);
  const removed = f.action === 'DeprecatedAction';
  if (!removed && !STORE_ACTIONS.has(f.action) && !FLAG_ACTIONS.has(f.action)) {
    throw new Error(`engine spec action ${f.action} (${f.name}) is not modelled`);
  }
  const takesValue = STORE_ACTIONS.has(f.action);
  // changedIn entries apply from their release on; the latest one at or below `version` wins.
  const change = (f.changedIn ?? [])
    .filter((c) => compareVersions(c.version, version) <= 0)
    .sort((a, b) => compareVersions(a.version, b.version))
    .at(-1);
  const negatedForm = f.action === 'BooleanOptionalAction' ? (f.negatedForm ?? null) : null;
  return {
    flag: f.name,
    optionStrings: [f.name, ...f.aliases, ...(negatedForm ? [negatedForm] : [])],
    negatedForm,
    nargs: takesValue ? f.nargs : 0,
    kind: removed ? 'removed' : 'store',
    type: takesValue ? pyTypeFor(f.parserType ?? 'str') : null,
    choices: change ? change.value : f.choices,
    required: f.required ?? false,
  };
}

const cache = new WeakMap<EngineSpec, Map<string, EngineParser>>();

/**
 * The parser of `entrypoint` at `version`: flags of other entrypoints (vLLM's
 * serve-only --headless, --config, model_tag) and flags added after `version`
 * (SGLang's `availableFrom`) do not exist in it.
 */
export function engineParser(spec: EngineSpec, entrypoint: string, version: string): EngineParser {
  let perSpec = cache.get(spec);
  if (!perSpec) cache.set(spec, (perSpec = new Map()));
  const key = `${entrypoint}@${version}`;
  const hit = perSpec.get(key);
  if (hit) return hit;

  if (!spec.entrypoints.some((e) => e.id === entrypoint)) {
    throw new Error(`${spec.engine} ${spec.version} has no entrypoint ${entrypoint}`);
  }
  const flags = spec.flags.filter(
    (f) =>
      (f.entrypoints === undefined || f.entrypoints.includes(entrypoint)) &&
      (f.availableFrom === undefined || compareVersions(f.availableFrom, version) <= 0),
  );
  const actions = [HELP, ...flags.map((f) => toAction(f, version))];
  const optionStrings = new Map<string, ParserAction>();
  for (const a of actions) for (const s of a.optionStrings) optionStrings.set(s, a);
  const parser: EngineParser = {
    flexible: spec.argParsing.parser.startsWith('vllm.utils.FlexibleArgumentParser'),
    actions,
    optionStrings,
  };
  perSpec.set(key, parser);
  return parser;
}
