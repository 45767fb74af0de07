// The streaming load generator: many SSE streams at once on raw sockets,
// each frame (SSE event) timed as it arrives. It runs in a child process of
// the bench (forked, one job per IPC message): 1,000 streams of 50 frames a
// second are tens of thousands of reads a second, and in the bench's own
// process they would share an event loop with its bookkeeping; a process of
// its own also lands on the other core of a 2-core machine. Raw sockets
// rather than http.request: one socket, one parser state and no stream
// object per connection, so the client is not what a point measures.
import { connect, type Socket } from 'node:net';
import { ChunkedDecoder } from '../../daemon/http/wire/chunked.js';

export interface StreamJob {
  port: number;
  path: string;
  body: string;
  /** Streams in flight together (all sent at once), or, when sequential, streams one after another on one connection. */
  streams: number;
  sequential: boolean;
  /** A stream with no byte for this long fails (a proxy that hangs must end the run, not stall it). */
  idleTimeoutMs: number;
}

/** One stream, as the client saw it. */
export interface StreamSample {
  /** Request written → first frame carrying a generated token, ms; null when none came. */
  ttftMs: number | null;
  /**
   * Request written → first frame (vLLM's role chunk, sent before any token
   * is generated), ms; null when none came. Free of the engine's token timer,
   * so it shows a proxy's added latency more sharply than TTFT.
   */
  firstFrameMs: number | null;
  /** SSE events received (complete `\n\n`-terminated frames). */
  frames: number;
  /** Longest time between two consecutive frames, ms. */
  maxGapMs: number;
  /** Why the stream did not end cleanly (a status, a reset, a timeout); absent when it did. */
  error?: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const LF = 0x0a;
const QUOTE = 0x22;
const TOKEN_KEY = '"content":"';

/** One request/response on a connected socket; resolves when the response ends or fails. */
/** Calls into the instruction counter (stream-instructions.ts); the bench passes none. */
export interface LoadHooks {
  /** After each read that completed frames (`n` of them). */
  onFrames?(n: number): void;
  /** After each stream of a sequential job. */
  afterEach?(): void;
}

function stream(socket: Socket, job: StreamJob, message: Buffer, hooks: LoadHooks): Promise<StreamSample> {
  return new Promise((resolve) => {
    let head: Buffer | null = Buffer.alloc(0);
    const decoder = new ChunkedDecoder();
    const out: Buffer[] = [];
    let frames = 0;
    let lastFrameAt = 0;
    let maxGap = 0;
    let ttft: number | null = null;
    let firstFrame: number | null = null;
    let prevLf = false;
    // Until the first token: the text of the current event, to look for it.
    let pending = '';
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('timeout', onTimeout);
      // What is left of a failed response must not be read as the next one's.
      if (error) socket.destroy();
      resolve({ ttftMs: ttft, firstFrameMs: firstFrame, frames, maxGapMs: maxGap, ...(error ? { error } : {}) });
    };
    const onClose = () => finish('connection closed mid-stream');
    const onTimeout = () => finish(`no data for ${job.idleTimeoutMs} ms`);
    const onData = (d: Buffer) => {
      const now = performance.now();
      const framesBefore = frames;
      let body = d;
      if (head) {
        const all = head.length ? Buffer.concat([head, d]) : d;
        const end = all.indexOf(HEAD_END);
        if (end < 0) {
          head = all;
          return;
        }
        const text = all.toString('latin1', 0, end);
        head = null;
        const status = text.slice(9, 12);
        if (status !== '200') return finish(`HTTP ${status}`);
        if (!/\r\ntransfer-encoding:\s*chunked/i.test(text)) return finish('not a chunked response');
        body = all.subarray(end + 4);
      }
      try {
        decoder.push(body, out);
      } catch (err) {
        return finish(`bad chunked body: ${(err as Error).message}`);
      }
      for (const data of out) {
        let n = 0;
        if (prevLf && data[0] === LF) n++;
        for (let i = data.indexOf('\n\n'); i !== -1; i = data.indexOf('\n\n', i + 2)) n++;
        prevLf = data.length > 0 && data[data.length - 1] === LF;
        if (ttft === null) {
          pending += data.toString('latin1');
          const at = pending.indexOf(TOKEN_KEY);
          if (at !== -1 && pending.length > at + TOKEN_KEY.length && pending.charCodeAt(at + TOKEN_KEY.length) !== QUOTE) {
            ttft = now - t0;
            pending = '';
          } else if (n > 0) pending = pending.slice(pending.lastIndexOf('\n\n') + 2);
        }
        if (n > 0) {
          if (frames > 0) maxGap = Math.max(maxGap, now - lastFrameAt);
          else firstFrame = now - t0;
          lastFrameAt = now;
          frames += n;
        }
      }
      out.length = 0;
      if (frames > framesBefore) hooks.onFrames?.(frames - framesBefore);
      if (decoder.done) finish();
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('timeout', onTimeout);
    socket.setTimeout(job.idleTimeoutMs);
    const t0 = performance.now();
    socket.write(message);
  });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true });
    s.once('connect', () => {
      s.off('error', reject);
      // An error after connecting shows as 'close' in stream().
      s.on('error', () => {});
      resolve(s);
    });
    s.once('error', reject);
  });
}

export async function runJob(job: StreamJob, hooks: LoadHooks = {}): Promise<StreamSample[]> {
  const body = Buffer.from(job.body);
  const message = Buffer.concat([
    Buffer.from(`POST ${job.path} HTTP/1.1\r\nhost: 127.0.0.1:${job.port}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`),
    body,
  ]);
  if (job.sequential) {
    let socket = await open(job.port);
    const samples: StreamSample[] = [];
    try {
      for (let i = 0; i < job.streams; i++) {
        // A failed stream closed its connection (or the proxy did): the next one opens another.
        if (socket.destroyed) socket = await open(job.port);
        samples.push(await stream(socket, job, message, hooks));
        hooks.afterEach?.();
      }
    } finally {
      socket.destroy();
    }
    return samples;
  }
  // Connect every socket first, so the streams start together and connection
  // set-up is not counted in their time to first token.
  const sockets = await Promise.all(Array.from({ length: job.streams }, () => open(job.port)));
  try {
    return await Promise.all(sockets.map((s) => stream(s, job, message, hooks)));
  } finally {
    for (const s of sockets) s.destroy();
  }
}

// Forked by the bench: one job per message, the samples (or the error) back.
if (process.send) {
  const send = process.send.bind(process);
  process.on('message', (job: StreamJob) => {
    runJob(job).then(
      (samples) => send({ samples }),
      (err: Error) => send({ error: err.message }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
