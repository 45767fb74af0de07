// Parses an engine argv the way the engine's Python argparse would, without
// Python: Berth rejects a bad deployment with a 400 naming the argument,
// instead of starting an engine that exits 2 a few seconds later. Pure.
//
// Modelled on CPython 3.11's Lib/argparse.py (the version that generated the
// usage blocks in test/fixtures/engine-logs/*-unrecognized-arg.log):
//   1. every token is classified first: an option (exact, `--opt=value`,
//      unique prefix, `-Xvalue`) or an argument; an ambiguous prefix fails here,
//      before anything else is looked at;
//   2. options are taken left to right; each takes the arguments its nargs
//      allows, then converts and checks them (type, then choices);
//   3. then required options; then every token nobody took is reported at once
//      as "unrecognized arguments".
// Messages are argparse's text after "<prog>: error: ".
import { type EngineParser, type ParserAction, engineParser } from './engine-parser.js';
import { type ArgToken, flexibleTokens, plainTokens } from './flexible-argv.js';
import { pyRepr } from './python-types.js';
import type { EngineSpec } from './spec.js';

/** One option as argparse took it. Indices are positions in the argv given to checkArgv. */
export interface OptionUse {
  /** The spec's canonical name, whatever the spelling (`-tp`, `-t`, `--tensor_parallel_size=2`). */
  readonly flag: string;
  /** The option string argparse resolved the token to (after abbreviation and `_` rewriting). */
  readonly optionString: string;
  /** true for a BooleanOptionalAction's `--no-` spelling. */
  readonly negated: boolean;
  readonly values: readonly string[];
  /** Values after the flag's `type=` callable (ints, parsed JSON, null for vLLM's 'None'). */
  readonly converted: readonly unknown[];
  /** Where the option's name was. */
  readonly index: number;
  /** Every argv position this use took: its name and its values. */
  readonly tokens: readonly number[];
}

export interface ArgvError {
  /** Argv position of the offending token; -1 when no token is to blame (a required option is missing). */
  readonly index: number;
  /** Canonical flag where one was resolved, else the token as written. */
  readonly flag: string;
  /** Classify by this, not by message text. */
  readonly code: 'unrecognized' | 'ambiguous' | 'expected-value' | 'ignored-value' | 'invalid-value' | 'required' | 'not-allowed';
  readonly message: string;
}

export interface ParsedArgv {
  /** Options in the order argparse took them (vLLM's dotted JSON keys come last, as the engine sees them). */
  readonly uses: readonly OptionUse[];
  /** Canonical flag -> its uses in order; the engine keeps the last one. */
  readonly options: ReadonlyMap<string, readonly OptionUse[]>;
}

export type ArgvCheck = ({ ok: true } & ParsedArgv) | { ok: false; error: ArgvError };

export interface ParserSelection {
  /** Spec entrypoint id; Berth runs vLLM's `api_server` and SGLang's `launch_server`. */
  entrypoint: string;
  /** The release whose flags apply (SGLang flags carry `availableFrom` / `changedIn`). */
  version: string;
}

/** Checks `argv` (the arguments after `python -m <module>`) against the engine's parser. */
export function checkArgv(spec: EngineSpec, argv: readonly string[], at: ParserSelection): ArgvCheck {
  const parser = engineParser(spec, at.entrypoint, at.version);
  if (!parser.flexible) return parse(parser, plainTokens(argv));
  const flexible = flexibleTokens(argv);
  if (flexible.ok) return parse(parser, flexible.tokens);
  const { index } = flexible;
  if (flexible.reason === 'config-file') return fail(index, '--config', 'unrecognized', 'unrecognized arguments: --config');
  const flag = argv[index]!.split('.')[0]!.replaceAll('_', '-');
  return fail(index, flag, 'expected-value', `argument ${flag}: expected one argument`);
}

/** A usage error, as argparse's ArgumentError. */
class ParseError extends Error {
  constructor(readonly error: ArgvError) {
    super(error.message);
  }
}

const fail = (index: number, flag: string, code: ArgvError['code'], message: string): ArgvCheck => ({
  ok: false,
  error: { index, flag, code, message },
});

interface Classified {
  /** null: starts like an option but no action matches (it ends up unrecognized). */
  action: ParserAction | null;
  optionString: string;
  /** The text after `=` or after a single-dash option's letter; null when none. */
  explicit: string | null;
}

