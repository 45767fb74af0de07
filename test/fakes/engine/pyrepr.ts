// Python's repr(), for the places where the engines print Python values: argparse error
// messages (`invalid int value: 'abc'`), vLLM's `non-default args: {...}` line and SGLang's
// `server_args=ServerArgs(...)` line.

/** A value that Python prints as a call, e.g. LoRAModulePath(name='a', path='/p', base_model_name=None). */
export class PyObject {
  constructor(
    readonly type: string,
    readonly fields: Record<string, unknown>,
  ) {}
}

/** A float that must print with a decimal point even when integral (Python's `1.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return pyStr(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (v instanceof PyObject) {
    return `${v.type}(${Object.entries(v.fields).map(([k, x]) => `${k}=${pyRepr(x)}`).join(', ')})`;
  }
  return `{${Object.entries(v as object).map(([k, x]) => `${pyStr(k)}: ${pyRepr(x)}`).join(', ')}}`;
}

/** repr(str): single quotes unless the text has one and no double quote. */
function pyStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replaceAll(q, `\\${q}`);
  return q + body + q;
}

/** repr(float): shortest round-trip digits like JS, but Python's exponent rules and `.0`. */
export function pyFloatRepr(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (!Number.isFinite(d)) return d > 0 ? 'inf' : '-inf';
  const abs = Math.abs(d);
  // Python switches to exponent form below 1e-4 and from 1e16; JS at 1e-7 and 1e21.
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [m, e] = d.toExponential().split('e') as [string, string];
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(d);
  return Number.isInteger(d) ? `${s}.0` : s;
}
