// An engine's log on disk: append-only, rotated by size so a chatty engine
// that runs for weeks cannot fill the disk. x.log is current; x.log.1, x.log.2
// are older (keep = 3 files in all).
//
// The caller is the pty data path, which must never wait or throw because of
// the disk: write() only queues; one async loop writes in order, starting
// `delayMs` after the first queued line so that an engine logging a line per
// request (uvicorn's access log) costs one write(2) per batch, not per request,
// on the daemon that also proxies those requests; errors go to
// `onError` (once per run of failures, not once per line) and the loop keeps
// going, reopening the file on the next write. If the disk cannot keep up,
// output beyond `maxPendingBytes` is dropped and a marker line says so.
import { mkdir, open, rename, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface RotatingFileOptions {
  path: string;
  /** Rotate before a write would take the file past this size. Default 10 MiB. */
  maxBytes?: number;
  /** Files kept, the current one included. Default 3. */
  keep?: number;
  /** Queued text (UTF-16 code units) beyond which new output is dropped. Default 8 Mi. */
  maxPendingBytes?: number;
  onError?: (err: Error) => void;
  /** Longest a line waits in memory before the write loop starts. Default 100 ms; 0 starts at once. */
  delayMs?: number;
}

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const DEFAULT_KEEP = 3;
const DEFAULT_MAX_PENDING = 8 * 1024 * 1024;
/** Queued text written per write(2): fewer syscalls without holding much memory. */
const BATCH_CHARS = 1024 * 1024;
const DEFAULT_DELAY_MS = 100;

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class RotatingFile {
  readonly path: string;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly maxPending: number;
  private readonly onError: (err: Error) => void;
  private readonly delayMs: number;

  private timer: NodeJS.Timeout | null = null;
  private pending: string[] = [];
  private pendingLength = 0;
  private dropped = 0;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private fh: FileHandle | null = null;
  private size = 0;
  private failing = false;
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(opts: RotatingFileOptions) {
    this.path = opts.path;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.keep = Math.max(1, opts.keep ?? DEFAULT_KEEP);
    this.maxPending = opts.maxPendingBytes ?? DEFAULT_MAX_PENDING;
    this.onError = opts.onError ?? (() => {});
    this.delayMs = opts.delayMs ?? DEFAULT_DELAY_MS;
  }

  /**
   * Queues `text` (whole lines, for the drop marker to read well) for
   * appending. Never throws, never waits. Ignored after close().
   */
  write(text: string): void {
    if (this.closed || text === '') return;
    if (this.pendingLength + text.length > this.maxPending) {
      this.dropped += text.length;
      return;
    }
    this.noteDropped();
    this.enqueue(text);
  }

  /** Resolves once everything written so far has reached the file (or failed). */
  flush(): Promise<void> {
    this.start();
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes what is queued, then closes the file. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) this.noteDropped();
    this.closed = true;
    this.closing ??= this.flush().then(async () => {
      const fh = this.fh;
      this.fh = null;
      await fh?.close().catch((err: unknown) => this.report(err));
    });
    return this.closing;
  }

  private async run(): Promise<void> {
    try {
      // The emptiness check and `running = false` below happen with no await
      // in between, so a write() can never queue text that no loop will take.
      while (this.pending.length > 0) await this.writeBatch(this.takeBatch());
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private enqueue(text: string): void {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.running || this.timer) return;
    if (this.delayMs === 0) this.start();
    else {
      this.timer = setTimeout(this.start, this.delayMs);
      // Lines waiting for the disk must not keep a finished process alive; close() writes them.
      this.timer.unref();
    }
  }

  private readonly start = () => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running || this.pending.length === 0) return;
    this.running = true;
    void this.run();
  };

  /** Marks where output was dropped, once the queue has room again. */
  private noteDropped(): void {
    if (this.dropped === 0) return;
    this.enqueue(`[berth] ${this.dropped} characters of engine output were dropped here: the log file could not keep up\n`);
    this.dropped = 0;
  }

  private takeBatch(): string {
    let text = '';
    while (this.pending.length > 0 && text.length < BATCH_CHARS) {
      const next = this.pending.shift()!;
      this.pendingLength -= next.length;
      text += next;
    }
    return text;
  }

  private async writeBatch(text: string): Promise<void> {
    try {
      const bytes = Buffer.from(text, 'utf8');
      let fh = this.fh ?? (await this.openFile());
      if (this.size > 0 && this.size + bytes.length > this.maxBytes) fh = await this.rotate(fh);
      let offset = 0;
      while (offset < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, offset);
        offset += bytesWritten;
      }
      this.size += bytes.length;
      this.failing = false;
    } catch (err) {
      // The batch is lost. Drop the handle so the next write reopens the file:
      // the directory may be back, the disk may have room again.
      this.report(err);
      const fh = this.fh;
      this.fh = null;
      await fh?.close().catch(() => {});
    }
  }

  private async openFile(): Promise<FileHandle> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'a');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // First write, or someone removed the log directory while we ran.
      await mkdir(dirname(this.path), { recursive: true });
      fh = await open(this.path, 'a');
    }
    this.fh = fh;
    this.size = (await fh.stat()).size;
    return fh;
  }

  /** x.log.(keep-2) -> x.log.(keep-1), ..., x.log -> x.log.1; then a fresh x.log. */
  private async rotate(fh: FileHandle): Promise<FileHandle> {
    this.fh = null;
    await fh.close();
    // keep = 1: nothing to keep, the same file starts over.
    if (this.keep === 1) await truncate(this.path, 0);
    for (let i = this.keep - 1; i >= 1; i--) {
      const from = i === 1 ? this.path : `${this.path}.${i - 1}`;
      await rename(from, `${this.path}.${i}`).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      });
    }
    return this.openFile();
  }

  private report(err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    try {
      this.onError(asError(err));
    } catch {
      // The error sink itself failed; there is nowhere left to report to.
    }
  }
}
