// What a streamed chat completion says, event by event, in the shapes vLLM
// and SGLang send (OpenAI's): content deltas, a finish reason, a usage chunk
// (we ask for stream_options.include_usage), `[DONE]`, and errors, both as a
// non-2xx JSON envelope and as a `data: {"error": ...}` event mid-stream.
// Pure, so the page's numbers and messages are tested under Node.

export type ChatStreamItem =
  | { kind: 'content'; text: string }
  /** Reasoning models (vLLM's reasoning parser) stream their thinking apart from the answer. */
  | { kind: 'reasoning'; text: string }
  | { kind: 'finish'; reason: string }
  | { kind: 'usage'; promptTokens: number | null; completionTokens: number | null }
  | { kind: 'error'; message: string }
  | { kind: 'done' };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const count = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The message of an error object in OpenAI's envelope (`{error: {message}}`) or FastAPI's (`{detail}`), else null. */
export function errorMessageOf(body: unknown): string | null {
  if (!isObject(body)) return null;
  const e = body.error;
  if (isObject(e) && typeof e.message === 'string') return e.message;
  if (typeof e === 'string') return e;
  if (typeof body.message === 'string' && body.object === 'error') return body.message;
  if (typeof body.detail === 'string') return body.detail;
  return null;
}

/** The items in one `data:` payload of the stream. Anything not JSON is an error item, not a throw. */
export function interpretChunk(data: string): ChatStreamItem[] {
  if (data.trim() === '[DONE]') return [{ kind: 'done' }];
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return [{ kind: 'error', message: `the stream sent something that is not JSON: ${data.slice(0, 120)}` }];
  }
  if (!isObject(parsed)) return [];
  const message = errorMessageOf(parsed);
  if (message !== null && parsed.choices === undefined) return [{ kind: 'error', message }];
  const out: ChatStreamItem[] = [];
  const choices = Array.isArray(parsed.choices) ? parsed.choices : [];
  // The playground asks for one choice (n = 1); any other index is not ours to show.
  const choice = choices.find((c): c is Record<string, unknown> => isObject(c) && (c.index === 0 || c.index === undefined));
  if (choice) {
    const delta = isObject(choice.delta) ? choice.delta : {};
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === 'string' && reasoning !== '') out.push({ kind: 'reasoning', text: reasoning });
    if (typeof delta.content === 'string' && delta.content !== '') out.push({ kind: 'content', text: delta.content });
    if (typeof choice.finish_reason === 'string') out.push({ kind: 'finish', reason: choice.finish_reason });
  }
  if (isObject(parsed.usage)) {
    out.push({ kind: 'usage', promptTokens: count(parsed.usage.prompt_tokens), completionTokens: count(parsed.usage.completion_tokens) });
  }
  return out;
}

/** What to show for a non-2xx answer: its envelope's message, else its status and text. */
export function httpErrorMessage(status: number, bodyText: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    parsed = undefined;
  }
  const message = errorMessageOf(parsed);
  if (message !== null) return `${message} (HTTP ${status})`;
  const text = bodyText.trim().slice(0, 200);
  return text ? `HTTP ${status}: ${text}` : `HTTP ${status}`;
}

// ---------- what the page measures ----------
/** Times in milliseconds from one clock (performance.now() in the page). */
export interface TurnTiming {
  sentAt: number;
  /** When the first content (or reasoning) arrived; null when none did. */
  firstTokenAt: number | null;
  endedAt: number;
  /** From the usage chunk; null when the stream ended without one (stopped, cut off). */
  completionTokens: number | null;
  /** Content and reasoning deltas received: the count when usage is missing (about one token each). */
  deltas: number;
}

export interface TurnMetrics {
  /** Time to first token, ms. */
  ttftMs: number | null;
  /** Decode rate: tokens after the first over the time after it; null with fewer than two tokens. */
  tokensPerS: number | null;
  tokens: number;
  /** The token count is the number of deltas, not the engine's usage. */
  estimated: boolean;
}

export function turnMetrics(t: TurnTiming): TurnMetrics {
  const estimated = t.completionTokens === null;
  const tokens = t.completionTokens ?? t.deltas;
  const ttftMs = t.firstTokenAt === null ? null : Math.max(0, t.firstTokenAt - t.sentAt);
  let tokensPerS: number | null = null;
  if (t.firstTokenAt !== null && tokens >= 2) {
    const decodeMs = t.endedAt - t.firstTokenAt;
    // The first token's time belongs to TTFT; the rate is over the ones after it.
    if (decodeMs > 0) tokensPerS = ((tokens - 1) * 1000) / decodeMs;
  }
  return { ttftMs, tokensPerS, tokens, estimated };
}