// `-5`, `-.5`: arguments, since neither engine registers an option that looks like a number.
const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;

/** argparse `_parse_optional`: null = an argument ('A'), else an option ('O'). */
function classify(parser: EngineParser, token: ArgToken): Classified | null {
  const arg = token.text;
  if (!arg.startsWith('-')) return null;
  const exact = parser.optionStrings.get(arg);
  if (exact) return { action: exact, optionString: arg, explicit: null };
  if (arg.length === 1) return null;
  const eq = arg.indexOf('=');
  if (eq >= 0) {
    const name = arg.slice(0, eq);
    const action = parser.optionStrings.get(name);
    if (action) return { action, optionString: name, explicit: arg.slice(eq + 1) };
  }
  const matches = prefixMatches(parser, arg);
  if (matches.length > 1) {
    const names = matches.map((m) => m.optionString).join(', ');
    throw new ParseError({
      index: token.origins[0]!,
      flag: arg,
      code: 'ambiguous',
      message: `ambiguous option: ${arg} could match ${names}`,
    });
  }
  if (matches.length === 1) return matches[0]!;
  if (NEGATIVE_NUMBER.test(arg) || arg.includes(' ')) return null;
  return { action: null, optionString: arg, explicit: null };
}

/** argparse `_get_option_tuples` with allow_abbrev=True (the default both engines keep). */
function prefixMatches(parser: EngineParser, arg: string): Classified[] {
  const out: Classified[] = [];
  if (arg.startsWith('--')) {
    // Long options are abbreviated up to the `=`.
    const eq = arg.indexOf('=');
    const prefix = eq < 0 ? arg : arg.slice(0, eq);
    const explicit = eq < 0 ? null : arg.slice(eq + 1);
    for (const [s, action] of parser.optionStrings) if (s.startsWith(prefix)) out.push({ action, optionString: s, explicit });
  } else {
    // `-O3`: the two-character option `-O` with the rest as its value; or a prefix (`-t` for `-tp`).
    const short = arg.slice(0, 2);
    for (const [s, action] of parser.optionStrings) {
      if (s === short) out.push({ action, optionString: s, explicit: arg.slice(2) });
      else if (s.startsWith(arg)) out.push({ action, optionString: s, explicit: null });
    }
  }
  return out;
}

const NARGS_ERRORS: Readonly<Record<string, string>> = {
  null: 'expected one argument',
  '?': 'expected at most one argument',
  '+': 'expected at least one argument',
};

/** How many of the following 'A' tokens `nargs` takes, or null when it cannot be satisfied. */
function matchCount(nargs: ParserAction['nargs'], available: number): number | null {
  if (nargs === null) return available >= 1 ? 1 : null;
  if (nargs === '?') return Math.min(available, 1);
  if (nargs === '*') return available;
  if (nargs === '+') return available >= 1 ? available : null;
  return available >= nargs ? nargs : null;
}

function actionName(a: ParserAction): string {
  return a.optionStrings.join('/');
}

function parse(parser: EngineParser, tokens: readonly ArgToken[]): ArgvCheck {
  try {
    return { ok: true, ...consume(parser, tokens) };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, error: e.error };
    throw e;
  }
}

/** ArgumentError(action, message): argparse prefixes "argument <all option strings>: ". */
function argumentError(action: ParserAction, at: ArgToken, code: ArgvError['code'], message: string): ParseError {
  return new ParseError({ index: at.origins[0]!, flag: action.flag, code, message: `argument ${actionName(action)}: ${message}` });
}

/** Pass 1, all tokens before any is taken. After a bare `--` everything is an argument. */
function classifyAll(parser: EngineParser, tokens: readonly ArgToken[]): { options: (Classified | null)[]; isArg: boolean[] } {
  const options: (Classified | null)[] = [];
  const isArg: boolean[] = [];
  let dashdash = false;
  for (const t of tokens) {
    const c = dashdash || t.text === '--' ? null : classify(parser, t);
    options.push(c);
    // `--` itself is neither an option nor an argument an option may take.
    isArg.push(c === null && (dashdash || t.text !== '--'));
    if (t.text === '--') dashdash = true;
  }
  return { options, isArg };
}

