// What the fake "generates": fixed phrases cut into tokens, and token counts that add up.
// The engines count the EOS token as a completion token and stream it as an empty delta
// (vLLM's finish chunk `"content":""`, SGLang's `"content":null` with matched_stop), so a
// "stop" completion of N tokens has N-1 text tokens plus an EOS token ''.

/** The token split of the engine-responses fixtures, so fixture-shaped bodies come out. */
export const CHAT_PHRASE = ['Hello', '!', ' How', ' can', ' I', ' help', ' you', ' today', '?'];
export const COMPLETION_PHRASE = [' Paris', '.', ' It', ' is', ' known', ' for', ' the', ' E', 'iff', 'el Tower'];

export type FinishReason = 'stop' | 'length';

export interface Generation {
  /** One entry per completion token; '' is the EOS token. */
  tokens: string[];
  finish: FinishReason;
  promptTokens: number;
}

/**
 * `budget` tokens (FAKE_TOKENS) unless max_tokens is smaller, in which case the engine stops
 * at max_tokens with finish_reason "length" and no EOS.
 */
export function plan(phrase: string[], budget: number, maxTokens: number | null, promptTokens: number): Generation {
  const limited = maxTokens !== null && maxTokens < budget;
  const words = limited ? Math.max(1, maxTokens) : budget - 1;
  const tokens = Array.from({ length: words }, (_, i) => {
    const t = phrase[i % phrase.length] as string;
    return i >= phrase.length && i % phrase.length === 0 ? ` ${t.trimStart()}` : t;
  });
  if (!limited) tokens.push('');
  return { tokens, finish: limited ? 'length' : 'stop', promptTokens };
}

export function usage(g: Generation) {
  return { prompt_tokens: g.promptTokens, total_tokens: g.promptTokens + g.tokens.length, completion_tokens: g.tokens.length };
}

/** The fake's tokenizer: one token per whitespace-separated word, at least one per text. */
function words(text: unknown): number {
  if (Array.isArray(text)) {
    // A list of token ids is already tokenized; a list of content parts or prompts is summed.
    return text.every((t) => typeof t === 'number') ? text.length : text.reduce((n: number, t) => n + words(t), 0);
  }
  if (text && typeof text === 'object' && 'text' in text) return words((text as { text: unknown }).text);
  return typeof text === 'string' ? Math.max(1, text.match(/\S+/g)?.length ?? 0) : 1;
}

/** Chat prompts: the words plus 3 template tokens per message and 3 for the assistant header. */
export function chatPromptTokens(messages: unknown): number {
  if (!Array.isArray(messages)) return 3;
  return messages.reduce((n: number, m: { content?: unknown }) => n + 3 + words(m?.content ?? ''), 3);
}

export function textPromptTokens(prompt: unknown): number {
  return words(prompt ?? '');
}
