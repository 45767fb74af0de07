// Python argparse, as far as the two engines' parsers use it, driven by the flag tables in
// the engine specs. Written from the CPython 3.12 / 3.10 argparse source (the engines' Python
// versions), independently of the daemon's own argv checker: the fake is the oracle, so it
// must accept exactly what the real parser accepts and fail with the same exit code and text.
import { TypeFailure, applyType } from './argtypes.js';
import { pyRepr } from './pyrepr.js';
import type { EngineSpec, SpecFlag } from './shared.js';
import { versionAtMost } from './shared.js';
import { formatUsage } from './usage.js';
import { loraModuleError } from './vllm-argv.js';

export type Nargs = null | 0 | '?' | '*' | '+';

/** One registered argparse action. */
export interface Action {
  dest: string;
  optionStrings: string[];
  kind: 'help' | 'store' | 'store_true' | 'bool_optional' | 'append' | 'deprecated';
  nargs: Nargs;
  type: string | null;
  choices: string[] | null;
  required: boolean;
  metavar?: string;
  flag?: SpecFlag;
}

export interface Parser {
  prog: string;
  actions: Action[];
  /** Option string -> action, in registration order (argparse's _option_string_actions). */
  byString: Map<string, Action>;
}

export type ParseResult =
  | { ok: true; values: Map<string, unknown> }
  | { ok: false; exitCode: number; stdout: string; stderr: string };

/** An argparse.ArgumentError / parser.error(): usage on stderr, then `<prog>: error: ...`, exit 2. */
class ArgError extends Error {}
class HelpRequested extends Error {}

/**
 * The parser the engine builds. vLLM registers --model only for the api_server entrypoint;
 * SGLang flags newer than the running version do not exist, and choices follow `changedIn`.
 */
export function buildParser(spec: EngineSpec, version: string, entrypoint: string, prog: string): Parser {
  const actions: Action[] = [
    { dest: 'help', optionStrings: ['-h', '--help'], kind: 'help', nargs: 0, type: null, choices: null, required: false },
  ];
  for (const f of spec.flags) {
    if (f.positional) continue;
    if (f.entrypoints && !f.entrypoints.includes(entrypoint)) continue;
    if (f.availableFrom && !versionAtMost(f.availableFrom, version)) continue;
    const change = (f.changedIn ?? []).filter((c) => c.field === 'choices' && versionAtMost(c.version, version)).at(-1);
    const choices = (change?.value as SpecFlag['choices']) ?? f.choices;
    const kind: Action['kind'] =
      f.action === 'store_true' ? 'store_true'
      : f.action === 'BooleanOptionalAction' ? 'bool_optional'
      : f.action === 'append' ? 'append'
      : f.action === 'DeprecatedAction' ? 'deprecated'
      : 'store'; // store and the engines' list actions (LoRAParserAction, LoRAPathAction, ...)
    const optionStrings = [f.name, ...f.aliases];
    // BooleanOptionalAction registers --no-<flag> right after each long option string.
    if (kind === 'bool_optional') optionStrings.push(f.negatedForm ?? `--no-${f.name.slice(2)}`);
    actions.push({
      dest: f.name.replace(/^-+/, '').replaceAll('-', '_'),
      optionStrings,
      kind,
      nargs: kind === 'store' || kind === 'append' ? f.nargs : 0,
      type: f.parserType,
      choices: choices ? choices.map(String) : null,
      required: f.required === true,
      ...(f.metavar ? { metavar: f.metavar } : {}),
      flag: f,
    });
  }
  const byString = new Map<string, Action>();
  for (const a of actions) for (const s of a.optionStrings) byString.set(s, a);
  return { prog, actions, byString };
}

export function parseArgs(parser: Parser, argv: string[], width: number): ParseResult {
  const values = new Map<string, unknown>();
  try {
    const extras = consumeAll(parser, argv, values);
    const missing = parser.actions.filter((a) => a.required && !values.has(a.dest));
    if (missing.length) {
      throw new ArgError(`the following arguments are required: ${missing.map((a) => a.optionStrings.join('/')).join(', ')}`);
    }
    if (extras.length) throw new ArgError(`unrecognized arguments: ${extras.join(' ')}`);
    return { ok: true, values };
  } catch (e) {
    // -h exits as soon as argparse reaches it. The fake prints the usage block only: the
    // specs do not carry the help texts.
    if (e instanceof HelpRequested) return { ok: false, exitCode: 0, stdout: formatUsage(parser, width), stderr: '' };
    if (!(e instanceof ArgError)) throw e;
    return { ok: false, exitCode: 2, stdout: '', stderr: `${formatUsage(parser, width)}${parser.prog}: error: ${e.message}\n` };
  }
}

interface OptionMatch {
  action: Action | null;
  optionString: string;
  explicit: string | null;
}

/** argparse _parse_optional: null means the string is a positional ('A'). */
function matchOptional(parser: Parser, arg: string): OptionMatch | null {
  if (!arg.startsWith('-')) return null;
  const exact = parser.byString.get(arg);
  if (exact) return { action: exact, optionString: arg, explicit: null };
  if (arg.length === 1) return null;
  const eq = arg.indexOf('=');
  if (eq >= 0) {
    const a = parser.byString.get(arg.slice(0, eq));
    if (a) return { action: a, optionString: arg.slice(0, eq), explicit: arg.slice(eq + 1) };
  }
  const tuples = prefixMatches(parser, arg);
  if (tuples.length > 1) {
    throw new ArgError(`ambiguous option: ${arg} could match ${tuples.map((t) => t.optionString).join(', ')}`);
  }
  if (tuples[0]) return tuples[0];
  // Neither engine registers an option that looks like a negative number, so '-1' is a value.
  if (/^-\d+$|^-\d*\.\d+$/.test(arg)) return null;
  if (arg.includes(' ')) return null;
  return { action: null, optionString: arg, explicit: null };
}

