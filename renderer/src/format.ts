// Numbers as the UI prints them. Pure.
const GiB = 1024;

/** 16376 → "16.0 GiB", 900 → "900 MiB", null → "—". */
export function mib(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v >= GiB ? `${(v / GiB).toFixed(1)} GiB` : `${Math.round(v)} MiB`;
}

/** A rate with one decimal below 10 and none above. */
export function rate(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v < 10 ? v.toFixed(1) : String(Math.round(v));
}

/** Seconds as ms below one second, else seconds. */
export function seconds(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v < 1 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(2)} s`;
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : `${Math.round(v)} %`;
}

export function celsius(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${Math.round(v)} °C`;
}

/** `['a','b']` → "a, b"; empty → "—". */
export function listOr(xs: readonly (string | number)[], empty = '—'): string {
  return xs.length ? xs.join(', ') : empty;
}

/** An argv as a POSIX shell line a user can paste: words with special characters single-quoted. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((a) => (a !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

const BACKEND_LABEL: Record<string, string> = { vllm: 'vLLM', sglang: 'SGLang' };

/** The engine's own spelling of its name. */
export function backendLabel(backend: string): string {
  return BACKEND_LABEL[backend] ?? backend;
}
