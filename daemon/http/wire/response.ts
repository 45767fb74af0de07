// The response half of one exchange on a wire-path connection. It speaks the
// part of Node's ServerResponse the gateway uses (writeHead/write/end/destroy,
// 'drain' and 'close'), so the gateway serves either path with the same code,
// but writes straight to the socket. The head leaves with the data written in
// its tick, and end()'s data with the final chunk, in one socket write each,
// as Node's own response does; any other write() goes to the socket at once,
// a stream's token without waiting for the end of the tick. Each write() is
// still exactly one chunk on the wire (no re-chunking).
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { isFieldLines, isFieldValue, isToken } from './head.js';

/**
 * Berth's own code asked to write a head that is not valid HTTP: a name that
 * is not a token, a value holding CR, LF, NUL or another control, a status
 * outside 100-999. The codes are those Node's ServerResponse throws with.
 * Nothing is written: a bad head must never reach the client.
 */
export class InvalidHeadError extends Error {
  constructor(
    readonly code: 'ERR_INVALID_HTTP_TOKEN' | 'ERR_INVALID_CHAR' | 'ERR_HTTP_INVALID_STATUS_CODE',
    message: string,
  ) {
    super(message);
    this.name = 'InvalidHeadError';
  }
}

function checkedValue(name: string, v: string | number): string {
  const s = typeof v === 'number' ? String(v) : v;
  if (!isFieldValue(s)) throw new InvalidHeadError('ERR_INVALID_CHAR', `invalid character in the value of header "${name}"`);
  return s;
}

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

function flushTick(res: WireResponse): void {
  res.flush();
}

/**
 * A stream's chunk (a token or a few) framed in one buffer: when it is a
 * write's only piece, as for every token after the first, it goes to the
 * socket as is instead of as three pieces copied together again.
 */
function framed(data: Buffer): Buffer {
  // The size's hex digits written byte by byte: a string and a latin1 write
  // (a call into C++) per token cost more than the copy of the token itself.
  const n = data.length;
  let digits = 1;
  for (let v = n >>> 4; v > 0; v >>>= 4) digits++;
  const out = Buffer.allocUnsafe(digits + n + 4);
  for (let i = digits - 1, v = n; i >= 0; i--, v >>>= 4) out[i] = HEX_DIGITS[v & 15]!;
  out[digits] = 0x0d;
  out[digits + 1] = 0x0a;
  out.set(data, digits + 2);
  out[digits + 2 + n] = 0x0d;
  out[digits + 3 + n] = 0x0a;
  return out;
}

/** '0'-'9', 'a'-'f'. */
const HEX_DIGITS = [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66];

