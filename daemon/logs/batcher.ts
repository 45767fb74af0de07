// Batches engine output before fanning it out to subscribers (SSE clients).
//
// After Hyper's DataBatcher (app/session.ts): an engine loading weights or a
// tqdm bar can emit thousands of tiny writes a second; sending each as its own
// SSE event costs a syscall and a render per write. Items are collected and
// delivered at most every `flushMs` (~one frame), or at once when `maxBatchSize`
// is reached so a burst never sits in memory.
//
// Items are strings already decoded by node-pty, so there are no UTF-8 bytes
// to keep whole; the one way to break a character is cutting an oversized item,
// which is done on code-point boundaries (utf16.ts).
import { chunkString } from './utf16.js';

export interface DataBatcherOptions {
  /** Longest an item waits before delivery. Default 16 ms. */
  flushMs?: number;
  /** Batch size (UTF-16 code units) that triggers delivery at once; also the largest item. Default 200 Ki. */
  maxBatchSize?: number;
  /** A subscriber threw; it has been unsubscribed. */
  onError?: (err: unknown) => void;
}

interface Subscriber {
  listener: (batch: string[]) => void;
  closed: boolean;
  /** Items already pending when it subscribed: they happened before it and are not its to see. */
  skip: number;
}

export class DataBatcher {
  private readonly flushMs: number;
  private readonly maxBatchSize: number;
  private readonly onError: (err: unknown) => void;
  private readonly subscribers = new Set<Subscriber>();
  private items: string[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | null = null;
  private disposed = false;

  constructor(opts: DataBatcherOptions = {}) {
    this.flushMs = opts.flushMs ?? 16;
    this.maxBatchSize = Math.max(2, opts.maxBatchSize ?? 200 * 1024);
    this.onError = opts.onError ?? (() => {});
  }

  /** Queues an item for every current subscriber. A no-op with none. */
  write(item: string): void {
    if (this.disposed || this.subscribers.size === 0) return;
    if (item.length > this.maxBatchSize) {
      for (const piece of chunkString(item, this.maxBatchSize)) this.write(piece);
      return;
    }
    if (this.size + item.length > this.maxBatchSize) this.flush();
    this.items.push(item);
    this.size += item.length;
    if (this.size >= this.maxBatchSize) {
      this.flush();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref(); // pending output must not keep the daemon alive
    }
  }

  /**
   * Receives every item written from now on, in batches. Each subscriber gets
   * its own array. Returns unsubscribe; after it, the listener is never called
   * again, even by a flush already in progress.
   */
  subscribe(listener: (batch: string[]) => void): () => void {
    if (this.disposed) return () => {};
    const sub: Subscriber = { listener, closed: false, skip: this.items.length };
    this.subscribers.add(sub);
    return () => {
      sub.closed = true;
      this.subscribers.delete(sub);
    };
  }

  /** Delivers what is pending now. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    this.size = 0;
    for (const sub of [...this.subscribers]) {
      // An earlier listener in this loop may have closed a later one.
      if (sub.closed) continue;
      const own = batch.slice(sub.skip);
      sub.skip = 0;
      if (own.length === 0) continue;
      try {
        sub.listener(own);
      } catch (err) {
        // A listener that throws is a dead client (socket gone); stop writing to it.
        sub.closed = true;
        this.subscribers.delete(sub);
        this.onError(err);
      }
    }
  }

  /** Delivers what is pending, then closes every subscriber. */
  dispose(): void {
    if (this.disposed) return;
    this.flush();
    this.disposed = true;
    for (const sub of this.subscribers) sub.closed = true;
    this.subscribers.clear();
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }
}
