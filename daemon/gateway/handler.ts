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
import { answerError, CLIENT_CLOSED } from './answer-error.js';
import { forward, type ForwardResult } from './forward.js';
import { assertForwardablePath, forwardHeaders } from './forwardable.js';
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

/**
 * Serves one POST /v1/* to its end, and never throws: the client gets an
 * answer (or nothing, once it has gone), and the metrics count exactly the
 * status it got, under the served model once the request names one.
 */
export async function handleInference(
  deps: GatewayDeps,
  headers: RequestHeaders,
  res: ClientResponse,
  route: string,
  raw: Buffer,
  t0: number,
): Promise<void> {
  const label = { model: UNKNOWN_MODEL };
  let status: number;
  try {
    status = await serveRequest(deps, headers, res, route, raw, t0, label);
  } catch (err) {
    status = answerError(deps.log, res, err);
  }
  record(deps, label.model, status, t0);
}

/** A request refused before its body was read (Host, API key, size), or whose client left mid-body. */
export function refuseRequest(deps: GatewayDeps, res: ClientResponse, err: unknown, t0: number): void {
  record(deps, UNKNOWN_MODEL, answerError(deps.log, res, err), t0);
}

function record(deps: GatewayDeps, model: string, status: number, t0: number): void {
  if (status === CLIENT_CLOSED) deps.log.debug({ model }, 'the client closed the connection before its answer was complete');
  deps.metrics.observeRequest({ model, status, durationS: (performance.now() - t0) / 1000 });
}

/** The status the client got; throws what it should get instead. `label.model` is set once a served model is named. */
async function serveRequest(
  deps: GatewayDeps,
  headers: RequestHeaders,
  res: ClientResponse,
  route: string,
  raw: Buffer,
  t0: number,
  label: { model: string },
): Promise<number> {
  // The client's own input first: nothing is woken or leased for a request that cannot go upstream.
  assertForwardablePath(route);
  const upstreamHeaders = forwardHeaders(headers);
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
  if (!target) throw unknownModel(parsed.model, deps.directory.names(deployments));

  const model = parsed.model;
  label.model = model;
  // The requested target, then at most one fallback.
  const fallbacks = fallbackTargets(deps, deployments, target);
  let lastError: (Attempt & { kind: 'unavailable' }) | null = null;
  for (let i = 0; i <= fallbacks.length; i++) {
    if (i > 0 && res.destroyed) return CLIENT_CLOSED;
    const t: ModelTarget = i === 0 ? target : fallbacks[i - 1]!;
    const fallbackName = i === 0 ? null : fallbacks[i - 1]!.requested;
    const hasNext = i < fallbacks.length;
    const attempt = await serveOn(deps, { upstreamHeaders, res, route, parsed, target: t, fallbackName, keepAlive, t0, hasNext });
    if (attempt.kind === 'served') {
      if (fallbackName !== null) deps.metrics.fallback(model, fallbackName);
      return attempt.status;
    }
    lastError = attempt;
    deps.log.warn({ model, deployment: t.deployment, err: attempt.error.message }, hasNext ? 'falling back' : 'request failed');
  }
  throw lastError?.error ?? new HttpError(503, 'model_not_ready', `${model} is not available`);
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
  /** What goes to the engine, checked (see forwardable.ts). */
  upstreamHeaders: Record<string, string>;
  res: ClientResponse;
  /** The target after /v1, query included. */
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
  const q = ctx.route.indexOf('?');
  const injectUsage = parsed.stream && !parsed.includeUsage && USAGE_ROUTES.has(q === -1 ? ctx.route : ctx.route.slice(0, q));
  const body = buildBody(parsed, target, ctx.fallbackName, injectUsage);
  for (;;) {
    let lease: Lease;
    try {
      lease =
        (exclude === null ? deps.supervisor.tryAcquire(target.deployment) : null) ??
        (await waitForLease(deps, parsed.model, target.deployment, res, exclude ?? NO_EXCLUSIONS));
    } catch (err) {
      if (res.destroyed) return { kind: 'served', status: CLIENT_CLOSED };
      const e = toHttpError(err);
      if (exclude !== null && e.code === 'no_other_replica') {
        return { kind: 'unavailable', error: new HttpError(502, 'engine_failed', `${target.deployment}: the engine closed the connection before answering`) };
      }
      if (e.status >= 500) return { kind: 'unavailable', error: e };
      throw e;
    }
    const replica = lease.replica;
    let firstToken = false;
    // From the lease, not from arrival: scale.ttft scales on the engine's own
    // latency, and a cold start or a wait in Berth's queue is not engine load.
    const leasedAt = performance.now();
    let ttftS: number | undefined;
    let result: ForwardResult | undefined;
    deps.metrics.inFlight(parsed.model, 1);
    // The lease ends on every path, a throw included: a leaked one keeps the
    // replica busy for good, so it never idles down and every stop waits out the drain.
    try {
      result = await forward(res, {
        origin: replica.baseUrl,
        path: '/v1' + ctx.route,
        headers: ctx.upstreamHeaders,
        body,
        backend: target.backend,
        stripInjectedUsage: injectUsage,
        divert5xx: ctx.hasNext,
        extraHeaders: { 'x-berth-served-by': target.deployment, 'x-berth-replica': replica.id },
        onFirstToken() {
          if (firstToken) return;
          firstToken = true;
          const now = performance.now();
          deps.metrics.observeFirstToken(parsed.model, (now - ctx.t0) / 1000);
          ttftS = (now - leasedAt) / 1000;
        },
      });
    } finally {
      deps.metrics.inFlight(parsed.model, -1);
      // A request's keep_alive counts only when the engine answered it.
      lease.release(result?.kind === 'done' ? { keepAliveS: ctx.keepAlive, ttftS } : undefined);
    }
    if (result.kind === 'no-response') {
      if (res.destroyed) return { kind: 'served', status: CLIENT_CLOSED };
      if (failedBeforeResponse(result.error) && exclude === null) {
        // The engine died before answering: safe to try another replica once.
        exclude = new Set([replica.id]);
        deps.metrics.retry(parsed.model);
        continue;
      }
      return { kind: 'unavailable', error: new HttpError(502, 'engine_failed', `${target.deployment}: ${result.error.message}`) };
    }
    if (result.kind === 'diverted') {
      return { kind: 'unavailable', error: new HttpError(502, 'engine_error', `${target.deployment} answered ${result.status}`) };
    }
    if (result.usage) deps.metrics.addTokens(parsed.model, result.usage.promptTokens, result.usage.completionTokens);
    return { kind: 'served', status: result.broken && res.destroyed ? CLIENT_CLOSED : result.status };
  }
}

/** The slow path: bounded by the wait limit and by the client staying connected. */
async function waitForLease(deps: GatewayDeps, model: string, deployment: string, res: ClientResponse, exclude: ReadonlySet<string>): Promise<Lease> {
  // The client may have left while the request was read or routed: its 'close' is past.
  if (res.destroyed) throw new Error('client closed the connection');
  const wait = new AbortController();
  const onClose = () => wait.abort(new Error('client closed the connection'));
  res.once('close', onClose);
  const timer = setTimeout(() => wait.abort(new DOMException('wait limit reached', 'TimeoutError')), deps.settings.requestWaitMs);
  deps.metrics.queued(model, 1);
  try {
    return await deps.supervisor.acquire(deployment, { signal: wait.signal, exclude });
  } finally {
    deps.metrics.queued(model, -1);
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
