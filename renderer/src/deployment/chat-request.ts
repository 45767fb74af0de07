// One streamed chat completion through the gateway (POST /v1/chat/completions,
// stream: true), read with fetch + ReadableStream because EventSource cannot
// POST. Aborting the signal closes the connection; the gateway then aborts
// the engine's request, so a stopped answer stops costing GPU time.
// No DOM: fetch, streams and TextDecoder are the same in Node, where it is
// tested against a real daemon and the fake engine.
import { httpErrorMessage, interpretChunk, type ChatStreamItem } from './chat-stream.js';
import { readSse } from './sse-parser.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  signal: AbortSignal;
  /** Each item as it arrives. */
  onItem: (item: ChatStreamItem) => void;
  /** The daemon's origin; empty in the page (same origin, its session cookie). */
  baseUrl?: string;
  fetch?: typeof fetch;
}

export type ChatOutcome =
  /** `[DONE]` arrived. */
  | { kind: 'done' }
  /** The user pressed Stop. */
  | { kind: 'stopped' }
  /** The connection ended without `[DONE]` (the engine died, the daemon went away). */
  | { kind: 'cut' }
  | { kind: 'error'; message: string };

const isAbort = (err: unknown) => err instanceof Error && err.name === 'AbortError';

/** Streams one completion; never throws: every end is an outcome. */
export async function streamChat(req: ChatRequest): Promise<ChatOutcome> {
  const doFetch = req.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(`${req.baseUrl ?? ''}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ model: req.model, messages: req.messages, stream: true, stream_options: { include_usage: true } }),
      signal: req.signal,
      credentials: 'same-origin',
    });
  } catch (err) {
    if (isAbort(err) || req.signal.aborted) return { kind: 'stopped' };
    return { kind: 'error', message: 'the Berth daemon could not be reached' };
  }
  if (!res.ok || !res.body) {
    const text = await res.text().catch(() => '');
    return { kind: 'error', message: httpErrorMessage(res.status, text) };
  }
  let outcome: ChatOutcome | null = null;
  try {
    await readSse(res.body, (m) => {
      if (outcome) return;
      for (const item of interpretChunk(m.data)) {
        if (item.kind === 'done') outcome = { kind: 'done' };
        else if (item.kind === 'error') outcome = { kind: 'error', message: item.message };
        req.onItem(item);
      }
    });
  } catch (err) {
    if (isAbort(err) || req.signal.aborted) return { kind: 'stopped' };
    return outcome ?? { kind: 'cut' };
  }
  return outcome ?? { kind: 'cut' };
}
