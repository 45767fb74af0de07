// The response half of one exchange on a wire-path connection. It speaks the
// part of Node's ServerResponse the gateway uses (writeHead/write/end/destroy,
// 'drain' and 'close'), so the gateway serves either path with the same code,
// but writes straight to the socket. Writes made in one tick leave in one
// writev (the head with the first data, the last data with the final chunk),
// as Node's own response does; each write() is still exactly one chunk on the
// wire (no re-chunking).
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

export type OutgoingHeaders = Record<string, string | number | readonly string[]>;

// One Date string per second is what Node's own server does too.
let dateCache = '';
let dateAt = 0;
function httpDate(): string {
  const now = Date.now();
  if (now - dateAt >= 1000) {
    dateAt = now - (now % 1000);
    dateCache = new Date(dateAt).toUTCString();
  }
  return dateCache;
}

const CRLF = '\r\n';

function uncork(res: WireResponse): void {
  if (res.corked) res.uncork();
}
const LAST_CHUNK = '0\r\n\r\n';

type Listener = () => void;
type ResponseEvent = 'close' | 'drain';

/** One listener registration; `once` ones are removed before they run. */
interface Registration {
  event: ResponseEvent;
  fn: Listener;
  once: boolean;
}

export class WireResponse {
  statusCode = 200;
  headersSent = false;
  writableFinished = false;
  destroyed = false;
  private head: string | null = null;
  private chunked = false;
  private closed = false;
  // Not an EventEmitter: a response has at most a few listeners, and this
  // object is built on every request's critical path.
  private listeners: Registration[] = [];
  private awaitingDrain = false;
  /** @internal a tick's writes are being collected */
  corked = false;

  /**
   * @param keepAlive the connection stays open for the next request after this one
   * @param keepAliveS advertised to the client so it never reuses a connection we are closing
   * @param onDone called once, when the response is complete or the socket is gone
   */
  constructor(
    private readonly socket: Socket,
    readonly keepAlive: boolean,
    private readonly keepAliveS: number,
    private readonly onDone: (res: WireResponse) => void,
  ) {}

  on(event: ResponseEvent, fn: Listener): this {
    this.listeners.push({ event, fn, once: false });
    return this;
  }

  once(event: ResponseEvent, fn: Listener): this {
    this.listeners.push({ event, fn, once: true });
    return this;
  }

  off(event: ResponseEvent, fn: Listener): this {
    const i = this.listeners.findIndex((r) => r.event === event && r.fn === fn);
    if (i !== -1) this.listeners.splice(i, 1);
    return this;
  }

  private emit(event: ResponseEvent): void {
    const now = this.listeners.filter((r) => r.event === event);
    if (now.length === 0) return;
    this.listeners = this.listeners.filter((r) => !(r.event === event && r.once));
    for (const r of now) r.fn();
  }

  writeHead(status: number, headers: OutgoingHeaders = {}): this {
    if (this.headersSent) throw new Error('writeHead called twice');
    this.statusCode = status;
    this.headersSent = true;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}${CRLF}`;
    let length = false;
    let date = false;
    for (const name in headers) {
      const v = headers[name]!;
      const lower = name.toLowerCase();
      if (lower === 'content-length') length = true;
      else if (lower === 'date') date = true;
      if (typeof v === 'object') for (const one of v) head += `${name}: ${one}${CRLF}`;
      else head += `${name}: ${v}${CRLF}`;
    }
    if (!date) head += `date: ${httpDate()}${CRLF}`;
    const bodiless = status === 204 || status === 304 || status < 200;
    if (!length && !bodiless) {
      this.chunked = true;
      head += `transfer-encoding: chunked${CRLF}`;
    }
    head += this.keepAlive ? `connection: keep-alive${CRLF}keep-alive: timeout=${this.keepAliveS}${CRLF}${CRLF}` : `connection: close${CRLF}${CRLF}`;
    this.head = head;
    return this;
  }

  /** Sends the head now rather than with the first data (a stream's client sees it at once). */
  flushHeaders(): void {
    if (this.head === null || this.destroyed) return;
    this.cork();
    this.socket.write(this.head, 'latin1');
    this.head = null;
  }

  /** @internal ends this tick's batch of writes (scheduled by cork()). */
  uncork(): void {
    this.corked = false;
    this.socket.uncork();
  }

  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(uncork, this);
  }

  write(chunk: Buffer | string): boolean {
    if (this.destroyed || this.writableFinished) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    this.cork();
    const ok = this.put(chunk);
    if (!ok && !this.awaitingDrain) {
      this.awaitingDrain = true;
      this.socket.once('drain', () => {
        this.awaitingDrain = false;
        this.emit('drain');
      });
    }
    return ok;
  }

  end(chunk?: Buffer | string): this {
    if (this.destroyed || this.writableFinished) return this;
    if (!this.headersSent) this.writeHead(this.statusCode, chunk === undefined ? { 'content-length': 0 } : { 'content-length': Buffer.byteLength(chunk) });
    const s = this.socket;
    this.cork();
    if (chunk !== undefined && chunk.length > 0) this.put(chunk);
    else if (this.head !== null) {
      s.write(this.head, 'latin1');
      this.head = null;
    }
    if (this.chunked) s.write(LAST_CHUNK, 'latin1');
    // The last write: nothing more to collect, and what the caller does next
    // (metering, bookkeeping) need not delay the client.
    this.uncork();
    this.writableFinished = true;
    this.finish();
    return this;
  }

  /** Breaks the connection: the client sees the response end without its last chunk. */
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.socket.destroy();
    this.finish();
    return this;
  }

  /** The socket closed under us (the client left). */
  socketClosed(): void {
    if (this.writableFinished) return;
    this.destroyed = true;
    this.finish();
  }

  private put(chunk: Buffer | string): boolean {
    const s = this.socket;
    if (this.head !== null) {
      s.write(this.head, 'latin1');
      this.head = null;
    }
    const len = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (!this.chunked) return s.write(chunk);
    if (len === 0) return true;
    s.write(len.toString(16) + CRLF, 'latin1');
    s.write(chunk);
    return s.write(CRLF, 'latin1');
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.onDone(this);
    this.emit('close');
  }
}