/** argparse `_get_values`: convert every value, then check each against choices. */
function convertValues(action: ParserAction, values: readonly ArgToken[]): unknown[] {
  const converted = values.map((v) => {
    if (!action.type) return v.text;
    const r = action.type.convert(v.text);
    if (r.ok) return r.value;
    const message = r.raises === 'ArgumentTypeError' ? r.message : `invalid ${action.type.name} value: ${pyRepr(v.text)}`;
    throw argumentError(action, v, 'invalid-value', message);
  });
  const choices = action.choices;
  if (choices) {
    converted.forEach((value, k) => {
      if (choices.includes(value as string | number)) return;
      const message = `invalid choice: ${pyRepr(value)} (choose from ${choices.map(pyRepr).join(', ')})`;
      throw argumentError(action, values[k]!, 'invalid-value', message);
    });
  }
  return converted;
}

/** argparse `consume_optional` for the option at `i`: its use and where the next token starts. */
function takeOption(
  tokens: readonly ArgToken[],
  isArg: readonly boolean[],
  i: number,
  { action, optionString, explicit }: Classified & { action: ParserAction },
): { use: OptionUse; next: number } {
  const token = tokens[i]!;
  let values: ArgToken[];
  if (explicit !== null) {
    if (action.nargs === 0) throw argumentError(action, token, 'ignored-value', `ignored explicit argument ${pyRepr(explicit)}`);
    values = [{ text: explicit, origins: token.origins }];
  } else {
    let available = 0;
    while (isArg[i + 1 + available]) available++;
    const count = matchCount(action.nargs, available);
    if (count === null) {
      const n = action.nargs;
      const message = NARGS_ERRORS[String(n)] ?? `expected ${String(n)} argument${n === 1 ? '' : 's'}`;
      throw argumentError(action, token, 'expected-value', message);
    }
    values = tokens.slice(i + 1, i + 1 + count);
  }
  if (action.kind === 'help') throw argumentError(action, token, 'not-allowed', 'prints usage and exits; not a server option');
  if (action.kind === 'removed') {
    throw argumentError(action, token, 'not-allowed', 'removed option; the engine raises ValueError when it is given');
  }
  const converted = convertValues(action, values);
  const origins = new Set([...token.origins, ...values.flatMap((v) => v.origins)]);
  const use: OptionUse = {
    flag: action.flag,
    optionString,
    negated: optionString === action.negatedForm,
    values: values.map((v) => v.text),
    converted,
    index: token.origins[0]!,
    tokens: [...origins].sort((a, b) => a - b),
  };
  return { use, next: explicit !== null ? i + 1 : i + 1 + values.length };
}

function consume(parser: EngineParser, tokens: readonly ArgToken[]): ParsedArgv {
  const { options: classified, isArg } = classifyAll(parser, tokens);

  // Pass 2: take options left to right; whatever no option takes is extra.
  const uses: OptionUse[] = [];
  const extras: ArgToken[] = [];
  for (let i = 0; i < tokens.length; ) {
    const c = classified[i];
    if (c?.action) {
      const { use, next } = takeOption(tokens, isArg, i, { ...c, action: c.action });
      uses.push(use);
      i = next;
    } else {
      extras.push(tokens[i]!);
      i++;
    }
  }

  const taken = new Set(uses.map((u) => u.flag));
  const missing = parser.actions.filter((a) => a.required && !taken.has(a.flag));
  if (missing.length > 0) {
    const message = `the following arguments are required: ${missing.map(actionName).join(', ')}`;
    throw new ParseError({ index: -1, flag: missing[0]!.flag, code: 'required', message });
  }
  if (extras.length > 0) {
    const message = `unrecognized arguments: ${extras.map((t) => t.text).join(' ')}`;
    throw new ParseError({ index: extras[0]!.origins[0]!, flag: extras[0]!.text, code: 'unrecognized', message });
  }

  const options = new Map<string, OptionUse[]>();
  for (const u of uses) options.set(u.flag, [...(options.get(u.flag) ?? []), u]);
  return { uses, options };
}

/** The use the engine keeps for `flag` (argparse: the last one wins), or null. */
export function lastUse(parsed: ParsedArgv, flag: string): OptionUse | null {
  return parsed.options.get(flag)?.at(-1) ?? null;
}
