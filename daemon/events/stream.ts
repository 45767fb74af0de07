// The event stream's memory and order (GET /api/v1/events, STYLE example 10):
// every message gets the next sequence number and goes into a bounded ring; a
// client that reconnects with the last id it saw gets exactly what it missed
// while the ring still holds it, else a fresh snapshot. Bus events about a
// deployment are followed by one `deployment.updated` per deployment per tick
// carrying its whole status, so a client's store only ever upserts.
//
// No HTTP here: messages carry their JSON, serialised once for every client;
// api/live.ts frames them as SSE.
import type { BerthEvent, DeploymentStatus } from '../contract/api.js';
import type { SnapshotEvent, StreamEvent, StreamEventType } from '../contract/live.js';

export interface StreamMessage {
  id: number;
  type: StreamEventType;
  /** The event as JSON, one line. */
  json: string;
}

export interface StreamSources {
  /** The deployment's status now, or null when it no longer exists. */
  status(name: string): DeploymentStatus | null;
  /** Everything a snapshot carries besides its type and time. */
  snapshot(): Omit<SnapshotEvent, 'type' | 'ts'>;
}

export interface StreamOptions {
  /** Messages the ring keeps at most. */
  capacity?: number;
  /** JSON bytes the ring keeps at most (a few big `gpus` messages must not hold megabytes each). */
  maxBytes?: number;
  /** The id before the first message; see FIRST_ID. */
  firstId?: number;
  now?: () => Date;
}

export const DEFAULT_CAPACITY = 4096;
export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Ids start from the daemon's start time in microseconds, not from 0: a client
 * that reconnects to a restarted daemon with an id from the previous one must
 * get a snapshot, and an id that restarted from 0 could fall inside the new
 * daemon's ring and resume from someone else's history. Still a plain number,
 * under 2^53 for the next 200 years, and strictly increasing across restarts
 * while the previous daemon sent fewer than a million messages a second.
 */
export const startId = (now = Date.now()): number => now * 1000;

