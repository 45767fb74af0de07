// Shape of GET /api/v1/deployments/:name/stats: the gateway's own counters for
// the deployment's served names plus a live read of each replica's engine
// gauges. Plain types only, so the UI can import them without prom-client.
import type { ReplicaState } from './api.js';

/**
 * A latency histogram reduced to what a stats panel shows. All values are in
 * seconds. The quantiles are estimated from bucket counts the way PromQL's
 * histogram_quantile does it: linear inside the bucket that holds the rank, and
 * the highest finite bound when the rank falls in +Inf. So they are only as
 * fine as the buckets. They are null until something has been observed.
 */
export interface LatencySummary {
  count: number;
  sumS: number;
  p50S: number | null;
  p95S: number | null;
}

/** A count and a mean in seconds; the mean is null until the first event. */
export interface DurationSummary {
  count: number;
  avgS: number | null;
}

/**
 * Totals since the daemon started, summed over the deployment's served names
 * (the base name and any aliases or adapters it answers to). Counters restart
 * at zero with the daemon. Rates are left to the reader, who can diff two
 * snapshots taken a known time apart.
 */
export interface GatewayStatsSnapshot {
  /** The served names these totals cover. */
  models: string[];
  requests: {
    total: number;
    /** Keyed by the HTTP status code as a string ("200", "429", ...). Only statuses seen appear. */
    byStatus: Record<string, number>;
  };
  /** Requests sent upstream and not yet finished, at the moment of the snapshot. */
  inFlight: number;
  /** Requests the gateway holds before sending them upstream (waiting for a ready replica). */
  queued: number;
  /** Tokens the gateway recorded from responses' `usage`; requests without usage add nothing. */
  tokens: { prompt: number; completion: number };
  /** Gateway-side wall time per request, queueing and cold start included. */
  requestDuration: LatencySummary;
  /** Gateway-side time until the first streamed token reached the client. */
  timeToFirstToken: LatencySummary;
  /** Cold starts of this deployment's replicas and how long they took. */
  coldStarts: DurationSummary;
  /** Swaps that brought this deployment in and how long they took. */
  swaps: DurationSummary;
  /** Upstream attempts the gateway repeated for these names. */
  retries: number;
  /** Requests for these names the gateway sent on to a fallback model, whatever the target. */
  fallbacks: number;
}

/**
 * The few engine gauges the UI shows, read from the engine's own /metrics.
 * Each is null when the engine did not report it (older versions, a metric
 * that appears only after the first request, SGLang without --enable-metrics).
 */
export interface EngineGauges {
  /** Requests in the running batch: vLLM `vllm:num_requests_running`, SGLang `sglang:num_running_reqs`. */
  runningRequests: number | null;
  /** Requests waiting in the engine's scheduler: vLLM `vllm:num_requests_waiting`, SGLang `sglang:num_queue_reqs`. */
  waitingRequests: number | null;
  /**
   * Fraction of the KV cache in use, 0..1: vLLM `vllm:gpu_cache_usage_perc` (a
   * fraction despite the name), SGLang `sglang:token_usage`.
   */
  kvCacheUsage: number | null;
  /** Cumulative prompt (prefill) tokens since the engine started. */
  promptTokensTotal: number | null;
  /** Cumulative generated tokens since the engine started. */
  generationTokensTotal: number | null;
}

export interface EngineStats {
  replica: string;
  /** null while the replica has no port (pending, stopped). */
  port: number | null;
  state: ReplicaState;
  /** null when the engine was not scraped (not ready) or the scrape failed. */
  gauges: EngineGauges | null;
  /** Why `gauges` is null after a scrape was attempted, in plain words. */
  error: string | null;
}

export interface DeploymentStats {
  name: string;
  gateway: GatewayStatsSnapshot;
  engines: EngineStats[];
  /** ISO 8601 time the stats were gathered. */
  at: string;
}
