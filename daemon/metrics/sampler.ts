// Samples every deployment's numbers on a fixed tick: the gateway's running
// totals (diffed into rates and TTFT quantiles by live-stats.ts), in-flight
// and queued requests, and the engines' KV-cache gauge. Each tick's samples
// go to the event stream and into an hour of history per deployment, which
// the charts load when a page opens.
import type { Backend } from '../contract/deployment.js';
import type { DeploymentHistory, LiveStats } from '../contract/live.js';
import type { EngineScrape } from './engine-stats.js';
import type { GatewayCounters } from './gateway-metrics.js';
import { highestKvUsage, liveStats, StatsHistory, type Reading } from './live-stats.js';

/**
 * 2 s: a chart of the last minutes moves smoothly and a burst shows within
 * two seconds, while a tick costs little (in-process counters, and one
 * /metrics GET per ready engine, which the engine renders in a millisecond or
 * two); an hour is 1,800 points per deployment. Faster would mostly chart
 * noise: rates over one second of a handful of requests jump between 0 and N.
 */
export const SAMPLE_INTERVAL_MS = 2_000;
export const HISTORY_MS = 60 * 60_000;

/** One deployment as the sampler sees it at a tick. */
export interface SampleTarget {
  name: string;
  /** The served names its gateway series are labelled with. */
  models: readonly string[];
  backend: Backend;
  inFlight: number;
  queued: number;
  /** Ready replicas only: an engine still loading has no /metrics worth reading. */
  engines: readonly { replica: string; metricsUrl: string }[];
}

export interface SamplerDeps {
  targets(): SampleTarget[];
  counters(models: readonly string[]): Promise<GatewayCounters>;
  scrape(url: string, backend: Backend, timeoutMs: number): Promise<EngineScrape>;
  publish(stats: LiveStats[]): void;
  intervalMs?: number;
  historyMs?: number;
  now?: () => number;
}

interface Scraped {
  atMs: number;
  kv: number | null;
}

export class StatsSampler {
  readonly intervalMs: number;
  private readonly history: StatsHistory;
  private readonly readings = new Map<string, Reading>();
  private current: LiveStats[] = [];
  /** The last answer of each ready replica's engine, and which are being asked now. */
  private readonly scraped = new Map<string, Scraped>();
  private readonly scraping = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly deps: SamplerDeps) {
    this.intervalMs = deps.intervalMs ?? SAMPLE_INTERVAL_MS;
    this.history = new StatsHistory(Math.ceil((deps.historyMs ?? HISTORY_MS) / this.intervalMs));
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  /** Stops the tick. A scrape still in flight ends on its own timeout and is then ignored. */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The newest sample of every deployment. */
  latest(): LiveStats[] {
    return this.current;
  }

  /** Oldest first; no points for a deployment not sampled yet. */
  historyOf(name: string): DeploymentHistory {
    return { name, intervalS: this.intervalMs / 1000, points: this.history.points(name) };
  }

  private async tick(): Promise<void> {
    // A tick that has not finished (a very busy event loop) is not doubled up.
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      const targets = this.deps.targets();
      this.scrapeEngines(targets);
      const atMs = this.now();
      const stats: LiveStats[] = [];
      for (const t of targets) {
        const reading: Reading = { atMs, counters: await this.deps.counters(t.models) };
        const kv = highestKvUsage(t.engines.map((e) => this.freshKv(e.replica, atMs)));
        stats.push(liveStats(t.name, this.readings.get(t.name) ?? null, reading, { inFlight: t.inFlight, queued: t.queued, kvCacheUsage: kv }));
        this.readings.set(t.name, reading);
      }
      if (this.closed) return;
      this.forgetAllBut(targets);
      for (const s of stats) this.history.add(s);
      // With no deployments, one empty sample says it all; not one every tick.
      const news = stats.length > 0 || this.current.length > 0;
      this.current = stats;
      if (news) this.deps.publish(stats);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Starts a scrape of every ready engine that is not being scraped already
   * and does not wait for any: the tick uses each engine's last answer, so a
   * slow engine delays nothing and never has two scrapes at once.
   */
  private scrapeEngines(targets: readonly SampleTarget[]): void {
    for (const t of targets) {
      for (const e of t.engines) {
        if (this.scraping.has(e.replica)) continue;
        this.scraping.add(e.replica);
        void this.deps
          .scrape(e.metricsUrl, t.backend, this.intervalMs)
          .then((r) => {
            if (!this.closed) this.scraped.set(e.replica, { atMs: this.now(), kv: r.gauges?.kvCacheUsage ?? null });
          })
          .catch(() => undefined)
          .finally(() => this.scraping.delete(e.replica));
      }
    }
  }

  /** An answer older than a few ticks says nothing about now (the engine stopped answering). */
  private freshKv(replica: string, atMs: number): number | null {
    const s = this.scraped.get(replica);
    return s && atMs - s.atMs <= 3 * this.intervalMs ? s.kv : null;
  }

  private forgetAllBut(targets: readonly SampleTarget[]): void {
    const names = new Set(targets.map((t) => t.name));
    const replicas = new Set(targets.flatMap((t) => t.engines.map((e) => e.replica)));
    for (const name of this.readings.keys()) if (!names.has(name)) this.readings.delete(name);
    for (const id of this.scraped.keys()) if (!replicas.has(id)) this.scraped.delete(id);
    this.history.keepOnly(names);
  }
}
