// The gateway's Prometheus metrics: what clients experienced (status, latency,
// time to first token, tokens) and what the supervisor did for them (cold
// starts, swaps, retries, fallbacks). Served as text on /metrics and reduced
// to a typed snapshot for the stats API.
//
// The registry is our own, not prom-client's global one, so two daemons in one
// test process (or a library user's own metrics) never collide on names.
//
// Label cardinality is the caller's job and must stay bounded: `model` and
// `to` are served names from the configuration, never raw request input. A
// request for a name no deployment serves, or refused before it named one
// (bad path or body, API key, size, a client gone mid-body), is recorded as
// model="unknown" (UNKNOWN_MODEL), else a client looping over random names
// would grow the registry, and every scrape, without limit.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REPLICA_STATES } from '../contract/api.js';
import type { DurationSummary, GatewayStatsSnapshot, LatencySummary } from '../contract/stats.js';

/** The `model` label value for requests naming no served model (or none at all). */
export const UNKNOWN_MODEL = 'unknown';

/** One row of the replica census; rows with the same deployment and state add up. */
export interface ReplicaStateCount {
  deployment: string;
  state: string;
  count: number;
}

export interface GatewayMetricsOptions {
  /**
   * Called on every scrape. Every deployment it names gets a series for every
   * replica state, zeros included, so a dashboard sees 0 rather than a gap
   * when the last replica leaves a state. A deployment it no longer names
   * disappears from the output; to keep one with no replicas (scaled to zero)
   * on the dashboard, name it in a row with count 0.
   */
  replicaStates: () => ReplicaStateCount[];
}

// Seconds. From a cached /v1/models answer (milliseconds) to a long generation
// or a request that waited out a cold start (minutes); 300 s is where clients
// commonly give up.
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 180, 300];
// Time to first token is milliseconds when warm, but a request that triggered
// a start waits for the whole engine load before its first token.
const TTFT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
// Engine starts: weight loading, CUDA graph capture and torch.compile take
// tens of seconds for small models and many minutes for large ones.
const STARTUP_BUCKETS = [1, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800];

// What prom-client's get() returns per series, for counters, gauges and
// histograms alike (histograms add metricName: `_bucket`, `_sum`, `_count`).
type Values = readonly { value: number; labels: Partial<Record<string, string | number>>; metricName?: string }[];

interface ModelSeries {
  duration: Histogram.Internal<'model'>;
  ttft: Histogram.Internal<'model'>;
  // Plain numbers, handed to prom-client at scrape time (see tally()).
  /** Usage was reported at least once: the token series exist (at 0 if need be). */
  tokens: boolean;
  prompt: number;
  completion: number;
  /** Requests went upstream at least once: the in-flight series exists. */
  sent: boolean;
  inFlight: number;
}

/** Totals since the daemon started, for one deployment's served names (see counters()). */
export interface GatewayCounters {
  requests: number;
  completionTokens: number;
  ttftCount: number;
  /** Cumulative count per upper bound in seconds, sorted, +Inf last; empty before the first observation. */
  ttftBuckets: [number, number][];
}

interface StatusCount {
  model: string;
  status: string;
  count: number;
}

export class GatewayMetrics {
  private readonly registry = new Registry();

  private readonly requests: Counter<'model' | 'status'>;
  private readonly requestDuration: Histogram<'model'>;
  private readonly ttft: Histogram<'model'>;
  private readonly promptTokens: Counter<'model'>;
  private readonly completionTokens: Counter<'model'>;
  private readonly inFlightGauge: Gauge<'model'>;
  private readonly queuedGauge: Gauge<'model'>;
  private readonly coldStart: Histogram<'deployment'>;
  private readonly swap: Histogram<'deployment'>;
  private readonly retries: Counter<'model'>;
  private readonly fallbacks: Counter<'model' | 'to'>;

