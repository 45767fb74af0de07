// The `type=` callables the engines hand to argparse, re-implemented so Berth
// accepts and rejects values as the engine would. Keyed by the spec's
// `parserType` (the callable argparse calls), not by the friendlier `type`.
//
// argparse words a failure by what the callable raised (Lib/argparse.py
// `_get_value`): ValueError/TypeError -> "invalid <__name__> value: '<raw>'";
// ArgumentTypeError -> its own message. vLLM's wrappers (vllm/engine/arg_utils.py
// at 0.9.0.1: optional_type, parse_type, union_dict_and_str, nullable_kvs) turn
// ValueErrors into ArgumentTypeErrors that print the wrapped callable, e.g.
// "Value x cannot be converted to <class 'int'>."; Python prints functions with
// their address, which Berth leaves out.

export type Converted =
  | { ok: true; value: unknown }
  | { ok: false; raises: 'ValueError' | 'TypeError' }
  | { ok: false; raises: 'ArgumentTypeError'; message: string };

export interface PyType {
  /** `__name__` of the callable: what argparse prints in "invalid <name> value". */
  readonly name: string;
  /** `str()` of the callable: what vLLM's wrappers print in "cannot be converted to ...". */
  readonly display: string;
  convert(raw: string): Converted;
}

const ok = (value: unknown): Converted => ({ ok: true, value });
const valueError: Converted = { ok: false, raises: 'ValueError' };
const typeError: Converted = { ok: false, raises: 'TypeError' };
const argumentTypeError = (message: string): Converted => ({ ok: false, raises: 'ArgumentTypeError', message });

// Python's int()/float() accept surrounding whitespace and `_` between digits.
const DIGITS = String.raw`\d(?:_?\d)*`;
const INT = new RegExp(String.raw`^\s*[+-]?${DIGITS}\s*$`);
const FLOAT = new RegExp(
  String.raw`^\s*[+-]?(?:(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?|inf|infinity|nan)\s*$`,
  'i',
);

/** Python `int(raw)`, or null where it raises. */
export function pyInt(raw: string): number | null {
  return INT.test(raw) ? Number(raw.trim().replaceAll('_', '')) : null;
}

function pyFloat(raw: string): number | null {
  if (!FLOAT.test(raw)) return null;
  const s = raw.trim().replaceAll('_', '').toLowerCase();
  if (s.endsWith('nan')) return Number.NaN;
  if (s.endsWith('inf') || s.endsWith('infinity')) return s.startsWith('-') ? -Infinity : Infinity;
  return Number(s);
}

function jsonParse(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false };
  }
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

// `re.match("^{.*}$", val)`: vLLM's test for "this is meant as a JSON object".
const LOOKS_LIKE_OBJECT = /^\{.*\}$/;

const str: PyType = { name: 'str', display: "<class 'str'>", convert: ok };
const int: PyType = {
  name: 'int',
  display: "<class 'int'>",
  convert: (raw) => {
    const n = pyInt(raw);
    return n === null ? valueError : ok(n);
  },
};
const float: PyType = {
  name: 'float',
  display: "<class 'float'>",
  convert: (raw) => {
    const n = pyFloat(raw);
    return n === null ? valueError : ok(n);
  },
};
const jsonLoads: PyType = {
  name: 'loads',
  display: '<function loads>',
  convert: (raw) => {
    const r = jsonParse(raw);
    return r.ok ? ok(r.value) : valueError;
  },
};

// SGLang's nullable_str: '' and 'None' mean None; never fails.
const nullableStr: PyType = {
  name: 'nullable_str',
  display: '<function nullable_str>',
  convert: (raw) => ok(raw === '' || raw === 'None' ? null : raw),
};

// vllm.utils.human_readable_int (--max-model-len): '25.6k' = 25600, '1K' = 1024.
// t/T match the pattern but have no multiplier, so they fall through to int().
const HUMAN = /^(\d+(?:\.\d+)?)([kKmMgGtT])$/;
const DECIMAL: Readonly<Record<string, number>> = { k: 1e3, m: 1e6, g: 1e9 };
const BINARY: Readonly<Record<string, number>> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 };
const humanReadableInt: PyType = {
  name: 'human_readable_int',
  display: '<function human_readable_int>',
  convert: (raw) => {
    const m = HUMAN.exec(raw.trim());
    if (m) {
      const [, number, suffix] = m as unknown as [string, string, string];
      if (DECIMAL[suffix] !== undefined) return ok(Math.trunc(Number(number) * DECIMAL[suffix]));
      if (BINARY[suffix] !== undefined) {
        if (number.includes('.')) {
          return argumentTypeError(
            `Decimals are not allowed with binary suffixes like ${suffix}. Did you mean to use ${number}${suffix.toLowerCase()} instead?`,
          );
        }
        return ok(Number(number) * BINARY[suffix]);
      }
    }
    return int.convert(raw);
  },
};

