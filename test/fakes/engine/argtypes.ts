// The type functions the engines register (the specs' `parserType`), failing with the text
// argparse prints: a bare builtin's ValueError becomes "invalid int value: 'x'", while
// vLLM's parse_type()/optional_type() wrappers raise ArgumentTypeError with their own text.
import { pyRepr } from './pyrepr.js';

const PY_INT = /^\s*[+-]?\d+(_\d+)*\s*$/;
const PY_FLOAT = /^\s*[+-]?((\d+(_\d+)*)?\.?\d+(_\d+)*([eE][+-]?\d+)?|\d+\.|inf(inity)?|nan)\s*$/i;

/** A type function failing; the message is what argparse prints after `argument --x: `. */
export class TypeFailure extends Error {}

/**
 * Type functions named by the specs' `parserType`. Bare builtins fail with argparse's
 * "invalid int value: 'x'"; vLLM's parse_type()/optional_type() wrappers raise
 * ArgumentTypeError("Value x cannot be converted to <class 'int'>."), printed as is.
 */
export function applyType(t: string, s: string): unknown {
  const wrapped = /^(optional|parse)\((.*)\)$/.exec(t);
  if (wrapped) {
    const inner = wrapped[2] as string;
    if (wrapped[1] === 'optional' && (s === '' || s === 'None')) return null;
    try {
      return applyType(inner, s);
    } catch (e) {
      if (!(e instanceof TypeFailure) || /^(optional|parse)\(/.test(inner)) throw e;
      const repr = { int: "<class 'int'>", float: "<class 'float'>", 'json.loads': '<function loads at 0x7f2b8c1d4e00>' }[inner];
      throw new TypeFailure(`Value ${s} cannot be converted to ${repr ?? inner}.`);
    }
  }
  switch (t) {
    case 'int':
      if (!PY_INT.test(s)) throw new TypeFailure(`invalid int value: ${pyRepr(s)}`);
      return Number(s.trim().replaceAll('_', ''));
    case 'float':
      if (!PY_FLOAT.test(s)) throw new TypeFailure(`invalid float value: ${pyRepr(s)}`);
      return Number(s.trim().replaceAll('_', '').replace(/^([+-]?)inf(inity)?$/i, '$1Infinity'));
    case 'json.loads':
      try {
        return JSON.parse(s);
      } catch {
        throw new TypeFailure(`invalid loads value: ${pyRepr(s)}`);
      }
    case 'human_readable_int':
      return humanReadableInt(s);
    case 'nullable_str': // SGLang: empty or "None" -> None
      return s === '' || s === 'None' ? null : s;
    default:
      return s; // str, and the JSON/config types the fake does not need to decode
  }
}

/** vLLM's human_readable_int: 25.6k = 25600 (decimal), 1K = 1024 (binary, integers only). */
function humanReadableInt(raw: string): number {
  const s = raw.trim();
  const m = /^(\d+(?:\.\d+)?)([kKmMgGtT])$/.exec(s);
  if (m) {
    const [, num, suffix] = m as unknown as [string, string, string];
    const exp = 'kmgt'.indexOf(suffix.toLowerCase()) + 1;
    if (suffix === suffix.toLowerCase()) return Math.trunc(Number(num) * 1000 ** exp);
    if (num.includes('.')) {
      throw new TypeFailure(
        `Decimals are not allowed with binary suffixes like ${suffix}. Did you mean to use ${num}${suffix.toLowerCase()} instead?`,
      );
    }
    return Number(num) * 1024 ** exp;
  }
  if (!PY_INT.test(s)) throw new TypeFailure(`invalid human_readable_int value: ${pyRepr(raw)}`);
  return Number(s.replaceAll('_', ''));
}
