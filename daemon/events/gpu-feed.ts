// The GPUs on the event stream: the inventory and each replica's share, read
// every few seconds while a client watches and published only when something
// a person would see changed. nvidia-smi costs CPU (several processes per
// reading), so with nobody watching it is not run at all; an API call still
// gets a fresh reading on demand.
import type { GpuInventory } from '../contract/api.js';
import type { GpuUsageReport } from '../contract/live.js';

export interface GpuReading {
  gpus: GpuInventory;
  usage: GpuUsageReport;
}

export interface GpuFeedDeps {
  read(): Promise<GpuReading>;
  publish(r: GpuReading): void;
  /** Called with the number of stream clients whenever it changes; returns unsubscribe. */
  onClients(fn: (clients: number) => void): () => void;
  intervalMs?: number;
}

/**
 * 3 s: a new engine's memory shows up within a few seconds of it loading,
 * and nvidia-smi (three runs per reading, 50-500 ms each on a busy box) stays
 * a small share of one core. The inventory cache (gpu/cache.ts, 2 s) lets
 * the API and the scheduler share these readings.
 */
export const GPU_INTERVAL_MS = 3_000;

/**
 * After a replica starts or stops, its share changes at once (Berth's own
 * claims) while the next regular reading may be 3 s away: read again after
 * this short pause, which lets a burst of state changes cost one reading.
 */
export const NUDGE_DELAY_MS = 250;

// Host memory moves by a few MiB every second; published on a change a
// person would notice on a bar.
const HOST_MEMORY_STEP = 64 * 1024 * 1024;

/** What must differ for a reading to be news: everything but the timestamps, host memory coarsely. */
export function changeKey(r: GpuReading): string {
  const { checkedAt: _checked, host, ...gpus } = r.gpus;
  const { at: _at, ...usage } = r.usage;
  const memory = host.memory ? { total: host.memory.totalBytes, free: Math.round(host.memory.freeBytes / HOST_MEMORY_STEP) } : null;
  return JSON.stringify([gpus, usage, host.cpu, host.os, memory]);
}

export class GpuFeed {
  private readonly intervalMs: number;
  private latest: GpuReading | null = null;
  private publishedKey: string | null = null;
  private inFlight: Promise<GpuReading> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private nudged: NodeJS.Timeout | null = null;
  private readonly unwatch: () => void;
  private closed = false;

  constructor(private readonly deps: GpuFeedDeps) {
    this.intervalMs = deps.intervalMs ?? GPU_INTERVAL_MS;
    this.unwatch = deps.onClients((n) => (n > 0 ? this.watch() : this.unwatchTimer()));
  }

  /** The newest reading, null until the first one finished. */
  get last(): GpuReading | null {
    return this.latest;
  }

  /** A reading now (shared with one already in flight); also what the next snapshot carries. */
  read(): Promise<GpuReading> {
    this.inFlight ??= this.deps
      .read()
      .then((r) => {
        this.latest = r;
        return r;
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  /** Something changed who holds the GPUs: while watched, read again shortly instead of at the next interval. */
  nudge(): void {
    if (!this.timer || this.nudged || this.closed) return;
    this.nudged = setTimeout(() => {
      this.nudged = null;
      void this.poll();
    }, NUDGE_DELAY_MS);
  }

  close(): void {
    this.closed = true;
    this.unwatch();
    this.unwatchTimer();
  }

  private watch(): void {
    if (this.timer || this.closed) return;
    // The first client gets the GPUs at once, not one interval later.
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
  }

  private unwatchTimer(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.nudged) clearTimeout(this.nudged);
    this.timer = null;
    this.nudged = null;
  }

  private async poll(): Promise<void> {
    let r: GpuReading;
    try {
      r = await this.read();
    } catch {
      return; // the inventory never throws; a usage mapping that did waits for the next poll
    }
    if (this.closed) return;
    const key = changeKey(r);
    if (key === this.publishedKey) return;
    this.publishedKey = key;
    this.deps.publish(r);
  }
}