/** A Last-Event-ID as we issue them (a decimal integer), else null: unknown, answered with a snapshot. */
export function parseEventId(raw: string | undefined | null): number | null {
  if (raw == null || !/^\d{1,16}$/.test(raw.trim())) return null;
  const n = Number(raw.trim());
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * What a client that last saw `since` is owed: the ids after it, when all of
 * them are still held (`oldest` is the first id in the ring, null when it is
 * empty; `last` the newest id issued), or null when it needs a snapshot
 * (messages it missed were dropped, or the id is not one this daemon issued).
 */
export function resumeRange(since: number, oldest: number | null, last: number): { from: number; to: number } | null {
  if (since > last) return null;
  if (since === last) return { from: last + 1, to: last };
  if (oldest === null || oldest > since + 1) return null;
  return { from: since + 1, to: last };
}

export interface Connection {
  /** What the client gets first: a snapshot, or the messages it missed (maybe none). */
  first: StreamMessage[];
  /** true when `first` is a snapshot. */
  snapshot: boolean;
  close(): void;
}

export class EventStream {
  private readonly ring: StreamMessage[] = [];
  /** Index of the oldest held message in `ring` (dropped ones are compacted away in batches). */
  private head = 0;
  private bytes = 0;
  private last: number;
  private readonly capacity: number;
  private readonly maxBytes: number;
  private readonly now: () => Date;
  private readonly subscribers = new Set<(m: StreamMessage) => void>();
  private readonly clientWatchers = new Set<(clients: number) => void>();
  /** Deployments with news since the last flush. */
  private readonly dirty = new Set<string>();
  private flush: NodeJS.Immediate | null = null;
  private closed = false;

  constructor(
    private readonly sources: StreamSources,
    opts: StreamOptions = {},
  ) {
    this.capacity = opts.capacity ?? DEFAULT_CAPACITY;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.last = opts.firstId ?? startId();
    this.now = opts.now ?? (() => new Date());
  }

  /** The newest id issued (a snapshot taken now is as of this id). */
  get lastId(): number {
    return this.last;
  }

  get clients(): number {
    return this.subscribers.size;
  }

  /** Called with the number of connected clients whenever it changes; returns unsubscribe. */
  onClients(fn: (clients: number) => void): () => void {
    this.clientWatchers.add(fn);
    return () => this.clientWatchers.delete(fn);
  }

  /**
   * A bus event in. `deployment.created` gains the deployment's status;
   * `deployment.updated` and every other event about a deployment schedule
   * one `deployment.updated` with its fresh status after the current tick,
   * however many events the tick held; `deployment.deleted` stays a name.
   */
  fromBus(e: BerthEvent): void {
    if (this.closed) return;
    switch (e.type) {
      case 'deployment.created': {
        const status = this.sources.status(e.name);
        // Gone already (a create that failed after announcing): nothing to upsert.
        if (status) this.publish({ ...e, deployment: status });
        return;
      }
      case 'deployment.deleted':
        this.dirty.delete(e.name);
        this.publish(e);
        return;
      case 'deployment.updated':
        this.markDirty(e.name);
        return;
      default:
        this.publish(e);
        this.markDirty(e.name);
    }
  }

  /** Numbers `e`, keeps it in the ring and hands it to every client. */
  publish(e: StreamEvent): void {
    if (this.closed) return;
    const m: StreamMessage = { id: ++this.last, type: e.type, json: JSON.stringify(e) };
    this.ring.push(m);
    this.bytes += m.json.length;
    this.trim();
    for (const s of [...this.subscribers]) {
      try {
        s(m);
      } catch {
        /* one broken client must not stop the others */
      }
    }
  }

  /**
   * A client connects. `since` is its Last-Event-ID (raw, as received).
   * Delivery is synchronous from here on: nothing published between this
   * call and the client's first write can be lost or reordered.
   */
  connect(since: string | undefined | null, deliver: (m: StreamMessage) => void): Connection {
    const id = parseEventId(since);
    const range = id === null ? null : resumeRange(id, this.oldestId(), this.last);
    const first = range ? this.slice(range.from, range.to) : [this.snapshotMessage()];
    if (this.closed) return { first, snapshot: range === null, close: () => undefined };
    this.subscribers.add(deliver);
    this.clientsChanged();
    let open = true;
    return {
      first,
      snapshot: range === null,
      close: () => {
        if (!open) return;
        open = false;
        this.subscribers.delete(deliver);
        this.clientsChanged();
      },
    };
  }

  /** The whole state as of lastId: its id is that of the last message it already reflects. */
  snapshotMessage(): StreamMessage {
    const e: SnapshotEvent = { type: 'snapshot', ts: this.now().toISOString(), ...this.sources.snapshot() };
    return { id: this.last, type: 'snapshot', json: JSON.stringify(e) };
  }

  /** Stops the pending flush and forgets every client; later events are dropped. */
  close(): void {
    this.closed = true;
    if (this.flush) clearImmediate(this.flush);
    this.flush = null;
    this.dirty.clear();
    this.subscribers.clear();
    this.clientWatchers.clear();
  }

  private markDirty(name: string): void {
    this.dirty.add(name);
    // setImmediate, not a microtask: a supervisor step that changes several
    // replicas across a few awaits still lands in one update.
    this.flush ??= setImmediate(() => {
      this.flush = null;
      const names = [...this.dirty];
      this.dirty.clear();
      for (const name of names) {
        const status = this.sources.status(name);
        if (status) this.publish({ type: 'deployment.updated', ts: this.now().toISOString(), name, deployment: status });
      }
    });
  }

  private oldestId(): number | null {
    return this.ring[this.head]?.id ?? null;
  }

  private slice(from: number, to: number): StreamMessage[] {
    const oldest = this.oldestId();
    if (oldest === null || to < from) return [];
    return this.ring.slice(this.head + (from - oldest), this.head + (to - oldest) + 1);
  }

  private trim(): void {
    // Always keep the newest message, whatever its size.
    while (this.ring.length - this.head > 1 && (this.ring.length - this.head > this.capacity || this.bytes > this.maxBytes)) {
      this.bytes -= this.ring[this.head]!.json.length;
      this.head++;
    }
    // Compact once the dropped prefix is as long as what is held: O(1) amortised per message.
    if (this.head > 0 && this.head >= this.ring.length - this.head) {
      this.ring.splice(0, this.head);
      this.head = 0;
    }
  }

  private clientsChanged(): void {
    const n = this.subscribers.size;
    for (const fn of [...this.clientWatchers]) fn(n);
  }
}
