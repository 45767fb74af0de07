// The last N items of an unbounded stream, in O(1) per push and fixed memory.
// An engine that logs every request would otherwise grow without limit.

export const DEFAULT_RING_CAPACITY = 5000;

export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  /** Index the next push writes to. */
  private head = 0;
  private count = 0;
  private pushed = 0;

  constructor(readonly capacity: number = DEFAULT_RING_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    this.pushed++;
  }

  /** The newest `n` items (all by default), oldest first. */
  tail(n: number = this.count): T[] {
    const k = Math.max(0, Math.min(Math.floor(n), this.count));
    const out = new Array<T>(k);
    const first = this.head - k + this.capacity; // index of the oldest returned item, mod capacity
    for (let i = 0; i < k; i++) out[i] = this.items[(first + i) % this.capacity] as T;
    return out;
  }

  /** Items held now (at most `capacity`). */
  get size(): number {
    return this.count;
  }

  /** Items ever pushed; `totalPushed - size` were dropped. */
  get totalPushed(): number {
    return this.pushed;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}
