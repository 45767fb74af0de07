// The engines' stream sequences (engine-responses README, "vLLM chat stream", "SGLang chat
// stream"): every event is `data: <json>\n\n`, no event:/id: lines, then `data: [DONE]\n\n`.
// Each event is marked with whether a token is generated before it, so the writer can pace
// the stream (FAKE_TOKEN_DELAY_MS) and stop mid-way when the client goes away.
import type { Answer } from './bodies.js';
import { EOS_TOKEN_ID } from './bodies.js';
import { usage } from './generation.js';
import type { EngineName } from './shared.js';

export interface StreamOptions {
  includeUsage: boolean;
  /** vLLM's stream_options.continuous_usage_stats: usage on every chunk. */
  continuousUsage: boolean;
}

export interface SseEvent {
  /** A token is generated before this event is sent. */
  afterToken: boolean;
  data: string;
}

const DONE: SseEvent = { afterToken: false, data: 'data: [DONE]\n\n' };
const ev = (afterToken: boolean, o: unknown): SseEvent => ({ afterToken, data: `data: ${JSON.stringify(o)}\n\n` });

/** Usage so far, for continuous_usage_stats (dumped with exclude_none: no prompt_tokens_details). */
const partial = (prompt: number, completion: number) => ({ prompt_tokens: prompt, total_tokens: prompt + completion, completion_tokens: completion });

export function chatStream(engine: EngineName, a: Answer, o: StreamOptions): SseEvent[] {
  return engine === 'vllm' ? vllmChat(a, o) : sglangChat(a, o);
}

export function completionStream(engine: EngineName, a: Answer, o: StreamOptions): SseEvent[] {
  return engine === 'vllm' ? vllmCompletion(a, o) : sglangCompletion(a, o);
}

/**
 * vLLM: the role chunk is dumped with exclude_unset (logprobs/finish_reason null present);
 * token chunks with exclude_none (no such keys, but tool_calls:[]); the last token's chunk
 * carries finish_reason; include_usage adds a chunk with choices:[] before [DONE].
 */
function vllmChat(a: Answer, o: StreamOptions): SseEvent[] {
  const base = { id: a.id, object: 'chat.completion.chunk', created: a.created, model: a.model };
  const p = a.gen.promptTokens;
  const cont = (n: number) => (o.includeUsage && o.continuousUsage ? { usage: partial(p, n) } : {});
  const out = [ev(false, { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], ...cont(0) })];
  a.gen.tokens.forEach((t, i) => {
    const last = i === a.gen.tokens.length - 1;
    const choice = { index: 0, delta: { content: t, tool_calls: [] }, ...(last ? { finish_reason: a.gen.finish } : {}) };
    out.push(ev(true, { ...base, choices: [choice], ...cont(i + 1) }));
  });
  if (o.includeUsage) out.push(ev(false, { ...base, choices: [], usage: partial(p, a.gen.tokens.length) }));
  return [...out, DONE];
}

/** vLLM completions: every chunk carries every key (usage:null); the usage chunk has choices:[]. */
function vllmCompletion(a: Answer, o: StreamOptions): SseEvent[] {
  const base = { id: a.id, object: 'text_completion', created: a.created, model: a.model };
  const p = a.gen.promptTokens;
  const out = a.gen.tokens.map((t, i) => {
    const last = i === a.gen.tokens.length - 1;
    const choice = { index: 0, text: t, logprobs: null, finish_reason: last ? a.gen.finish : null, stop_reason: null };
    return ev(true, { ...base, choices: [choice], usage: o.includeUsage && o.continuousUsage ? partial(p, i + 1) : null });
  });
  if (o.includeUsage) out.push(ev(false, { ...base, choices: [], usage: partial(p, a.gen.tokens.length) }));
  return [...out, DONE];
}

/**
 * SGLang: every key always present. Without include_usage the last token's chunk has the
 * finish_reason (and matched_stop for EOS) and an extra all-null chunk repeats it. With
 * include_usage, token chunks have finish_reason null, an EOS with no text is not sent, and
 * the final chunk carries the finish_reason AND usage with a non-empty choices list.
 */
function sglangChat(a: Answer, o: StreamOptions): SseEvent[] {
  const base = { id: a.id, object: 'chat.completion.chunk', created: a.created, model: a.model };
  const delta = (role: string | null, content: string | null) => ({ role, content, reasoning_content: null, tool_calls: null });
  const chunk = (d: object, finish: string | null, matched: number | null, u: object | null = null) => ({
    ...base,
    choices: [{ index: 0, delta: d, logprobs: null, finish_reason: finish, matched_stop: matched }],
    usage: u,
  });
  const out = [ev(false, chunk(delta('assistant', null), null, null))];
  let pendingToken = false;
  a.gen.tokens.forEach((t, i) => {
    const last = i === a.gen.tokens.length - 1;
    if (o.includeUsage) {
      if (t === '') pendingToken = true;
      else out.push(ev(true, chunk(delta(null, t), null, null)));
    } else {
      const matched = last && a.gen.finish === 'stop' ? EOS_TOKEN_ID : null;
      out.push(ev(true, chunk(delta(null, t === '' ? null : t), last ? a.gen.finish : null, matched)));
    }
  });
  const u = o.includeUsage ? { ...usage(a.gen), prompt_tokens_details: null } : null;
  out.push(ev(pendingToken, chunk(delta(null, null), a.gen.finish, null, u)));
  return [...out, DONE];
}

/** SGLang completions: not in the fixtures; chunk shape from its 0.4.6 protocol.py. */
function sglangCompletion(a: Answer, o: StreamOptions): SseEvent[] {
  const base = { id: a.id, object: 'text_completion', created: a.created, model: a.model };
  const out = a.gen.tokens.map((t, i) => {
    const last = i === a.gen.tokens.length - 1;
    const matched = last && a.gen.finish === 'stop' ? EOS_TOKEN_ID : null;
    return ev(true, { ...base, choices: [{ index: 0, text: t, logprobs: null, finish_reason: last ? a.gen.finish : null, matched_stop: matched }], usage: null });
  });
  if (o.includeUsage) out.push(ev(false, { ...base, choices: [], usage: { ...usage(a.gen), prompt_tokens_details: null } }));
  return [...out, DONE];
}
