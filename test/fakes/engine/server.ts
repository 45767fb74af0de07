// The engine's HTTP surface: which routes exist for which engine and settings, the API-key
// middleware, and FastAPI's answers for everything else (`{"detail":"Not Found"}` 404,
// `{"detail":"Method Not Allowed"}` 405).
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { modelsBody } from './bodies.js';
import type { Ctx } from './http.js';
import { sendBody, sendJson } from './http.js';
import type { InferenceRoute, Runtime } from './inference.js';
import { handleInference } from './inference.js';

type Handler = (ctx: Ctx) => void | Promise<void>;
type Routes = Map<string, Partial<Record<string, Handler>>>;

export interface Readiness {
  /** SGLang: /health_generate answers 200 only after the warm-up. */
  generateReady: boolean;
}

const PROMETHEUS = 'text/plain; version=0.0.4; charset=utf-8';

function routes(rt: Runtime, readiness: Readiness): Routes {
  const { cfg } = rt;
  const empty = (status: number) => (ctx: Ctx) => sendBody(ctx, status, '', null);
  const infer = (r: InferenceRoute) => (ctx: Ctx) => handleInference(ctx, rt, r);
  const r: Routes = new Map();
  const add = (path: string, methods: Record<string, Handler>) => r.set(path, methods);

  add('/health', { GET: empty(200) });
  add('/v1/models', { GET: (ctx) => sendJson(ctx, 200, modelsBody(cfg, rt.loras.adapters)) });
  add('/v1/chat/completions', { POST: infer('chat') });
  add('/v1/completions', { POST: infer('completion') });
  add('/v1/embeddings', { POST: infer('embedding') });
  if (cfg.metricsEnabled) add('/metrics', { GET: (ctx) => sendBody(ctx, 200, rt.metrics.render(rt.state.inFlight), PROMETHEUS) });
  add('/fake/state', { GET: (ctx) => sendJson(ctx, 200, rt.state.body()) });

  if (cfg.engine === 'vllm') {
    add('/ping', { GET: empty(200), POST: empty(200) });
    add('/version', { GET: (ctx) => sendJson(ctx, 200, { version: cfg.version }) });
    if (cfg.runtimeLora) {
      add('/v1/load_lora_adapter', { POST: (ctx) => rt.loras.load(ctx) });
      add('/v1/unload_lora_adapter', { POST: (ctx) => rt.loras.unload(ctx) });
    }
  } else {
    add('/ping', { GET: empty(200) });
    add('/health_generate', { GET: (ctx) => empty(readiness.generateReady ? 200 : 503)(ctx) });
    add('/get_model_info', {
      GET: (ctx) => sendJson(ctx, 200, { model_path: cfg.model, tokenizer_path: cfg.model, is_generation: cfg.task !== 'embed' }),
    });
  }
  return r;
}

/**
 * vLLM checks `Authorization: Bearer <key>` only on paths under /v1 (401 `{"error":"Unauthorized"}`);
 * SGLang on every path except /health* and /metrics*. OPTIONS is never checked.
 */
function authorized(rt: Runtime, req: IncomingMessage, path: string): boolean {
  const key = rt.cfg.apiKey;
  if (!key || req.method === 'OPTIONS' || path.startsWith('/fake/')) return true;
  const guarded = rt.cfg.engine === 'vllm' ? path.startsWith('/v1') : !/^\/(health|metrics)/.test(path);
  return !guarded || req.headers.authorization === `Bearer ${key}`;
}

export function createEngineServer(rt: Runtime, readiness: Readiness): Server {
  const table = routes(rt, readiness);
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const ctx: Ctx = { req, res, cfg: rt.cfg, method: req.method ?? 'GET', path };
    if (!authorized(rt, req, path)) return sendJson(ctx, 401, { error: 'Unauthorized' });
    const methods = table.get(path);
    if (!methods) return sendJson(ctx, 404, { detail: 'Not Found' });
    const handler = methods[ctx.method];
    if (!handler) return sendJson(ctx, 405, { detail: 'Method Not Allowed' });
    Promise.resolve(handler(ctx)).catch((err: unknown) => {
      process.stderr.write(`fake engine: handler for ${path} failed: ${String(err)}\n`);
      sendBody(ctx, 500, 'Internal Server Error', 'text/plain; charset=utf-8');
    });
  });
}
