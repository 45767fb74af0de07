// The SSE writer: message framing, a client that stops reading is dropped at the
// buffer limit instead of growing the daemon's memory, and nothing is written
// after a client has gone.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { describe, it } from 'node:test';
import express from 'express';
import { formatSse, openSse, type SseStream } from '../../daemon/http/sse.js';
import { SAFETY_MS } from '../helpers/limits.js';

async function serve(onStream: (sse: SseStream) => void, maxBufferedBytes?: number) {
  const app = express();
  app.get('/s', (req, res) => onStream(openSse(req, res, { heartbeatMs: 60_000, maxBufferedBytes })));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const close = () => {
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    return closed;
  };
  return { port, close };
}

describe('SSE', () => {
  it('frames id, event and one data line', () => {
    assert.equal(formatSse('{"a":1}', 'stats', 42), 'id: 42\nevent: stats\ndata: {"a":1}\n\n');
    assert.equal(formatSse('"x"'), 'data: "x"\n\n');
  });

  it('drops a client that stops reading once its unsent output passes the limit', async () => {
    const limit = 256 * 1024;
    let stream: SseStream | null = null;
    const s = await serve((sse) => (stream = sse), limit);
    const socket = connect(s.port, '127.0.0.1');
    socket.write('GET /s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await once(socket, 'data'); // the headers
    socket.pause(); // and never another byte
    const sse = await waitForStream(() => stream);
    const message = formatSse(JSON.stringify('x'.repeat(1000)));
    // Far more than any kernel's socket buffers: the limit, not the sender, must end this.
    const ceiling = 1024 * 1024 * 1024;
    let written = 0;
    while (!sse.closed && written < ceiling) {
      sse.write(message);
      written += message.length;
      if (written % (64 * 1024) < message.length) await yieldLoop();
    }
    assert.equal(sse.closed, true, `still open after ${written} bytes`);
    sse.write(message); // after the drop: a no-op, not a throw
    socket.destroy();
    await s.close();
  });

  it('writes nothing after the client has gone', async () => {
    let stream: SseStream | null = null;
    const s = await serve((sse) => (stream = sse));
    const res = await fetch(`http://127.0.0.1:${s.port}/s`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const sse = await waitForStream(() => stream);
    const closed = new Promise<void>((r) => sse.onClose(r));
    await res.body!.cancel();
    await closed;
    assert.equal(sse.closed, true);
    sse.send({ late: true }, 'x', 1);
    await s.close();
  });
});

async function waitForStream(get: () => SseStream | null): Promise<SseStream> {
  const end = Date.now() + SAFETY_MS;
  for (;;) {
    const s = get();
    if (s) return s;
    if (Date.now() > end) throw new Error('no SSE stream opened');
    await new Promise((r) => setTimeout(r, 10));
  }
}
