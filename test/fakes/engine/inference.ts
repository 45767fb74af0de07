// The inference routes: /v1/chat/completions, /v1/completions, /v1/embeddings. Request
// checks in the engine's order (JSON, model, task), then the failure knobs, then generation
// paced per token. A client that goes away stops the generation: nothing more is written,
// the request counts as aborted, and vLLM logs it as its AsyncLLM does.
import type { Answer } from './bodies.js';
import { chatBody, completionBody, contextLengthBody, embeddingsBody, errorBody, hex32, invalidJsonBody, nowSeconds } from './bodies.js';
import type { EngineConfig } from './config.js';
import { CHAT_PHRASE, COMPLETION_PHRASE, chatPromptTokens, plan, textPromptTokens } from './generation.js';
import type { Ctx } from './http.js';
import { parseJsonObject, readBody, sendJson, startSse } from './http.js';
import { emit, sleep, vllmLine } from './log-lines.js';
import type { LoraRegistry } from './lora.js';
import type { Metrics } from './metrics.js';
import type { SseEvent } from './sse.js';
import { chatStream, completionStream } from './sse.js';
import type { FakeState } from './state.js';

export type InferenceRoute = 'chat' | 'completion' | 'embedding';

/** What the inference routes share with the rest of the running fake. */
export interface Runtime {
  cfg: EngineConfig;
  state: FakeState;
  metrics: Metrics;
  loras: LoraRegistry;
  /** Called once per inference request answered to the end (FAKE_CRASH_AFTER). */
  afterCompleted(): void;
  /** The engine dies now, dropping every open connection (the crash knobs). */
  crash(): void;
}

type Outcome = 'completed' | 'aborted';