// A tick's pieces are copied into one buffer up to this size (one plain
// write); a bigger batch goes out as a writev of the pieces themselves.
const COPY_LIMIT = 16 * 1024;
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
  /** Field lines set before writeHead (setHeader), as wire text. */
  private preset = '';
  private chunked = false;
  private closed = false;
  // Not an EventEmitter: a response has at most a few listeners, and this
  // object is built on every request's critical path.
  private listeners: Registration[] = [];
  private awaitingDrain = false;
  /** This tick's pieces, written together by flush(); null when none are waiting. */
  private batch: (Buffer | string)[] | null = null;
  private batchBytes = 0;
  /** write() returned false: 'drain' is owed to the caller. */
  private owesDrain = false;

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

  // Loops rather than findIndex/filter callbacks: these run a few times per
  // request, and tsx names every arrow function at creation.
  off(event: ResponseEvent, fn: Listener): this {
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) {
      if (ls[i]!.event === event && ls[i]!.fn === fn) {
        ls.splice(i, 1);
        break;
      }
    }
    return this;
  }

  /** Calls the listeners registered when it starts; `once` ones are removed first. */
  private emit(event: ResponseEvent): void {
    const ls = this.listeners;
    let now: Listener[] | null = null;
    for (let i = 0; i < ls.length; ) {
      const r = ls[i]!;
      if (r.event !== event) {
        i++;
        continue;
      }
      (now ??= []).push(r.fn);
      if (r.once) ls.splice(i, 1);
      else i++;
    }
    if (now) for (const fn of now) fn();
  }

  /**
   * A field for this response's head, set before writeHead, as Node's
   * setHeader (the gateway adds CORS fields this way on both doors). The
   * caller vouches for the name and value (no CR or LF); a name given again
   * is sent twice, unlike Node's, which replaces it.
   */
  setHeader(name: string, value: string): this {
    if (this.headersSent) throw new Error('setHeader after writeHead');
    this.preset += `${name}: ${value}${CRLF}`;
    return this;
  }

  writeHead(status: number, headers: OutgoingHeaders = {}): this {
    let fields = '';
    let length = false;
    let date = false;
    for (const name in headers) {
      const v = headers[name]!;
      if (!isToken(name)) throw new InvalidHeadError('ERR_INVALID_HTTP_TOKEN', `header name must be a valid HTTP token: ${JSON.stringify(name)}`);
      const lower = name.toLowerCase();
      if (lower === 'content-length') length = true;
      else if (lower === 'date') date = true;
      if (typeof v === 'object') for (const one of v) fields += `${name}: ${checkedValue(name, one)}${CRLF}`;
      else fields += `${name}: ${checkedValue(name, v)}${CRLF}`;
    }
    return this.startHead(status, fields, length, date);
  }

  /**
   * writeHead with the fields as wire text (`name: value` CRLF each), for a
   * proxy passing on what it received. The caller vouches that the text is
   * field lines without hop-by-hop fields; they are checked to be valid
   * (no CR, LF or NUL inside a line) before anything is written.
   */
  writeHeadRaw(status: number, fields: string, hasContentLength: boolean, hasDate: boolean): this {
    if (!isFieldLines(fields)) throw new InvalidHeadError('ERR_INVALID_CHAR', 'invalid header field lines');
    return this.startHead(status, fields, hasContentLength, hasDate);
  }

  /** Builds the head from checked field lines; it leaves with the first data. */
  private startHead(status: number, fields: string, hasContentLength: boolean, hasDate: boolean): this {
    if (this.headersSent) throw new Error('writeHead called twice');
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new InvalidHeadError('ERR_HTTP_INVALID_STATUS_CODE', `invalid status code: ${status}`);
    this.statusCode = status;
    this.headersSent = true;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}${CRLF}${this.preset}${fields}`;
    if (!hasDate) head += `date: ${httpDate()}${CRLF}`;
    const bodiless = status === 204 || status === 304 || status < 200;
    if (!hasContentLength && !bodiless) {
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
    this.queue(this.head);
    this.head = null;
  }

  write(chunk: Buffer | string): boolean {
    if (this.destroyed || this.writableFinished) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    // Nothing of this tick waits (the head is out): a stream's token goes to
    // the socket now, without a tick to collect nothing else.
    if (this.head === null && this.batch === null) return this.send(chunk);
    this.put(chunk, true);
    // The socket's own measure of a slow client, counting what waits in this tick's batch.
    if (this.socket.writableLength + this.batchBytes < this.socket.writableHighWaterMark) return true;
    this.owesDrain = true;
    return false;
  }

  /**
   * write(data), given `framed`: data already in chunked framing (whole
   * chunks, as a chunked engine response was read). When data would go out
   * framed and alone, as a stream's every token after the first, those bytes
   * are sent as they are: no second copy of the token to frame it again.
   */
  writeFramed(framed: Buffer, data: Buffer): boolean {
    if (!this.chunked || this.head !== null || this.batch !== null || this.destroyed || this.writableFinished) return this.write(data);
    const ok = this.socket.write(framed);
    if (!ok) {
      this.owesDrain = true;
      this.drained(false);
    }
    return ok;
  }

  end(chunk?: Buffer | string): this {
    if (this.destroyed || this.writableFinished) return this;
    if (!this.headersSent) this.writeHead(this.statusCode, chunk === undefined ? { 'content-length': 0 } : { 'content-length': Buffer.byteLength(chunk) });
    if (chunk !== undefined && chunk.length > 0) this.put(chunk, false);
    else if (this.head !== null) {
      this.enqueue(this.head);
      this.head = null;
    }
    if (this.chunked) this.enqueue(LAST_CHUNK);
    // The last write: nothing more to collect, and what the caller does next
    // (metering, bookkeeping) need not delay the client.
    this.flush();
    this.writableFinished = true;
    this.finish();
    return this;
  }

  /** @internal writes this tick's batch to the socket (scheduled by queue()). */
  flush(): void {
    const batch = this.batch;
    if (batch === null) return;
    this.batch = null;
    const bytes = this.batchBytes;
    this.batchBytes = 0;
    if (this.destroyed) return;
    const s = this.socket;
    let ok: boolean;
    if (batch.length === 1) ok = s.write(batch[0]!, 'latin1');
    else if (bytes <= COPY_LIMIT) {
      // One buffer, one write: Node's writev path allocates per piece and per call.
      const buf = Buffer.allocUnsafe(bytes);
      let at = 0;
      for (const piece of batch) at += typeof piece === 'string' ? buf.write(piece, at, 'latin1') : (buf.set(piece, at), piece.length);
      ok = s.write(buf);
    } else {
      s.cork();
      for (const piece of batch) s.write(piece, 'latin1');
      s.uncork();
      ok = s.writableLength < s.writableHighWaterMark;
    }
    this.drained(ok);
  }

  /** A write() with nothing queued before it: one chunk, framed, straight to the socket. */
  private send(chunk: Buffer | string): boolean {
    const s = this.socket;
    // Strings from callers are UTF-8 text (an error body).
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let ok: boolean;
    if (!this.chunked) ok = s.write(data);
    else if (data.length === 0) ok = s.writableLength < s.writableHighWaterMark;
    else if (data.length > COPY_LIMIT) {
      s.cork();
      s.write(data.length.toString(16) + CRLF, 'latin1');
      s.write(data);
      s.write(CRLF, 'latin1');
      s.uncork();
      ok = s.writableLength < s.writableHighWaterMark;
    } else ok = s.write(framed(data));
    if (!ok) {
      this.owesDrain = true;
      this.drained(false);
    }
    return ok;
  }

  /** After a write to the socket: the 'drain' owed to the caller, now or once the socket drains. */
  private drained(ok: boolean): void {
    if (!this.owesDrain || this.awaitingDrain) return;
    if (ok) {
      this.owesDrain = false;
      this.emit('drain');
      return;
    }
    this.awaitingDrain = true;
    this.socket.once('drain', () => {
      this.awaitingDrain = false;
      this.owesDrain = false;
      this.emit('drain');
    });
  }

  /** Adds a piece to this tick's batch, written by flush() at the end of the tick; strings are latin1 (heads and chunk framing). */
  private queue(piece: Buffer | string): void {
    this.enqueue(piece, true);
  }

  /** Adds a piece to the batch; `tick`: schedule its flush at the end of the tick (else the caller flushes, as end() does). */
  private enqueue(piece: Buffer | string, tick = false): void {
    if (this.batch === null) {
      if (tick) process.nextTick(flushTick, this);
      this.batch = [piece];
    } else this.batch.push(piece);
    this.batchBytes += piece.length;
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

  /** Queues `chunk`, framed, behind the head if it is still waiting; `tick`: flush at the end of the tick (else the caller flushes). */
  private put(chunk: Buffer | string, tick: boolean): void {
    if (this.head !== null) {
      this.enqueue(this.head, tick);
      this.head = null;
    }
    // Strings from callers are UTF-8 text (an error body); the batch writes strings as latin1.
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!this.chunked) {
      this.enqueue(data, tick);
      return;
    }
    if (data.length === 0) return;
    if (data.length > COPY_LIMIT) {
      this.enqueue(data.length.toString(16) + CRLF, tick);
      this.enqueue(data, tick);
      this.enqueue(CRLF, tick);
      return;
    }
    this.enqueue(framed(data), tick);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.onDone(this);
    this.emit('close');
  }
}
