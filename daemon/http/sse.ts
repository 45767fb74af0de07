// Server-sent events with a heartbeat, so proxies and the tray notice a dead
// connection, and no write after the client has gone.
import type { Request, Response } from 'express';

export interface SseStream {
  /** One message: `id:` and `event:` when given, the JSON of `data` as its `data:` line. */
  send(data: unknown, event?: string, id?: number): void;
  /**
   * A message already formatted by formatSse (the same text for every client
   * of a broadcast, serialised once).
   */
  write(message: string): void;
  readonly closed: boolean;
  onClose(fn: () => void): void;
}

export interface SseOptions {
  heartbeatMs?: number;
  /**
   * A client whose unsent output passes this many bytes is disconnected
   * instead of buffered without bound (a stalled tab, a suspended laptop on
   * the other end of a tunnel). Only for streams whose clients can resume
   * (the event stream's Last-Event-ID); unlimited by default.
   */
  maxBufferedBytes?: number;
}

/**
 * One SSE message. `data` must be a single line (JSON.stringify never emits a
 * newline); `event` and `id` are ours, never client input.
 */
export function formatSse(data: string, event?: string, id?: number): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}${event ? `event: ${event}\n` : ''}data: ${data}\n\n`;
}

export function openSse(req: Request, res: Response, opts: SseOptions = {}): SseStream {
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxBuffered = opts.maxBufferedBytes ?? Number.POSITIVE_INFINITY;
  res.status(200).set({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  let closed = false;
  const closers: (() => void)[] = [];
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(beat);
    for (const fn of closers) fn();
  };
  const write = (text: string) => {
    if (closed || res.writableEnded || res.destroyed) return;
    // Checked before the write, so one message larger than the limit (a big
    // snapshot) still goes out once; what piles up behind it does not.
    if (res.writableLength > maxBuffered) {
      close();
      res.destroy();
      return;
    }
    res.write(text);
  };
  const beat = setInterval(() => write(': keep-alive\n\n'), heartbeatMs);
  req.on('close', close);
  res.on('close', close);
  return {
    send(data, event, id) {
      write(formatSse(JSON.stringify(data), event, id));
    },
    write,
    get closed() {
      return closed;
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
  };
}
