// Per-request keep-alive, as Ollama clients send it: how long the model should
// stay loaded after this request. Accepted from the `X-Berth-Keep-Alive` header
// or the body's `keep_alive` field (which the gateway removes before the
// engine sees the body). Pure.
import { HttpError } from '../http/errors.js';

export type KeepAliveSource = 'header' | 'body';

/**
 * Seconds to stay loaded after this request: `Infinity` = keep loaded (any
 * negative value, as in Ollama), 0 = unload right after this request, null =
 * not given (use the deployment's idle timeout).
 *
 * Accepts
 * - a JSON number of seconds (Ollama's `keep_alive: 300`);
 * - a Go duration string, as Ollama parses with time.ParseDuration: a sign,
 *   then one or more `<decimal><unit>` with units ns, us (µs, μs), ms, s, m, h
 *   (`"5m"`, `"1h30m"`, `"1.5h"`, `"-1m"`, `"0"`);
 * - a bare decimal string of seconds (`"300"`, `"-1"`), which Go's parser
 *   refuses but Ollama's OLLAMA_KEEP_ALIVE accepts, and which is the only
 *   way a header can carry a number.
 * Unlike Ollama, fractional seconds are kept rather than truncated.
 */
export function parseKeepAlive(value: unknown, source: KeepAliveSource): number | null {
  // Ollama's field is a *Duration: JSON null leaves it unset.
  if (value === undefined || value === null) return null;
  let seconds: number | undefined;
  if (typeof value === 'number') seconds = Number.isNaN(value) ? undefined : value;
  else if (typeof value === 'string') seconds = parseDuration(value);
  if (seconds === undefined) throw invalid(value, source);
  if (seconds < 0) return Infinity;
  return seconds === 0 ? 0 : seconds; // folds -0
}

const BARE_SECONDS = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const DURATION = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const COMPONENT = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
// Sub-second units divide rather than multiply by 1e-3 etc., so "100ms" is exactly 0.1.
const UNIT: Record<string, [mul: number, div: number]> = {
  ns: [1, 1e9],
  us: [1, 1e6],
  µs: [1, 1e6], // U+00B5 MICRO SIGN
  μs: [1, 1e6], // U+03BC GREEK SMALL LETTER MU
  ms: [1, 1e3],
  s: [1, 1],
  m: [60, 1],
  h: [3600, 1],
};

function parseDuration(text: string): number | undefined {
  let seconds: number;
  if (BARE_SECONDS.test(text)) seconds = Number(text);
  else if (DURATION.test(text)) {
    seconds = 0;
    for (const [, amount, unit] of text.matchAll(COMPONENT)) {
      const [mul, div] = UNIT[unit!]!;
      seconds += (Number(amount) * mul) / div;
    }
    if (text.startsWith('-')) seconds = -seconds;
  } else return undefined;
  // Go fails on overflow past ~292 years; we refuse only what overflows a double.
  return Number.isFinite(seconds) ? seconds : undefined;
}

function invalid(value: unknown, source: KeepAliveSource): HttpError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : `a ${Array.isArray(value) ? 'array' : typeof value}`;
  const hint =
    'use seconds (300) or a duration such as "5m" or "1h30m"; 0 unloads after this request, a negative value keeps the model loaded';
  return source === 'header'
    ? new HttpError(400, 'invalid_keep_alive', `Invalid X-Berth-Keep-Alive header ${shown}: ${hint}.`)
    : new HttpError(400, 'invalid_keep_alive', `Invalid 'keep_alive' ${shown}: ${hint}.`, 'keep_alive');
}
