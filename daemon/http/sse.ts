// Server-sent events with a heartbeat, so proxies and the tray notice a dead
// connection, and no write after the client has gone.
import type { Request, Response } from 'express';

export interface SseStream {
  send(data: unknown, event?: string): void;
  readonly closed: boolean;
  onClose(fn: () => void): void;
}

export function openSse(req: Request, res: Response, heartbeatMs = 15_000): SseStream {
  res.status(200).set({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  let closed = false;
  const closers: (() => void)[] = [];
  const beat = setInterval(() => !closed && res.write(': keep-alive\n\n'), heartbeatMs);
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(beat);
    for (const fn of closers) fn();
  };
  req.on('close', close);
  res.on('close', close);
  return {
    send(data, event) {
      if (closed) return;
      res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
    },
    get closed() {
      return closed;
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
  };
}
