// The live data the UI and the tray watch, built from the daemon's parts: the
// event stream (bus events, enriched and numbered), the stats sampler and the
// GPU feed. Created and started by main.ts, closed with the daemon; the HTTP
// side is live.ts.
import type { GpuInventory } from '../contract/api.js';
import { API_VERSION } from '../contract/routes.js';
import type { EventBus } from '../events/bus.js';
import { GpuFeed, type GpuReading } from '../events/gpu-feed.js';
import { EventStream } from '../events/stream.js';
import { usageReport } from '../gpu/usage.js';
import { scrapeEngine } from '../metrics/engine-stats.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { StatsSampler, type SampleTarget } from '../metrics/sampler.js';
import { readProcLinks } from '../state/proc.js';
import type { Supervisor } from '../supervisor/supervisor.js';

export interface LiveFeedDeps {
  supervisor: Supervisor;
  events: EventBus;
  inventory: () => Promise<GpuInventory>;
  metrics: GatewayMetrics;
  version: string;
  /** Overrides for tests of the feed itself; the daemon uses the defaults. */
  sampleIntervalMs?: number;
  gpuIntervalMs?: number;
}

export interface LiveFeed {
  stream: EventStream;
  sampler: StatsSampler;
  gpus: GpuFeed;
  /** Starts the sampler; the GPU feed runs only while stream clients are connected. */
  start(): void;
  /** Stops every timer and forgets every client. */
  close(): void;
}

/** One reading of the GPUs and of who holds them, from the inventory (cached) and /proc. */
export async function readGpus(supervisor: Supervisor, inventory: () => Promise<GpuInventory>): Promise<GpuReading> {
  const gpus = await inventory();
  const pids = gpus.gpus.flatMap((g) => g.processes.map((p) => p.pid));
  // Claims after the inventory: a replica that started meanwhile is better
  // shown than its process counted as foreign.
  const usage = usageReport(gpus, supervisor.gpuClaims(), readProcLinks(pids), new Date().toISOString());
  return { gpus, usage };
}

function sampleTargets(supervisor: Supervisor): SampleTarget[] {
  return supervisor.list().map((d) => ({
    name: d.name,
    models: d.spec.servedName,
    backend: d.spec.backend,
    inFlight: d.replicas.reduce((n, r) => n + r.inFlight, 0),
    queued: d.queued,
    engines: supervisor.readyReplicas(d.name).map((r) => ({ replica: r.id, metricsUrl: `${r.baseUrl}/metrics` })),
  }));
}

export function createLiveFeed(deps: LiveFeedDeps): LiveFeed {
  const { supervisor } = deps;
  const startedAt = new Date().toISOString();
  // Assigned below; the stream asks for the snapshot only once a client connects.
  let sampler: StatsSampler | null = null;
  let gpus: GpuFeed | null = null;
  const stream = new EventStream({
    status: (name) => (supervisor.has(name) ? supervisor.get(name) : null),
    snapshot: () => ({
      daemon: { version: deps.version, apiVersion: API_VERSION, startedAt },
      deployments: supervisor.list(),
      gpus: gpus?.last?.gpus ?? null,
      usage: gpus?.last?.usage ?? null,
      stats: sampler?.latest() ?? [],
    }),
  });
  const offBus = deps.events.subscribe((e) => {
    stream.fromBus(e);
    // A replica that started or stopped changes the GPU shares now, not at the next reading.
    if (e.type === 'replica.state') gpus?.nudge();
  });
  sampler = new StatsSampler({
    targets: () => sampleTargets(supervisor),
    counters: (models) => deps.metrics.counters(models),
    scrape: (url, backend, timeoutMs) => scrapeEngine(url, backend, timeoutMs),
    publish: (stats) => stream.publish({ type: 'stats', ts: new Date().toISOString(), stats }),
    intervalMs: deps.sampleIntervalMs,
  });
  gpus = new GpuFeed({
    read: () => readGpus(supervisor, deps.inventory),
    publish: (r) => stream.publish({ type: 'gpus', ts: new Date().toISOString(), gpus: r.gpus, usage: r.usage }),
    onClients: (fn) => stream.onClients(fn),
    intervalMs: deps.gpuIntervalMs,
  });
  const feed = { stream, sampler, gpus };
  return {
    ...feed,
    start: () => feed.sampler.start(),
    close: () => {
      offBus();
      feed.gpus.close();
      feed.sampler.close();
      feed.stream.close();
    },
  };
}