export async function handleInference(ctx: Ctx, rt: Runtime, route: InferenceRoute): Promise<void> {
  rt.state.requests += 1;
  // The engine dies while this request is queued: the client gets no response byte at all.
  if (rt.state.requests === rt.cfg.knobs.dieAtRequest) return rt.crash();
  rt.state.inFlight += 1;
  let closed = false;
  ctx.res.on('close', () => {
    if (!ctx.res.writableFinished) closed = true;
  });
  let outcome: Outcome = 'aborted';
  try {
    outcome = await serve(ctx, rt, route, () => closed);
  } catch (err) {
    // A client that resets the connection while we read its body has aborted; anything
    // else is a bug in the fake, for the server's handler to report.
    if (!closed && (err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
  } finally {
    rt.state.inFlight -= 1;
  }
  if (outcome === 'aborted') {
    rt.state.aborted += 1;
    return;
  }
  // Let the answer reach the client before a crash knob takes the process down.
  if (!ctx.res.writableFinished) await new Promise((r) => ctx.res.once('finish', r).once('close', r));
  rt.state.completed += 1;
  rt.afterCompleted();
}

async function serve(ctx: Ctx, rt: Runtime, route: InferenceRoute, isClosed: () => boolean): Promise<Outcome> {
  const { cfg } = rt;
  const { engine, knobs } = cfg;
  const body = parseJsonObject(await readBody(ctx.req));
  const reply = (status: number, b: unknown): Outcome => {
    sendJson(ctx, status, b);
    return 'completed';
  };
  if (!body) return reply(400, invalidJsonBody(engine));

  const requested = typeof body.model === 'string' ? body.model : '';
  let model = requested; // SGLang 0.4.6 never checks the name; it echoes it
  if (engine === 'vllm') {
    // OpenAIServing._check_model: empty or a served name -> base model; then loaded LoRAs; else 404.
    if (!requested) model = cfg.servedNames[0] as string;
    else if (!cfg.servedNames.includes(requested) && !rt.loras.has(requested)) {
      return reply(404, errorBody(`The model \`${requested}\` does not exist.`, 'NotFoundError', 404));
    }
    const unsupported = taskRejects(cfg.task, route);
    if (unsupported) return reply(400, errorBody(`The model does not support ${unsupported} API`, 'BadRequestError', 400));
  }
  if (knobs.http500) return reply(500, errorBody('Internal error injected by FAKE_HTTP_500.', 'InternalServerError', 500));
  if (knobs.hang) {
    while (!isClosed()) await sleep(50);
    return 'aborted';
  }
  if (route === 'embedding') {
    const input = body.input;
    const inputs = Array.isArray(input) && !input.every((x) => typeof x === 'number') ? input.length : 1;
    return reply(200, embeddingsBody(engine, model, inputs, textPromptTokens(input)));
  }

  const promptTokens = route === 'chat' ? chatPromptTokens(body.messages) : textPromptTokens(body.prompt);
  const rawMax = body.max_completion_tokens ?? body.max_tokens;
  const maxTokens = typeof rawMax === 'number' ? rawMax : null;
  if (maxTokens !== null && promptTokens + maxTokens > cfg.maxModelLen) {
    return reply(400, contextLengthBody(engine, route, cfg.maxModelLen, promptTokens, maxTokens));
  }
  const gen = plan(route === 'chat' ? CHAT_PHRASE : COMPLETION_PHRASE, knobs.tokens, maxTokens, promptTokens);
  const idPrefix = engine === 'sglang' ? '' : route === 'chat' ? 'chatcmpl-' : 'cmpl-';
  const answer: Answer = { id: idPrefix + hex32(), created: nowSeconds(), model, gen };

  const opts = (body.stream_options ?? {}) as { include_usage?: unknown; continuous_usage_stats?: unknown };
  const events: SseEvent[] | null =
    body.stream === true
      ? (route === 'chat' ? chatStream : completionStream)(engine, answer, {
          includeUsage: opts.include_usage === true,
          continuousUsage: opts.continuous_usage_stats === true,
        })
      : null;
  const clock = new TokenClock();
  if (events) startSse(ctx);
  for (const e of events ?? gen.tokens.map((): SseEvent => ({ afterToken: true, data: '' }))) {
    if (e.afterToken) await clock.token(knobs.tokenDelayMs);
    if (isClosed()) return aborted(rt, answer, clock);
    if (e.data) ctx.res.write(e.data);
  }
  if (events) ctx.res.end();
  else sendJson(ctx, 200, (route === 'chat' ? chatBody : completionBody)(engine, answer));
  rt.state.completedTokens += gen.tokens.length;
  rt.metrics.record({ ...clock.times(), prompt: promptTokens, completion: gen.tokens.length, finish: gen.finish, maxTokens: maxTokens ?? cfg.maxModelLen - promptTokens });
  return 'completed';
}

/** vLLM --task: the fake's model serves every API under 'auto'; a pinned task narrows it. */
function taskRejects(task: string, route: InferenceRoute): string | null {
  const embed = task === 'embed' || task === 'embedding';
  if (route === 'embedding') return task === 'auto' || embed ? null : 'Embeddings';
  if (!embed) return null;
  return route === 'chat' ? 'Chat Completions' : 'Completions';
}

function aborted(rt: Runtime, a: Answer, clock: TokenClock): Outcome {
  if (rt.cfg.engine === 'vllm' && rt.cfg.logRequests) {
    // AsyncLLM.abort logs this when request logging is on (the default). The line number is
    // not verified against the 0.9.0.1 tag.
    emit('vllm', vllmLine('INFO', 'async_llm.py:420', `Aborted request ${a.id}.`));
  }
  rt.metrics.record({ ...clock.times(), prompt: a.gen.promptTokens, completion: 0, finish: 'abort', maxTokens: 0 });
  return 'aborted';
}

/** Paces tokens and measures what the engines' latency histograms measure. */
class TokenClock {
  private readonly start = performance.now();
  private first: number | undefined;
  private last = this.start;
  private readonly gaps: number[] = [];

  async token(delayMs: number): Promise<void> {
    if (delayMs > 0) await sleep(delayMs);
    const now = performance.now();
    if (this.first === undefined) this.first = now;
    else this.gaps.push((now - this.last) / 1000);
    this.last = now;
  }

  times() {
    return { ttft: ((this.first ?? this.last) - this.start) / 1000, e2e: (performance.now() - this.start) / 1000, interToken: this.gaps };
  }
}
