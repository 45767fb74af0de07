// The arithmetic of the sampled stats: rates and latency quantiles over the
// interval between two readings of the gateway's running totals, and the
// bounded history the charts read. Pure: the sampler (sampler.ts) owns the
// timer and the I/O.
import type { LiveStats } from '../contract/live.js';
import { RingBuffer } from '../logs/ring-buffer.js';
import { type GatewayCounters, histogramQuantile } from './gateway-metrics.js';

/** One reading of a deployment's totals, at `atMs` (epoch milliseconds). */
export interface Reading {
  atMs: number;
  counters: GatewayCounters;
}

/** What a sample knows besides the totals: the gauges of that moment. */
export interface Gauges {
  inFlight: number;
  queued: number;
  kvCacheUsage: number | null;
}

/**
 * A counter's increase from `prev` to `cur`. A drop means it restarted from
 * zero (PromQL's rate() makes the same assumption), so everything it holds
 * now is new.
 */
export const increase = (prev: number, cur: number): number => (cur >= prev ? cur - prev : cur);

/**
 * Cumulative (bound, count) buckets of the observations made between two
 * readings of one histogram. Bounds missing from `prev` (it had seen nothing
 * yet) count from zero; a bucket that dropped means the histogram restarted,
 * so the whole of `cur` is new.
 */
export function bucketIncrease(prev: readonly [number, number][], cur: readonly [number, number][]): [number, number][] {
  const before = new Map(prev);
  const out: [number, number][] = [];
  for (const [bound, count] of cur) {
    const was = before.get(bound) ?? 0;
    if (count < was) return cur.map(([b, c]) => [b, c]);
    out.push([bound, count - was]);
  }
  return out;
}

/**
 * One deployment's LiveStats from two readings. Rates are per second over the
 * real time between them (a tick that ran late still gives true rates, and
 * `rate × seconds` over a history adds up to the requests served). Without a
 * previous reading (the deployment was just seen) rates are 0 and the
 * quantiles null: there is no interval yet.
 */
export function liveStats(name: string, prev: Reading | null, cur: Reading, gauges: Gauges): LiveStats {
  const seconds = prev ? (cur.atMs - prev.atMs) / 1000 : 0;
  const base = { name, at: new Date(cur.atMs).toISOString(), ...gauges };
  if (!prev || seconds <= 0) return { ...base, requestsPerS: 0, tokensPerS: 0, ttftP50S: null, ttftP95S: null };
  const buckets = bucketIncrease(prev.counters.ttftBuckets, cur.counters.ttftBuckets);
  const streams = increase(prev.counters.ttftCount, cur.counters.ttftCount);
  return {
    ...base,
    requestsPerS: increase(prev.counters.requests, cur.counters.requests) / seconds,
    tokensPerS: increase(prev.counters.completionTokens, cur.counters.completionTokens) / seconds,
    ttftP50S: histogramQuantile(0.5, buckets, streams),
    ttftP95S: histogramQuantile(0.95, buckets, streams),
  };
}

/** The highest KV-cache use among the engines that reported one; null when none did. */
export function highestKvUsage(values: readonly (number | null)[]): number | null {
  let max: number | null = null;
  for (const v of values) if (v !== null && Number.isFinite(v) && (max === null || v > max)) max = v;
  return max;
}

/** The last `capacity` samples of every deployment, and forgetting the ones that are gone. */
export class StatsHistory {
  private readonly rings = new Map<string, RingBuffer<LiveStats>>();

  constructor(readonly capacity: number) {}

  add(s: LiveStats): void {
    let ring = this.rings.get(s.name);
    if (!ring) this.rings.set(s.name, (ring = new RingBuffer<LiveStats>(this.capacity)));
    ring.push(s);
  }

  /** Oldest first; empty for a deployment without samples. */
  points(name: string): LiveStats[] {
    return this.rings.get(name)?.tail() ?? [];
  }

  /** Drops every deployment not in `names` (deleted: a new one of the same name starts afresh). */
  keepOnly(names: ReadonlySet<string>): void {
    for (const name of this.rings.keys()) if (!names.has(name)) this.rings.delete(name);
  }
}