  constructor(opts: GatewayMetricsOptions) {
    const registers = [this.registry];
    // prom-client samples event-loop lag with a 10 ms libuv timer by default,
    // which wakes an idle daemon 100 times a second (seen in strace) and keeps
    // a laptop's CPU out of deep sleep. Once a second still shows a stalled loop.
    collectDefaultMetrics({ register: this.registry, prefix: 'berth_', eventLoopMonitoringPrecision: 1000 });

    const byModel = this.byModel;
    const byModelStatus = this.byModelStatus;
    this.requests = new Counter({
      name: 'berth_requests_total',
      help: 'Requests answered by the gateway, by served model and the HTTP status the client got (499: it left first).',
      labelNames: ['model', 'status'],
      registers,
      collect() {
        this.reset();
        for (const c of byModelStatus.values()) this.inc({ model: c.model, status: c.status }, c.count);
      },
    });
    this.requestDuration = new Histogram({
      name: 'berth_request_duration_seconds',
      help: 'Gateway wall time per request, queueing and cold start included.',
      labelNames: ['model'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.ttft = new Histogram({
      name: 'berth_time_to_first_token_seconds',
      help: 'Time from request arrival to the first streamed token sent to the client.',
      labelNames: ['model'],
      buckets: TTFT_BUCKETS,
      registers,
    });
    this.promptTokens = new Counter({
      name: 'berth_prompt_tokens_total',
      help: 'Prompt tokens reported in response usage.',
      labelNames: ['model'],
      registers,
      collect() {
        this.reset();
        for (const [model, series] of byModel) if (series.tokens) this.inc({ model }, series.prompt);
      },
    });
    this.completionTokens = new Counter({
      name: 'berth_completion_tokens_total',
      help: 'Completion tokens reported in response usage.',
      labelNames: ['model'],
      registers,
      collect() {
        this.reset();
        for (const [model, series] of byModel) if (series.tokens) this.inc({ model }, series.completion);
      },
    });
    this.inFlightGauge = new Gauge({
      name: 'berth_requests_in_flight',
      help: 'Requests sent upstream and not yet finished.',
      labelNames: ['model'],
      registers,
      collect() {
        for (const [model, series] of byModel) if (series.sent) this.set({ model }, series.inFlight);
      },
    });
    this.queuedGauge = new Gauge({
      name: 'berth_requests_queued',
      help: 'Requests held by the gateway waiting for a ready replica.',
      labelNames: ['model'],
      registers,
    });
    const replicaStates = opts.replicaStates;
    // Kept by the registry, read only through its collect() at scrape time.
    new Gauge({
      name: 'berth_replicas',
      help: 'Replicas per deployment and state.',
      labelNames: ['deployment', 'state'],
      registers,
      // Filled at scrape time from the supervisor's census rather than kept
      // in step with every transition: nothing can drift, and a deleted
      // deployment's series go away with the reset.
      collect() {
        this.reset();
        const counts = new Map<string, Map<string, number>>();
        for (const { deployment, state, count } of replicaStates()) {
          let byState = counts.get(deployment);
          if (!byState) {
            byState = new Map(REPLICA_STATES.map((s) => [s, 0]));
            counts.set(deployment, byState);
          }
          byState.set(state, (byState.get(state) ?? 0) + count);
        }
        for (const [deployment, byState] of counts) {
          for (const [state, count] of byState) this.set({ deployment, state }, count);
        }
      },
    });
    this.coldStart = new Histogram({
      name: 'berth_cold_start_duration_seconds',
      help: 'Time for a replica of the deployment to go from start to ready.',
      labelNames: ['deployment'],
      buckets: STARTUP_BUCKETS,
      registers,
    });
    this.swap = new Histogram({
      name: 'berth_swap_duration_seconds',
      help: 'Time to swap the deployment in, stopping what it replaced included.',
      labelNames: ['deployment'],
      buckets: STARTUP_BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: 'berth_upstream_retries_total',
      help: 'Upstream attempts repeated by the gateway.',
      labelNames: ['model'],
      registers,
    });
    this.fallbacks = new Counter({
      name: 'berth_fallbacks_total',
      help: 'Requests sent on to a fallback model, by requested model and fallback.',
      labelNames: ['model', 'to'],
      registers,
    });
  }

  // Every recorder drops values prom-client would throw on or that would
  // corrupt a series (NaN, negative durations or counts): a metrics call must
  // never fail the request that reports it.

  // The per-request recorders keep counts in plain numbers that the metrics'
  // collect() hands to prom-client at scrape time: prom-client hashes the label
  // object on every inc(), label children included, a measurable share of the
  // gateway's per-request CPU at thousands of requests per second. Histograms
  // keep prom-client's children: their buckets are its business.
  private readonly byModel = new Map<string, ModelSeries>();
  private readonly byModelStatus = new Map<string, StatusCount>();

  private series(model: string): ModelSeries {
    let s = this.byModel.get(model);
    if (!s) {
      s = {
        duration: this.requestDuration.labels({ model }),
        ttft: this.ttft.labels({ model }),
        tokens: false,
        prompt: 0,
        completion: 0,
        sent: false,
        inFlight: 0,
      };
      this.byModel.set(model, s);
    }
    return s;
  }

  observeRequest(o: { model: string; status: number; durationS: number }): void {
    const key = `${o.model}\u0000${o.status}`;
    let counter = this.byModelStatus.get(key);
    if (!counter) this.byModelStatus.set(key, (counter = { model: o.model, status: String(o.status), count: 0 }));
    counter.count++;
    if (isNonNegative(o.durationS)) this.series(o.model).duration.observe(o.durationS);
  }

  observeFirstToken(model: string, seconds: number): void {
    if (isNonNegative(seconds)) this.series(model).ttft.observe(seconds);
  }

  addTokens(model: string, prompt: number, completion: number): void {
    const s = this.series(model);
    s.tokens = true;
    if (isNonNegative(prompt)) s.prompt += prompt;
    if (isNonNegative(completion)) s.completion += completion;
  }

  inFlight(model: string, delta: 1 | -1): void {
    const s = this.series(model);
    s.sent = true;
    s.inFlight += delta;
  }

  queued(model: string, delta: 1 | -1): void {
    this.queuedGauge.inc({ model }, delta);
  }

  observeColdStart(deployment: string, seconds: number): void {
    if (isNonNegative(seconds)) this.coldStart.observe({ deployment }, seconds);
  }

  observeSwap(deployment: string, seconds: number): void {
    if (isNonNegative(seconds)) this.swap.observe({ deployment }, seconds);
  }

  retry(model: string): void {
    this.retries.inc({ model });
  }

  fallback(model: string, to: string): void {
    this.fallbacks.inc({ model, to });
  }

  /**
   * The running totals the stats sampler diffs between two ticks, summed over
   * `models` (a deployment's served names): requests answered, completion
   * tokens, and the time-to-first-token histogram's cumulative buckets.
   */
  async counters(models: readonly string[]): Promise<GatewayCounters> {
    const names = new Set(models);
    let requests = 0;
    for (const c of this.byModelStatus.values()) if (names.has(c.model)) requests += c.count;
    let completionTokens = 0;
    for (const [model, s] of this.byModel) if (names.has(model)) completionTokens += s.completion;
    const ttft = histogramParts((await this.ttft.get()).values.filter((x) => names.has(String(x.labels.model))));
    return { requests, completionTokens, ttftCount: ttft.count, ttftBuckets: ttft.buckets };
  }

  /** The Prometheus text for GET /metrics, and the Content-Type to send with it. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * Totals for one deployment: `models` are the served names it answers to
   * (request-side series), `deployment` its name (cold starts and swaps).
   */
  async snapshot(models: string[], deployment: string): Promise<GatewayStatsSnapshot> {
    const names = new Set(models);
    const forModels = (v: Values) => v.filter((x) => names.has(String(x.labels.model)));
    const forDeployment = (v: Values) => v.filter((x) => x.labels.deployment === deployment);

    const [requests, duration, ttft, prompt, completion, inFlight, queued, cold, swap, retries, fallbacks] =
      await Promise.all([
        this.requests.get(),
        this.requestDuration.get(),
        this.ttft.get(),
        this.promptTokens.get(),
        this.completionTokens.get(),
        this.inFlightGauge.get(),
        this.queuedGauge.get(),
        this.coldStart.get(),
        this.swap.get(),
        this.retries.get(),
        this.fallbacks.get(),
      ]);

    const byStatus: Record<string, number> = {};
    for (const v of forModels(requests.values)) {
      const status = String(v.labels.status);
      byStatus[status] = (byStatus[status] ?? 0) + v.value;
    }

    return {
      models: [...names],
      requests: { total: sum(forModels(requests.values)), byStatus },
      inFlight: sum(forModels(inFlight.values)),
      queued: sum(forModels(queued.values)),
      tokens: { prompt: sum(forModels(prompt.values)), completion: sum(forModels(completion.values)) },
      requestDuration: latencySummary(forModels(duration.values)),
      timeToFirstToken: latencySummary(forModels(ttft.values)),
      coldStarts: durationSummary(forDeployment(cold.values)),
      swaps: durationSummary(forDeployment(swap.values)),
      retries: sum(forModels(retries.values)),
      fallbacks: sum(forModels(fallbacks.values)),
    };
  }
}

function isNonNegative(n: number): boolean {
  return Number.isFinite(n) && n >= 0;
}

function sum(values: Values): number {
  return values.reduce((acc, v) => acc + v.value, 0);
}

/** Values of one histogram, already filtered to the label sets wanted. */
function histogramParts(values: Values): { count: number; sumS: number; buckets: [number, number][] } {
  let count = 0;
  let sumS = 0;
  // Cumulative counts per upper bound, added across label sets: they share
  // one bucket layout, so the merged histogram is the element-wise sum.
  const buckets = new Map<number, number>();
  for (const v of values) {
    const metricName = v.metricName ?? '';
    if (metricName.endsWith('_bucket')) {
      const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + v.value);
    } else if (metricName.endsWith('_sum')) sumS += v.value;
    else if (metricName.endsWith('_count')) count += v.value;
  }
  return { count, sumS, buckets: [...buckets].sort((a, b) => a[0] - b[0]) };
}

function latencySummary(values: Values): LatencySummary {
  const { count, sumS, buckets } = histogramParts(values);
  return { count, sumS, p50S: histogramQuantile(0.5, buckets, count), p95S: histogramQuantile(0.95, buckets, count) };
}

function durationSummary(values: Values): DurationSummary {
  const { count, sumS } = histogramParts(values);
  return { count, avgS: count > 0 ? sumS / count : null };
}

/**
 * PromQL's histogram_quantile over cumulative (upper bound, count) pairs
 * sorted by bound, +Inf last: find the bucket holding rank q·count and
 * interpolate linearly inside it, the lowest bucket starting at 0. A rank in
 * the +Inf bucket has no upper edge to interpolate to, so the answer is the
 * highest finite bound: "at least this much".
 */
export function histogramQuantile(q: number, buckets: [number, number][], count: number): number | null {
  if (count <= 0 || buckets.length === 0) return null;
  const rank = q * count;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, cumulative] of buckets) {
    if (cumulative >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return prevBound;
      const inBucket = cumulative - prevCount;
      if (inBucket <= 0) return bound;
      return prevBound + (bound - prevBound) * ((rank - prevCount) / inBucket);
    }
    prevBound = bound;
    prevCount = cumulative;
  }
  return prevBound;
}
