// Everything one replica's engine printed: pty chunks in; completed lines out
// to a ring buffer (the API's tail), a rotating file, and batched live
// subscribers (SSE). Each line exists in two forms: `raw` with the ANSI colours
// the terminal got, `plain` without, for reasons, files and search.
import { DataBatcher } from './batcher.js';
import { LineSplitter, type Line } from './line-splitter.js';
import { DEFAULT_RING_CAPACITY, RingBuffer } from './ring-buffer.js';
import { RotatingFile } from './rotating-file.js';

export interface ReplicaLogOptions {
  /** Log file path (plain text, rotated), or null for memory only. */
  file: string | null;
  /** Lines kept in memory. Default 5000. */
  capacity?: number;
  /** The log file could not be written; output is still kept in memory. */
  onError?: (err: Error) => void;
  /** Rotation size of the file. Default 10 MiB. */
  maxFileBytes?: number;
  /** Files kept, the current one included. Default 3. */
  keepFiles?: number;
  /** Longest a line waits before it reaches subscribers. Default 16 ms. */
  flushMs?: number;
}

export interface LineFormat {
  /** true: lines as the terminal got them, ANSI colours included. Default false (plain). */
  ansi?: boolean;
}

export class ReplicaLog {
  private readonly splitter = new LineSplitter();
  private readonly ring: RingBuffer<Line>;
  private readonly file: RotatingFile | null;
  private readonly plainOut: DataBatcher;
  private readonly rawOut: DataBatcher;
  private closing: Promise<void> | null = null;
  /** Chunks not yet split into lines; see write(). */
  private unread: string[] = [];
  private scheduled = false;

  constructor(opts: ReplicaLogOptions) {
    this.ring = new RingBuffer<Line>(opts.capacity ?? DEFAULT_RING_CAPACITY);
    const onError = opts.onError ?? (() => {});
    this.file =
      opts.file === null
        ? null
        : new RotatingFile({ path: opts.file, maxBytes: opts.maxFileBytes, keep: opts.keepFiles, onError });
    // A subscriber that throws is dropped by the batcher; the error is a bug in
    // that subscriber, so it is rethrown where it cannot disturb the others.
    const rethrow = (err: unknown) =>
      queueMicrotask(() => {
        throw err;
      });
    const batch = { flushMs: opts.flushMs, onError: rethrow };
    this.plainOut = new DataBatcher(batch);
    this.rawOut = new DataBatcher(batch);
  }

  /**
   * Feeds a chunk of pty output. Never throws; ignored after close(). The
   * chunk is only queued here and split into lines after the event loop's I/O
   * callbacks: an engine prints a line per request while the daemon proxies
   * those requests, and the proxy's writes should not wait for the log. Every
   * reader below sees everything written so far.
   */
  write(chunk: string): void {
    if (this.closing) return;
    this.unread.push(chunk);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.read);
    }
  }

  private readonly read = () => {
    this.scheduled = false;
    if (this.unread.length === 0) return;
    const chunks = this.unread;
    this.unread = [];
    for (const chunk of chunks) for (const line of this.splitter.push(chunk)) this.add(line);
  };

  /** The newest `n` completed lines (all kept by default), oldest first. */
  tail(n: number = this.ring.capacity, format: LineFormat = {}): string[] {
    this.read();
    return this.ring.tail(n).map((l) => (format.ansi ? l.raw : l.plain));
  }

  /**
   * The last `n` lines in plain form, for failure reasons: the completed ones
   * and then the line still being written, if any. An engine stuck in a
   * progress bar (SGLang's "Capturing batches" redraws in place for minutes)
   * shows exactly there where it is stuck.
   */
  lastLines(n: number): string[] {
    this.read();
    const partial = this.splitter.peek();
    if (!partial) return this.tail(n);
    if (n <= 0) return [];
    return [...this.tail(n - 1), partial.plain];
  }

  /**
   * Receives completed lines from now on, batched (~16 ms). To show history
   * and then follow, call tail() and subscribe() in the same tick: no line is
   * then missed or seen twice. Returns unsubscribe.
   */
  subscribe(listener: (lines: string[]) => void, format: LineFormat = {}): () => void {
    this.read();
    return (format.ansi ? this.rawOut : this.plainOut).subscribe(listener);
  }

  /** Ends a partial last line (the engine exited mid-line) and delivers pending batches now. */
  flush(): void {
    this.read();
    for (const line of this.splitter.flush()) this.add(line);
    this.plainOut.flush();
    this.rawOut.flush();
  }

  /** Lines ever completed, including those the ring has dropped. */
  get totalLines(): number {
    this.read();
    return this.ring.totalPushed;
  }

  /** Flushes, closes subscribers and the file. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.flush();
      this.plainOut.dispose();
      this.rawOut.dispose();
      this.closing = this.file?.close() ?? Promise.resolve();
    }
    return this.closing;
  }

  private add(line: Line): void {
    this.ring.push(line);
    this.file?.write(`${line.plain}\n`);
    this.plainOut.write(line.plain);
    this.rawOut.write(line.raw);
  }
}
