// Response bodies, key for key in the order of the engine-responses fixtures (pydantic field
// order at the tags). JSON.stringify keeps insertion order and writes compact JSON, which is
// what Starlette's JSONResponse / orjson write.
import { randomUUID } from 'node:crypto';
import type { EngineConfig, LoraAdapter } from './config.js';
import type { Generation } from './generation.js';
import { usage } from './generation.js';
import type { EngineName } from './shared.js';

export const hex32 = () => randomUUID().replaceAll('-', '');

/** SGLang reports the matched EOS id; 128009 is Llama 3.1's, as in the fixtures. */
export const EOS_TOKEN_ID = 128009;

/** One generated answer, whatever its wire format. */
export interface Answer {
  id: string;
  created: number;
  model: string;
  gen: Generation;
}

const text = (g: Generation) => g.tokens.join('');

export function chatBody(engine: EngineName, a: Answer) {
  const base = { id: a.id, object: 'chat.completion', created: a.created, model: a.model };
  if (engine === 'vllm') {
    return {
      ...base,
      choices: [{
        index: 0,
        message: { role: 'assistant', reasoning_content: null, content: text(a.gen), tool_calls: [] },
        logprobs: null,
        finish_reason: a.gen.finish,
        stop_reason: null,
      }],
      usage: { ...usage(a.gen), prompt_tokens_details: null },
      prompt_logprobs: null,
      kv_transfer_params: null,
    };
  }
  return {
    ...base,
    choices: [{
      index: 0,
      message: { role: 'assistant', content: text(a.gen), reasoning_content: null, tool_calls: null },
      logprobs: null,
      finish_reason: a.gen.finish,
      matched_stop: a.gen.finish === 'stop' ? EOS_TOKEN_ID : null,
    }],
    usage: { ...usage(a.gen), prompt_tokens_details: null },
  };
}

/** SGLang's completions shape is not in the fixtures; it follows its 0.4.6 protocol.py. */
export function completionBody(engine: EngineName, a: Answer) {
  const base = { id: a.id, object: 'text_completion', created: a.created, model: a.model };
  if (engine === 'vllm') {
    return {
      ...base,
      choices: [{ index: 0, text: text(a.gen), logprobs: null, finish_reason: a.gen.finish, stop_reason: null, prompt_logprobs: null }],
      usage: { ...usage(a.gen), prompt_tokens_details: null },
      kv_transfer_params: null,
    };
  }
  return {
    ...base,
    choices: [{ index: 0, text: text(a.gen), logprobs: null, finish_reason: a.gen.finish, matched_stop: a.gen.finish === 'stop' ? EOS_TOKEN_ID : null }],
    usage: { ...usage(a.gen), prompt_tokens_details: null },
  };
}

/** The fixture's (shortened) vector; real length is the model's hidden size. */
const VECTOR = [-0.0452880859375, 0.0179901123046875, -0.0296478271484375, 0.0621337890625, 0.00797271728515625, -0.0185394287109375, 0.0343017578125, -0.0139617919921875];

/** SGLang's embeddings shape is not in the fixtures; it follows its 0.4.6 protocol.py. */
export function embeddingsBody(engine: EngineName, model: string, inputs: number, promptTokens: number) {
  const u = { prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0, prompt_tokens_details: null };
  if (engine === 'vllm') {
    const data = Array.from({ length: inputs }, (_, index) => ({ index, object: 'embedding', embedding: VECTOR }));
    return { id: `embd-${hex32()}`, object: 'list', created: nowSeconds(), model, data, usage: u };
  }
  const data = Array.from({ length: inputs }, (_, index) => ({ embedding: VECTOR, index, object: 'embedding' }));
  return { data, model, object: 'list', usage: u };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function modelsBody(cfg: EngineConfig, loras: LoraAdapter[]) {
  const created = nowSeconds();
  if (cfg.engine === 'sglang') {
    const id = cfg.servedNames[0] as string;
    return { object: 'list', data: [{ id, object: 'model', created, owned_by: 'sglang', root: id, max_model_len: cfg.maxModelLen }] };
  }
  const card = (id: string, root: string, parent: string | null, maxLen: number | null) => ({
    id,
    object: 'model',
    created,
    owned_by: 'vllm',
    root,
    parent,
    max_model_len: maxLen,
    permission: [{
      id: `modelperm-${hex32()}`,
      object: 'model_permission',
      created,
      allow_create_engine: false,
      allow_sampling: true,
      allow_logprobs: true,
      allow_search_indices: false,
      allow_view: true,
      allow_fine_tuning: false,
      organization: '*',
      group: null,
      is_blocking: false,
    }],
  });
  return {
    object: 'list',
    data: [
      ...cfg.servedNames.map((n) => card(n, cfg.model, null, cfg.maxModelLen)),
      ...loras.map((l) => card(l.name, l.path, l.base ?? (cfg.servedNames[0] as string), null)),
    ],
  };
}

/** The OpenAI-style ErrorResponse both engines use on their OpenAI routes; code repeats the status. */
export function errorBody(message: string, type: string, code: number) {
  return { object: 'error', message, type, param: null, code };
}

/**
 * A body that is not JSON. SGLang: the fixture (its parser text lands in `type`). vLLM: FastAPI's
 * RequestValidationError as vLLM renders it (str() of the error list). Python's json message
 * and position are approximated as "Expecting value" at char 0.
 */
export function invalidJsonBody(engine: EngineName) {
  return engine === 'sglang'
    ? errorBody('Invalid request body, error: ', 'Expecting value: line 1 column 1 (char 0)', 400)
    : errorBody("[{'type': 'json_invalid', 'loc': ('body', 0), 'msg': 'JSON decode error', 'input': {}, 'ctx': {'error': 'Expecting value'}}]", 'BadRequestError', 400);
}

export function contextLengthBody(engine: EngineName, route: 'chat' | 'completion', maxLen: number, prompt: number, completion: number) {
  if (engine === 'sglang') {
    return errorBody(
      `Requested token count exceeds the model's maximum context length of ${maxLen} tokens. You requested a total of ${prompt + completion} tokens: ${prompt} tokens from the input messages and ${completion} tokens for the completion. Please reduce the number of tokens in the input messages or the completion to fit within the limit.`,
      'BadRequestError',
      400,
    );
  }
  // The chat route formats f"{e} {e.__cause__}", hence the stray " None" the fixture shows.
  return errorBody(
    `This model's maximum context length is ${maxLen} tokens. However, you requested ${prompt + completion} tokens (${prompt} in the messages, ${completion} in the completion). Please reduce the length of the messages or completion.${route === 'chat' ? ' None' : ''}`,
    'BadRequestError',
    400,
  );
}
