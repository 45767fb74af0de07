// Flow control between the log stream and the terminal. Lines arrive as fast
// as an engine prints them (a vLLM start-up prints thousands in a second, and
// a reconnect replays the whole tail at once); xterm parses and draws on the
// main thread. Lines wait here and leave one frame's worth at a time. The
// queue is bounded: when the page falls too far behind (a background tab
// gets no animation frames), the oldest waiting lines are dropped and a
// marker says how many, instead of the tab's memory growing without end.
// Pure: no DOM, tested under Node.

export interface LogQueueOptions {
  /** Most text held waiting, in UTF-16 code units. Default 2 Mi. */
  maxQueued?: number;
  /** Most text handed out per take() (one animation frame), beyond the first line. Default 128 Ki. */
  perFrame?: number;
}

/** A dim line in the terminal saying lines are missing, and why. */
export function skippedMarker(count: number, why: string): string {
  return `\x1b[2;3m… ${count} line${count === 1 ? '' : 's'} skipped (${why}) …\x1b[0m\r\n`;
}

export class LogQueue {
  private lines: string[] = [];
  /** Index of the first line not yet taken: shifting a long array per frame would be quadratic. */
  private head = 0;
  private queued = 0;
  private skipped = 0;
  private readonly maxQueued: number;
  private readonly perFrame: number;

  constructor(opts: LogQueueOptions = {}) {
    this.maxQueued = opts.maxQueued ?? 2 * 1024 * 1024;
    this.perFrame = opts.perFrame ?? 128 * 1024;
  }

  push(line: string): void {
    this.lines.push(line);
    this.queued += line.length + 2;
    while (this.queued > this.maxQueued && this.head < this.lines.length - 1) {
      this.queued -= this.lines[this.head]!.length + 2;
      this.head++;
      this.skipped++;
    }
    this.compact();
  }

  /** Text waiting, in UTF-16 code units. */
  get pending(): number {
    return this.queued;
  }

  get empty(): boolean {
    return this.head >= this.lines.length && this.skipped === 0;
  }

  /**
   * The next frame's text, each line ended by CRLF (the terminal gets no
   * line discipline of its own), preceded by a marker when lines were dropped;
   * null when nothing waits.
   */
  take(): string | null {
    if (this.empty) return null;
    let out = this.skipped > 0 ? skippedMarker(this.skipped, 'the page fell behind the log') : '';
    this.skipped = 0;
    let taken = 0;
    while (this.head < this.lines.length && (taken === 0 || taken < this.perFrame)) {
      const line = this.lines[this.head++]!;
      out += `${line}\r\n`;
      taken += line.length + 2;
    }
    this.queued -= taken;
    this.compact();
    return out;
  }

  /** Forgets everything waiting (the terminal is being reset). */
  clear(): void {
    this.lines = [];
    this.head = 0;
    this.queued = 0;
    this.skipped = 0;
  }

  private compact(): void {
    if (this.head === this.lines.length) {
      this.lines = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
  }
}
