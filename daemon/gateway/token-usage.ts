// Token usage as the engines report it, read from a whole response body or
// from one parsed `usage` object. Pure, no I/O; the span helpers keep the
// body's bytes untouched (see json-spans.ts).
import { closesTopLevelObject, isEscaped, skipJsonValue, valueAfterKey } from './json-spans.js';

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/**
 * Reads an OpenAI `usage` object. Both engines write prompt_tokens,
 * total_tokens, completion_tokens (in that order); embeddings responses may
 * omit completion_tokens (OpenAI does; vLLM writes 0), which counts as 0.
 */
export function readUsage(value: unknown): TokenUsage | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const u = value as { prompt_tokens?: unknown; completion_tokens?: unknown };
  if (!isCount(u.prompt_tokens)) return null;
  if (u.completion_tokens !== undefined && u.completion_tokens !== null && !isCount(u.completion_tokens)) return null;
  return { promptTokens: u.prompt_tokens, completionTokens: isCount(u.completion_tokens) ? u.completion_tokens : 0 };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

const USAGE_KEY = Buffer.from('"usage"');

/**
 * Usage of a non-stream response (chat, completions, embeddings), or null when
 * the body has none (errors, non-JSON).
 *
 * Fast path: both engines write `usage` after `choices`/`data` (vLLM: then only
 * `prompt_logprobs`/`kv_transfer_params`), so we find the last `"usage"` key,
 * parse just its value, and check that what follows it closes the top-level
 * object. An embeddings response can be tens of MB of floats; this avoids
 * parsing them to read four integers. Anything unusual falls back to a full parse.
 */
export function usageFromJson(body: Buffer | string): TokenUsage | null {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const at = b.lastIndexOf(USAGE_KEY);
  if (at === -1) return null;
  // An escaped quote (`\"usage"`) would be the tail of some other string.
  if (!isEscaped(b, at)) {
    const start = valueAfterKey(b, at + USAGE_KEY.length);
    const end = start === -1 ? -1 : skipJsonValue(b, start);
    if (end !== -1 && closesTopLevelObject(b, end)) {
      try {
        return readUsage(JSON.parse(b.toString('utf8', start, end)));
      } catch {
        // fall through to the full parse
      }
    }
  }
  try {
    const doc: unknown = JSON.parse(b.toString('utf8'));
    return doc !== null && typeof doc === 'object' ? readUsage((doc as { usage?: unknown }).usage) : null;
  } catch {
    return null;
  }
}