// Deprecated `key=int,key=int` form vLLM still takes for dict flags (nullable_kvs).
function nullableKvs(raw: string): Converted {
  const out: Record<string, number> = {};
  for (const item of raw.split(',')) {
    const parts = item.split('=').map((p) => p.toLowerCase().trim());
    if (parts.length !== 2) return argumentTypeError('Each item should be in the form KEY=VALUE');
    const [key, value] = parts as [string, string];
    const n = pyInt(value);
    if (n === null) return argumentTypeError(`Failed to parse value of item ${key}=${value}`);
    if (key in out && out[key] !== n) return argumentTypeError(`Conflicting values specified for key: ${key}`);
    out[key] = n;
  }
  return ok(out);
}

/** vLLM parse_type(f): ValueError becomes "Value <raw> cannot be converted to <f>." */
function parseType(inner: PyType): PyType {
  return {
    name: '_parse_type',
    display: '<function parse_type.<locals>._parse_type>',
    convert: (raw) => {
      if (inner === jsonLoads && !LOOKS_LIKE_OBJECT.test(raw)) return nullableKvs(raw);
      const r = inner.convert(raw);
      if (!r.ok && r.raises === 'ValueError') return argumentTypeError(`Value ${raw} cannot be converted to ${inner.display}.`);
      return r;
    },
  };
}

/** vLLM optional_type(f): '' and 'None' mean None, anything else goes through parse_type(f). */
function optionalType(inner: PyType): PyType {
  const parsed = parseType(inner);
  return {
    name: '_optional_type',
    display: '<function optional_type.<locals>._optional_type>',
    convert: (raw) => (raw === '' || raw === 'None' ? ok(null) : parsed.convert(raw)),
  };
}

/** vLLM union_dict_and_str: a `{...}` value must be JSON, anything else is a plain string. */
const unionDictAndStr: PyType = {
  name: 'union_dict_and_str',
  display: '<function union_dict_and_str>',
  convert: (raw) => (LOOKS_LIKE_OBJECT.test(raw) ? optionalType(jsonLoads).convert(raw) : ok(raw)),
};

/**
 * `lambda x: Config(**json.loads(x))` for dataclass-typed flags (--kv-transfer-config).
 * Berth checks the JSON and that it is an object; the config's own field
 * validation happens in the engine.
 */
const dataclassJson: PyType = {
  name: '<lambda>',
  display: '<function EngineArgs.add_cli_args.<locals>.<lambda>>',
  convert: (raw) => {
    const r = jsonParse(raw);
    if (!r.ok) return valueError;
    return isObject(r.value) ? ok(r.value) : typeError;
  },
};

/** CompilationConfig.from_cli (--compilation-config / -O): a level 0-3 or a JSON object. */
const compilationFromCli: PyType = {
  name: '<lambda>',
  display: dataclassJson.display,
  convert: (raw) => {
    if (['0', '1', '2', '3'].includes(raw)) return ok(Number(raw));
    const r = jsonParse(raw);
    return r.ok && isObject(r.value) ? ok(r.value) : valueError;
  },
};

const NAMED: Readonly<Record<string, PyType>> = {
  str,
  int,
  float,
  'json.loads': jsonLoads,
  nullable_str: nullableStr,
  human_readable_int: humanReadableInt,
  union_dict_and_str: unionDictAndStr,
  'json->CompilationConfig.from_cli': compilationFromCli,
};

/** The callable for a spec `parserType`; throws on one Berth does not model (a test builds every spec's parser). */
export function pyTypeFor(parserType: string): PyType {
  const named = NAMED[parserType];
  if (named) return named;
  const wrapped = /^(optional|parse)\((.+)\)$/.exec(parserType);
  if (wrapped) {
    const inner = pyTypeFor(wrapped[2]!);
    return wrapped[1] === 'optional' ? optionalType(inner) : parseType(inner);
  }
  if (parserType.startsWith('json->')) return dataclassJson;
  throw new Error(`engine spec parserType ${parserType} is not modelled`);
}

/** Python `repr()` of a converted value, as argparse prints it in "invalid choice: ...". */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isNaN(v) ? 'nan' : Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : '-inf';
  if (typeof v !== 'string') return JSON.stringify(v);
  // Python picks double quotes only when the text has a ' and no ".
  const quote = v.includes("'") && !v.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of v) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return quote + out + quote;
}
