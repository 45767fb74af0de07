// vLLM's FlexibleArgumentParser.parse_args rewrites argv before argparse sees
// it (vllm/utils.py at 0.9.0.1; spec `argParsing`):
//   - `--foo_bar` and `--foo_bar=v` become `--foo-bar`: every `_` before the
//     first `=` turns into `-`;
//   - JSON dotted keys: `--json-arg.a.b v` (or `--json-arg.a.b=v`) is removed
//     from its place, merged per flag into one object, and appended at the end
//     as `--json-arg '{"a": {"b": "v"}}'`, so argparse checks it last.
// `-O3` needs no rewrite: argparse itself reads it as `-O 3` (a single-dash
// option followed by its value), and 0.9.0.1's own `-O` branch never fires.
// A bare `--config` token makes vLLM splice a YAML file's arguments into argv
// first. That is `vllm serve`'s option: the api_server parser Berth runs does
// not register it, the splice assumes argv starts with `serve`, and Berth
// could not check the file anyway, so it is refused as unrecognized.

/** One string argparse will see, and the input positions it came from. */
export interface ArgToken {
  readonly text: string;
  readonly origins: readonly number[];
}

export const plainTokens = (argv: readonly string[]): ArgToken[] => argv.map((text, i) => ({ text, origins: [i] }));

type Nested = { [key: string]: string | Nested };

function merge(into: Nested, from: Nested): void {
  for (const [k, v] of Object.entries(from)) {
    const existing = into[k];
    if (typeof v === 'object' && typeof existing === 'object') merge(existing, v);
    else into[k] = v;
  }
}

// Python json.dumps defaults: ", " and ": " separators, non-ASCII escaped.
function pyJsonDumps(v: string | Nested): string {
  if (typeof v === 'string') {
    return JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  return `{${Object.entries(v)
    .map(([k, x]) => `${pyJsonDumps(k)}: ${pyJsonDumps(x)}`)
    .join(', ')}}`;
}

export type FlexibleResult =
  | { ok: true; tokens: ArgToken[] }
  /** config-file: a bare --config; dotted-key-without-value: vLLM raises IndexError. */
  | { ok: false; index: number; reason: 'config-file' | 'dotted-key-without-value' };

/** The tokens vLLM hands to argparse. */
export function flexibleTokens(argv: readonly string[]): FlexibleResult {
  const config = argv.indexOf('--config');
  if (config >= 0) return { ok: false, index: config, reason: 'config-file' };
  const rewritten = argv.map((arg) => {
    if (!arg.startsWith('--')) return arg;
    const eq = arg.indexOf('=');
    return eq < 0 ? arg.replaceAll('_', '-') : arg.slice(0, eq).replaceAll('_', '-') + arg.slice(eq);
  });

  const deleted = new Set<number>();
  const dicts = new Map<string, { value: Nested; origins: number[] }>();
  // Like vLLM, every index is visited, even one already taken as a value.
  for (let i = 0; i < rewritten.length; i++) {
    let key = rewritten[i]!;
    if (!key.startsWith('--') || !key.includes('.')) continue;
    let value: string;
    const origins = [i];
    const eq = key.indexOf('=');
    if (eq >= 0) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
      if (!key.includes('.')) continue; // the dot was in the value
    } else {
      if (i + 1 >= rewritten.length) return { ok: false, index: i, reason: 'dotted-key-without-value' };
      value = rewritten[i + 1]!;
      deleted.add(i + 1);
      origins.push(i + 1);
    }
    const [flag, ...path] = key.split('.') as [string, ...string[]];
    let nested: string | Nested = value;
    for (const k of path.reverse()) nested = { [k]: nested };
    const entry = dicts.get(flag) ?? { value: {}, origins: [] };
    merge(entry.value, nested as Nested);
    entry.origins.push(...origins);
    dicts.set(flag, entry);
    deleted.add(i);
  }

  const tokens: ArgToken[] = [];
  rewritten.forEach((text, i) => {
    if (!deleted.has(i)) tokens.push({ text, origins: [i] });
  });
  for (const [flag, { value, origins }] of dicts) {
    tokens.push({ text: flag, origins: [origins[0]!] }, { text: pyJsonDumps(value), origins });
  }
  return { ok: true, tokens };
}
