// One OpenAI request through the gateway: validate, route by `model`, get a
// slot on a ready replica (waking the deployment if it sleeps), forward, and on
// failure retry once on another replica or fall back to another model.
import type { Logger } from 'pino';
import type { Settings } from '../config/settings.js';
import { HttpError, toHttpError } from '../http/errors.js';
import type { ClientResponse, RequestHeaders } from './client-response.js';
import type { Lease, RouteInfo, Supervisor } from '../supervisor/supervisor.js';
import { parseKeepAlive } from './keep-alive.js';
import { UNKNOWN_MODEL, type GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { ModelDirectory, ModelTarget } from './model-directory.js';
import { forward } from './forward.js';
import { refreshAdapters } from './models.js';
import { parseOpenAiBody, rewriteBody, type ParsedRequest } from './request-body.js';
import { failedBeforeResponse } from './upstream.js';

export interface GatewayDeps {
  supervisor: Supervisor;
  directory: ModelDirectory;
  metrics: GatewayMetrics;
  settings: Settings;
  log: Logger;
}

const NO_EXCLUSIONS: ReadonlySet<string> = new Set();

// Routes where Berth may ask for usage in streams (and strip it again).
const USAGE_ROUTES = new Set(['/chat/completions', '/completions']);

type Attempt =
  | { kind: 'served'; status: number }
  /** This target could not serve; `error` is what the client gets if nothing else can. */
  | { kind: 'unavailable'; error: HttpError };

export function unknownModel(model: string, names: string[]): HttpError {
  const list = names.length ? names.join(', ') : 'none (create a deployment first)';
  return new HttpError(404, 'model_not_found', `The model \`${model}\` does not exist. Available models: ${list}`, 'model');
}

export async function handleInference(
  deps: GatewayDeps,
  headers: RequestHeaders,
  res: ClientResponse,
  route: string,
  raw: Buffer,
  t0: number,
): Promise<void> {
  if (raw.length === 0) throw new HttpError(400, 'missing_body', 'expected a JSON request body');
  const parsed = parseOpenAiBody(raw);
  const keepAlive = parseKeepAlive(headers.get('x-berth-keep-alive'), 'header') ?? parseKeepAlive(parsed.json.keep_alive, 'body');

  const deployments = deps.supervisor.routes();
  let target = deps.directory.resolve(parsed.model, deployments);
  if (!target) {
    // Perhaps a LoRA adapter loaded into a vLLM engine since we last asked it.
    await refreshAdapters(deps.supervisor, deps.directory, deployments);
    target = deps.directory.resolve(parsed.model, deployments);
  }
  if (!target) {
    deps.metrics.observeRequest({ model: UNKNOWN_MODEL, status: 404, durationS: (performance.now() - t0) / 1000 });
    throw unknownModel(parsed.model, deps.directory.names(deployments));
  }

  const model = parsed.model;
  deps.metrics.inFlight(model, 1);
  let status = 0;
  try {
    // The requested target, then at most one fallback.
    const fallbacks = fallbackTargets(deps, deployments, target);
    let lastError: (Attempt & { kind: 'unavailable' }) | null = null;
    for (let i = 0; i <= fallbacks.length; i++) {
      const t: ModelTarget = i === 0 ? target : fallbacks[i - 1]!;
      const fallbackName = i === 0 ? null : fallbacks[i - 1]!.requested;
      const hasNext = i < fallbacks.length;
      const attempt = await serveOn(deps, { headers, res, route, parsed, target: t, fallbackName, keepAlive, t0, hasNext });
      if (attempt.kind === 'served') {
        status = attempt.status;
        if (fallbackName !== null) deps.metrics.fallback(model, fallbackName);
        return;
      }
      lastError = attempt;
      deps.log.warn({ model, deployment: t.deployment, err: attempt.error.message }, hasNext ? 'falling back' : 'request failed');
    }
    const error = lastError?.error ?? new HttpError(503, 'model_not_ready', `${model} is not available`);
    status = error.status;
    throw error;
  } finally {
    if (status === 0) status = res.destroyed && !res.writableFinished ? 499 : res.statusCode;
    deps.metrics.inFlight(model, -1);
    deps.metrics.observeRequest({ model, status, durationS: (performance.now() - t0) / 1000 });
  }
}

interface ChainTarget extends ModelTarget {
  /** The name the client (or the fallback list) used for this target. */
  requested: string;
}

const NO_FALLBACKS: readonly ChainTarget[] = [];

function fallbackTargets(deps: GatewayDeps, deployments: RouteInfo[], primary: ModelTarget): readonly ChainTarget[] {
  let spec: RouteInfo['spec'] | undefined;
  for (const d of deployments) if (d.name === primary.deployment) spec = d.spec;
  if (!spec?.fallback.length) return NO_FALLBACKS;
  const out: ChainTarget[] = [];
  for (const name of spec.fallback) {
    const t = deps.directory.resolve(name, deployments);
    if (t && t.deployment !== primary.deployment) out.push({ ...t, requested: name });
  }
  // "The first fallback model that is ready": ready ones first, list order kept.
  const ready = (t: ChainTarget) => deployments.find((d) => d.name === t.deployment)?.ready === true;
  return [...out.filter(ready), ...out.filter((t) => !ready(t))].slice(0, 1);
}

interface ServeContext {
  headers: RequestHeaders;
  res: ClientResponse;
  route: string;
  parsed: ParsedRequest;
  target: ModelTarget;
  /** The fallback model's name when this is a fallback attempt (the body's `model` becomes it). */
  fallbackName: string | null;
  keepAlive: number | null;
  t0: number;
  hasNext: boolean;
}

async function serveOn(deps: GatewayDeps, ctx: ServeContext): Promise<Attempt> {
  const { target, parsed, res } = ctx;
  // Replicas that failed this request; made on the first retry only.
  let exclude: Set<string> | null = null;
  const injectUsage = parsed.stream && !parsed.includeUsage && USAGE_ROUTES.has(ctx.route);
  const body = buildBody(parsed, target, ctx.fallbackName, injectUsage);
  for (;;) {
    let lease: Lease;
    try {
      lease = (exclude === null ? deps.supervisor.tryAcquire(target.deployment) : null) ?? (await waitForLease(deps, target.deployment, res, exclude ?? NO_EXCLUSIONS));
    } catch (err) {
      if (res.destroyed) return { kind: 'served', status: 499 };
      const e = toHttpError(err);
      if (exclude !== null && e.code === 'no_other_replica') {
        return { kind: 'unavailable', error: new HttpError(502, 'engine_failed', `${target.deployment}: the engine closed the connection before answering`) };
      }
      if (e.status >= 500) return { kind: 'unavailable', error: e };
      throw e;
    }
    const replica = lease.replica;
    let firstToken = false;
    const result = await forward(res, {
      origin: replica.baseUrl,
      path: '/v1' + ctx.route,
      headers: forwardHeaders(ctx.headers),
      body,
      backend: target.backend,
      stripInjectedUsage: injectUsage,
      divert5xx: ctx.hasNext,
      extraHeaders: { 'x-berth-served-by': target.deployment, 'x-berth-replica': replica.id },
      onFirstToken() {
        if (firstToken) return;
        firstToken = true;
        deps.metrics.observeFirstToken(parsed.model, (performance.now() - ctx.t0) / 1000);
      },
    });
    if (result.kind === 'no-response') {
      lease.release();
      if (res.destroyed) return { kind: 'served', status: 499 };
      if (failedBeforeResponse(result.error) && exclude === null) {
        // The engine died before answering: safe to try another replica once.
        exclude = new Set([replica.id]);
        deps.metrics.retry(parsed.model);
        continue;
      }
      return { kind: 'unavailable', error: new HttpError(502, 'engine_failed', `${target.deployment}: ${result.error.message}`) };
    }
    if (result.kind === 'diverted') {
      lease.release();
      return { kind: 'unavailable', error: new HttpError(502, 'engine_error', `${target.deployment} answered ${result.status}`) };
    }
    lease.release({ keepAliveS: ctx.keepAlive });
    if (result.usage) deps.metrics.addTokens(parsed.model, result.usage.promptTokens, result.usage.completionTokens);
    return { kind: 'served', status: result.broken && res.destroyed ? 499 : result.status };
  }
}

/** The slow path: bounded by the wait limit and by the client staying connected. */
async function waitForLease(deps: GatewayDeps, deployment: string, res: ClientResponse, exclude: ReadonlySet<string>): Promise<Lease> {
  const wait = new AbortController();
  const onClose = () => wait.abort(new Error('client closed the connection'));
  res.once('close', onClose);
  const timer = setTimeout(() => wait.abort(new DOMException('wait limit reached', 'TimeoutError')), deps.settings.requestWaitMs);
  try {
    return await deps.supervisor.acquire(deployment, { signal: wait.signal, exclude });
  } finally {
    clearTimeout(timer);
    res.off('close', onClose);
  }
}

function buildBody(parsed: ParsedRequest, target: ModelTarget, fallbackName: string | null, includeUsage: boolean): Buffer {
  const set: Record<string, unknown> = {};
  const model: string | undefined = fallbackName ?? undefined;
  // SGLang 0.4.6 picks adapters by `lora_path`, not `model` (which it only
  // echoes): one client convention for both engines.
  if (target.backend === 'sglang' && target.adapter) set.lora_path = target.adapter;
  return rewriteBody(parsed, {
    model,
    dropFields: 'keep_alive' in parsed.json ? ['keep_alive'] : undefined,
    includeUsage: includeUsage || undefined,
    set: Object.keys(set).length ? set : undefined,
  });
}

function forwardHeaders(headers: RequestHeaders): Record<string, string> {
  // The client's Authorization is Berth's key, never the engine's.
  const h: Record<string, string> = { 'content-type': 'application/json' };
  const accept = headers.get('accept');
  if (accept !== undefined) h.accept = accept;
  const id = headers.get('x-request-id');
  if (id !== undefined) h['x-request-id'] = id;
  return h;
}