/** argparse _get_option_tuples: unique-prefix abbreviations (allow_abbrev is on in both engines). */
function prefixMatches(parser: Parser, arg: string): OptionMatch[] {
  const out: OptionMatch[] = [];
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    const prefix = eq < 0 ? arg : arg.slice(0, eq);
    const explicit = eq < 0 ? null : arg.slice(eq + 1);
    for (const [s, a] of parser.byString) if (s.startsWith(prefix)) out.push({ action: a, optionString: s, explicit });
  } else {
    // Single dash: a registered 2-char option takes the rest as its value ('-qawq' = '-q awq');
    // longer ones match by prefix ('-t' abbreviates vLLM's '-tp').
    const short = arg.slice(0, 2);
    for (const [s, a] of parser.byString) {
      if (s === short) out.push({ action: a, optionString: s, explicit: arg.slice(2) });
      else if (s.startsWith(arg)) out.push({ action: a, optionString: s, explicit: null });
    }
  }
  return out;
}

/** The main loop of _parse_known_args; returns the extras (unrecognized strings, in order). */
function consumeAll(parser: Parser, argv: string[], values: Map<string, unknown>): string[] {
  // Classify every string first, as argparse does: 'O' (an option) or 'A' (a value).
  const matches: (OptionMatch | null)[] = [];
  let afterDashDash = false;
  for (const arg of argv) {
    if (afterDashDash) matches.push(null);
    else if (arg === '--') {
      afterDashDash = true;
      matches.push(null);
    } else matches.push(matchOptional(parser, arg));
  }
  const extras: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const m = matches[i];
    if (!m) {
      extras.push(argv[i] as string); // neither engine has positionals on these entrypoints
      i += 1;
      continue;
    }
    if (!m.action) {
      extras.push(argv[i] as string);
      i += 1;
      continue;
    }
    const a = m.action;
    let args: string[];
    if (m.explicit !== null) {
      if (a.nargs === 0) throw new ArgError(`argument ${name(a)}: ignored explicit argument ${pyRepr(m.explicit)}`);
      args = [m.explicit]; // an explicit value counts as exactly one, even for nargs='+'
      i += 1;
    } else {
      let n = 0;
      while (i + 1 + n < argv.length && !matches[i + 1 + n]) n += 1; // the run of 'A's after the option
      const take = a.nargs === null ? Math.min(n, 1) : a.nargs === 0 ? 0 : a.nargs === '?' ? Math.min(n, 1) : n;
      if (a.nargs === null && take < 1) throw new ArgError(`argument ${name(a)}: expected one argument`);
      if (a.nargs === '+' && take < 1) throw new ArgError(`argument ${name(a)}: expected at least one argument`);
      args = argv.slice(i + 1, i + 1 + take);
      i += 1 + take;
    }
    takeAction(a, m.optionString, args, values);
  }
  return extras;
}

function takeAction(a: Action, optionString: string, args: string[], values: Map<string, unknown>): void {
  switch (a.kind) {
    case 'help':
      throw new HelpRequested();
    case 'store_true':
      values.set(a.dest, true);
      return;
    case 'bool_optional':
      values.set(a.dest, !optionString.startsWith('--no-'));
      return;
    case 'deprecated':
      // SGLang's DeprecatedAction raises ValueError(help) from __call__: a traceback, not argparse.
      throw new DeprecatedFlagError(optionString);
  }
  const one = (s: string) => checkChoice(a, convert(a, s));
  let v: unknown;
  if (a.nargs === '*' || a.nargs === '+') v = args.map(one);
  else if (a.nargs === '?' && args.length === 0) v = a.flag?.const ?? null;
  else v = one(args[0] as string);
  if (a.flag?.action === 'LoRAParserAction') {
    for (const item of v as string[]) {
      const err = loraModuleError(item);
      if (err) throw new ArgError(err);
    }
  }
  if (a.kind === 'append') v = [...((values.get(a.dest) as unknown[]) ?? []), v];
  values.set(a.dest, v);
}

export class DeprecatedFlagError extends Error {
  constructor(readonly flag: string) {
    super(flag);
  }
}

function name(a: Action): string {
  return a.optionStrings.join('/');
}

function checkChoice(a: Action, v: unknown): unknown {
  if (!a.choices) return v;
  const key = v === null ? 'None' : String(v);
  if (a.choices.includes(key)) return v;
  const optional = a.type?.startsWith('optional(') ?? false;
  const shown = a.choices.map((c, i) =>
    typeof a.flag?.choices?.[i] === 'number' || (optional && c === 'None') ? c : pyRepr(c),
  );
  throw new ArgError(`argument ${name(a)}: invalid choice: ${pyRepr(v)} (choose from ${shown.join(', ')})`);
}

function convert(a: Action, s: string): unknown {
  try {
    return applyType(a.type ?? 'str', s);
  } catch (e) {
    if (!(e instanceof TypeFailure)) throw e;
    throw new ArgError(`argument ${name(a)}: ${e.message}`);
  }
}
