// vLLM's runtime LoRA routes, one call each (engine-responses README "LoRA on
// vLLM"): POST /v1/load_lora_adapter {lora_name, lora_path} and
// /v1/unload_lora_adapter {lora_name}. Success is plain text with no
// Content-Type, so only the status is read; a refusal is vLLM's error
// envelope, whose `type` (not its text) says what went wrong. The routes
// exist only when VLLM_ALLOW_RUNTIME_LORA_UPDATING was true at the engine's
// start; otherwise FastAPI answers its bare 404 `{"detail":"Not Found"}`.

export type EngineLoraAnswer =
  | { ok: true }
  | {
      ok: false;
      /** The HTTP status, or null when no answer came (the engine is gone or timed out). */
      status: number | null;
      /** The engine's error type (`NotFoundError`, `InvalidUserInput`); null for FastAPI's own 404 and non-envelopes. */
      type: string | null;
      /** The route is not registered: runtime LoRA was off when the engine started. */
      routeMissing: boolean;
      message: string;
    };

/**
 * Loading reads the adapter from disk, or downloads it from Hugging Face
 * first: minutes on a slow link, so the limit is generous.
 */
export const LOAD_TIMEOUT_MS = 600_000;
const UNLOAD_TIMEOUT_MS = 30_000;

export function loadAdapter(baseUrl: string, adapter: { name: string; path: string }, signal?: AbortSignal): Promise<EngineLoraAnswer> {
  return call(`${baseUrl}/v1/load_lora_adapter`, { lora_name: adapter.name, lora_path: adapter.path }, LOAD_TIMEOUT_MS, signal);
}

export function unloadAdapter(baseUrl: string, name: string, signal?: AbortSignal): Promise<EngineLoraAnswer> {
  return call(`${baseUrl}/v1/unload_lora_adapter`, { lora_name: name }, UNLOAD_TIMEOUT_MS, signal);
}

async function call(url: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<EngineLoraAnswer> {
  const limit = AbortSignal.timeout(timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, limit]) : limit,
    });
    text = await res.text();
  } catch (err) {
    const why = limit.aborted ? `no answer within ${timeoutMs / 1000}s` : err instanceof Error ? err.message : String(err);
    return { ok: false, status: null, type: null, routeMissing: false, message: `the engine did not answer: ${why}` };
  }
  if (res.ok) return { ok: true };
  const envelope = parseObject(text);
  const type = typeof envelope?.type === 'string' ? envelope.type : null;
  const message = typeof envelope?.message === 'string' ? envelope.message : typeof envelope?.detail === 'string' ? envelope.detail : text.slice(0, 500);
  return { ok: false, status: res.status, type, routeMissing: res.status === 404 && type === null && envelope?.detail !== undefined, message };
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
