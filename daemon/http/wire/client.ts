// An HTTP/1.1 client for the engines, on pooled raw sockets. One request per
// connection at a time (engines are uvicorn servers: no pipelining), idle
// connections reused last-in first-out, so a busy gateway keeps few sockets
// warm. Response bytes are handed on as they arrive, de-chunked but never
// regrouped. No timeouts on a request: a prefill can take minutes and a
// stream can pause; the caller aborts instead.
//
// An engine closes a connection idle for its keep-alive (uvicorn: 5 s), so a
// burst of requests after a pause would open every connection in the middle
// of the burst, and the engine's event loop would accept them all while it
// starts as many prefills. With `warmMs`, for that long after an origin's
// last request, connections the engine is about to drop are replaced in the
// background, up to the most requests that were in progress at once.
import { connect, type Socket } from 'node:net';
import { ChunkedDecoder } from './chunked.js';
import { HEAD_END, isFieldValue, isToken, parseResponseHead, type ResponseHead } from './head.js';

export interface ClientRequest {
  /** `http://host:port` */
  origin: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface ExchangeControl {
  /** Stop reading the response (the client is slow); the engine's socket applies backpressure. */
  pause(): void;
  resume(): void;
  /** Ends the exchange now: the connection is closed (the engine sees the client go) and onError follows. */
  abort(reason: Error): void;
}

export interface ResponseHandler {
  onStart(ctl: ExchangeControl): void;
  onHeaders(head: ResponseHead): void;
  /**
   * `last`: the response is complete with this chunk, and onEnd follows at
   * once (a proxy can send it with its end, in one write).
   * `framed`: the same data as the engine's chunked bytes, whole chunks in the
   * framing Berth writes itself (see ChunkedDecoder.wholeChunks), when the
   * read was just that: a proxy relaying a chunked response may send them
   * as they are.
   */
  onData(chunk: Buffer, last: boolean, framed?: Buffer): void;
  onEnd(): void;
  /** The exchange failed. `responseStarted` says whether onHeaders came first. */
  onError(err: ClientError, responseStarted: boolean): void;
}

/** Errors carry a code; the caller decides retry-safety by code, never by text. */
export class ClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ClientPoolOptions {
  connectTimeoutMs?: number;
  /** Idle time after which a kept connection is not reused, when the engine gave no Keep-Alive hint. */
  idleMs?: number;
  /** Idle connections kept per origin. */
  maxIdle?: number;
  /**
   * For this long after an origin's last request, its idle connections are
   * kept at the most it had in use at once, each replaced before the engine's
   * keep-alive drops it; 0 (the default) keeps only what requests leave.
   */
  warmMs?: number;
}

const MAX_RESPONSE_HEAD = 64 * 1024;
const MAX_ORIGINS = 1024;
/** How often expired idle connections are closed and warm ones replaced. */
const WARM_CHECK_MS = 500;
/** A connection usable for less than this once idle is not worth keeping warm (it would be replaced at every check). */
const MIN_WARM_LIFE_MS = 2 * WARM_CHECK_MS;
/** Connections opened per origin per check: a pool refills in steps, not in one storm of connects. */
const WARM_BATCH = 64;
/** origin-form: a slash, then visible ASCII only (no spaces, no controls). A loop: a regex test costs more than the path. */
function isPathOk(path: string): boolean {
  if (path.charCodeAt(0) !== 0x2f) return false;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

interface Origin {
  host: string;
  port: number;
  hostHeader: string;
  idle: Conn[];
  /** Exchanges in progress. */
  busy: number;
  /** The most exchanges in progress at once since the origin was last idle past warmMs: how many connections to keep. */
  peak: number;
  /** When an exchange last began (ms since epoch). */
  lastUsed: number;
  /** Connections being opened to keep warm. */
  warming: number;
  /** The engine's last Keep-Alive hint in seconds; null when it gave none. */
  keepAliveS: number | null;
}

interface Conn {
  socket: Socket;
  exchange: Exchange | null;
  /** Reuse is refused after this time (ms since epoch). */
  expiresAt: number;
  used: boolean;
}

export class ClientPool {
  private readonly origins = new Map<string, Origin>();
  private readonly connectTimeoutMs: number;
  private readonly idleMs: number;
  private readonly maxIdle: number;
  private readonly warmMs: number;
  private readonly readBuffer = Buffer.allocUnsafe(64 * 1024);
  private timer: NodeJS.Timeout | null = null;

  constructor(opts: ClientPoolOptions = {}) {
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    // undici's default too: below uvicorn's 5 s keep-alive, so an engine never
    // closes a connection in the instant we reuse it.
    this.idleMs = opts.idleMs ?? 4_000;
    this.maxIdle = opts.maxIdle ?? 256;
    this.warmMs = opts.warmMs ?? 0;
  }

  request(req: ClientRequest, handler: ResponseHandler): void {
    // Everything below reaches the engine verbatim: no CR/LF may smuggle in a header or a second request.
    if (!isToken(req.method)) throw new ClientError('ERR_INVALID_METHOD', `method ${JSON.stringify(req.method)} is not an HTTP token`);
    if (!isPathOk(req.path)) throw new ClientError('ERR_INVALID_PATH', `path ${JSON.stringify(req.path)} has characters HTTP does not allow`);
    let head = `${req.method} ${req.path} HTTP/1.1\r\nhost: `;
    const origin = this.origin(req.origin);
    head += origin.hostHeader + '\r\n';
    for (const k in req.headers) {
      const v = req.headers[k]!;
      if (!isToken(k) || !isFieldValue(v)) throw new ClientError('ERR_INVALID_HEADER', `header ${JSON.stringify(k)} has characters HTTP does not allow`);
      head += `${k}: ${v}\r\n`;
    }
    head += `content-length: ${req.body.length}\r\n\r\n`;
    // Head and body in one buffer, sent with one write: a request body is a
    // prompt, small next to the cost of a second write or Node's writev path.
    const message = Buffer.allocUnsafe(head.length + req.body.length);
    message.write(head, 0, 'latin1');
    message.set(req.body, head.length);
    new Exchange(this, origin, message, handler, req.method === 'HEAD').start();
  }

  /** Closes every idle connection and stops keeping any warm (daemon shutdown); requests in progress finish or fail on their own. */
  close(): void {
    for (const o of this.origins.values()) {
      o.peak = 0;
      o.lastUsed = 0;
      for (const c of o.idle.splice(0)) c.socket.destroy();
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private origin(url: string): Origin {
    let o = this.origins.get(url);
    if (!o) {
      const u = new URL(url);
      if (u.protocol !== 'http:') throw new ClientError('ERR_INVALID_URL', `${url}: only http:// engines are supported`);
      o = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), hostHeader: u.host, idle: [], busy: 0, peak: 0, lastUsed: 0, warming: 0, keepAliveS: null };
      // Engines come and go on new ports; forget origins with nothing pooled.
      if (this.origins.size >= MAX_ORIGINS) for (const [k, v] of this.origins) if (v.idle.length === 0 && v.busy === 0 && v.warming === 0) this.origins.delete(k);
      this.origins.set(url, o);
    }
    return o;
  }

  /** @internal an idle connection still worth reusing, or null */
  takeIdle(o: Origin): Conn | null {
    const now = Date.now();
    for (let c = o.idle.pop(); c; c = o.idle.pop()) {
      if (!c.socket.destroyed && c.expiresAt > now) return c;
      c.socket.destroy();
    }
    return null;
  }

  /** @internal */
  open(o: Origin): Conn {
    // `onread`: each read lands in one shared buffer and goes straight to the
    // exchange, skipping the Readable stream machinery (a response is read
    // many times over a stream's life). The bytes are copied out because the
    // exchange may keep them (a partial SSE event, a queued client write).
    const socket: Socket = connect({
      host: o.host,
      port: o.port,
      noDelay: true,
      onread: {
        buffer: this.readBuffer,
        callback: (n: number, buf: Uint8Array) => {
          if (conn.exchange) {
            // allocUnsafe takes small reads from Node's shared pool; Buffer.from
            // would give every read (a stream's every token) its own ArrayBuffer.
            const copy = Buffer.allocUnsafe(n);
            copy.set(buf.subarray(0, n));
            conn.exchange.onData(copy);
          }
          // Bytes on an idle connection: the engine is not speaking HTTP/1.1 as we think; drop it.
          else socket.destroy();
          // Keep reading; a slow client pauses the socket explicitly (ExchangeControl.pause).
          return true;
        },
      },
    });
    const conn: Conn = { socket, exchange: null, expiresAt: 0, used: false };
    socket.setTimeout(this.connectTimeoutMs);
    socket.once('connect', () => socket.setTimeout(0));
    socket.on('timeout', () => {
      if (socket.connecting) socket.destroy(new ClientError('ERR_CONNECT_TIMEOUT', `connecting to ${o.hostHeader} timed out`));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => conn.exchange?.onSocketError(err));
    socket.on('close', () => {
      const i = o.idle.indexOf(conn);
      if (i >= 0) o.idle.splice(i, 1);
      conn.exchange?.onSocketClose();
    });
    return conn;
  }

  /** @internal */
  release(o: Origin, conn: Conn, keepAliveS: number | null): void {
    conn.exchange = null;
    conn.used = true;
    o.keepAliveS = keepAliveS;
    if (o.idle.length >= this.maxIdle) {
      conn.socket.destroy();
      return;
    }
    conn.expiresAt = Date.now() + this.idleLife(o);
    o.idle.push(conn);
  }

  /** How long a connection idle from now may be reused: the engine's hint, a second early (its timer and ours do not start at the same instant). */
  private idleLife(o: Origin): number {
    return o.keepAliveS !== null ? Math.max(0, o.keepAliveS * 1000 - 1000) : this.idleMs;
  }

  /** @internal an exchange on `o` is starting */
  began(o: Origin): void {
    o.busy++;
    if (o.busy > o.peak) o.peak = o.busy;
    o.lastUsed = Date.now();
    if (this.warmMs > 0 && this.timer === null) {
      this.timer = setInterval(() => this.check(), WARM_CHECK_MS);
      this.timer.unref();
    }
  }

  /** @internal an exchange on `o` is over */
  ended(o: Origin): void {
    o.busy--;
  }

  /**
   * Closes expired idle connections (an engine need not close one that never
   * carried a request) and, within warmMs of an origin's last request, opens
   * their replacements. Runs while any origin is warm or holds connections.
   */
  private check(): void {
    const now = Date.now();
    let needed = false;
    for (const o of this.origins.values()) {
      for (let i = o.idle.length - 1; i >= 0; i--) {
        // Replaced a little early rather than kept past its time until the next check.
        if (o.idle[i]!.expiresAt > now + WARM_CHECK_MS) continue;
        o.idle[i]!.socket.destroy();
        o.idle.splice(i, 1);
      }
      if (now - o.lastUsed > this.warmMs) o.peak = o.busy;
      else if (this.idleLife(o) >= MIN_WARM_LIFE_MS) {
        const want = Math.min(o.peak, o.busy + this.maxIdle) - (o.busy + o.idle.length + o.warming);
        for (let i = 0; i < Math.min(want, WARM_BATCH); i++) this.warm(o);
      }
      if (o.peak > o.busy || o.idle.length > 0 || o.warming > 0) needed = true;
    }
    if (!needed && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Opens one connection for `o`'s idle pool. A connection that fails stops the warming until the next request: the engine may be gone. */
  private warm(o: Origin): void {
    const conn = this.open(o);
    // A request that finds it dropped before any response byte is retried on a new one, as on any kept connection.
    conn.used = true;
    o.warming++;
    let settled = false;
    const settle = (connected: boolean) => {
      if (settled) return;
      settled = true;
      o.warming--;
      if (!connected) o.peak = 0;
    };
    conn.socket.once('connect', () => {
      settle(true);
      if (o.idle.length >= this.maxIdle || o.peak === 0) return void conn.socket.destroy();
      conn.expiresAt = Date.now() + this.idleLife(o);
      o.idle.push(conn);
    });
    conn.socket.once('close', () => settle(false));
  }
}

const enum Phase {
  Head,
  Body,
  Done,
}

class Exchange implements ExchangeControl {
  private conn: Conn | null = null;
  private phase = Phase.Head;
  private headBuf: Buffer | null = null;
  private remaining = -1;
  private chunked: ChunkedDecoder | null = null;
  private untilClose = false;
  private closeAfter = false;
  private keepAliveS: number | null = null;
  private retried = false;
  /** The connection had served an earlier exchange. */
  private reused = false;
  private gotBytes = false;
  /** The socket's error, reported when it closes. */
  private lastError: NodeJS.ErrnoException | null = null;
  private readonly out: Buffer[] = [];
  /** Counted in the origin's exchanges in progress (pool.began), until over(). */
  private counted = false;

  constructor(
    private readonly pool: ClientPool,
    private readonly origin: Origin,
    /** The whole request: head and body. */
    private readonly message: Buffer,
    private readonly handler: ResponseHandler,
    /** A HEAD response has no body, whatever its Content-Length says (RFC 9112 §6.3). */
    private readonly headRequest = false,
  ) {}

  start(): void {
    this.handler.onStart(this);
    if (this.phase === Phase.Done) return;
    this.send(this.pool.takeIdle(this.origin) ?? this.pool.open(this.origin));
  }

  private send(conn: Conn): void {
    if (!this.counted) {
      this.counted = true;
      this.pool.began(this.origin);
    }
    this.conn = conn;
    this.reused = conn.used;
    conn.exchange = this;
    conn.socket.write(this.message);
  }

  pause(): void {
    this.conn?.socket.pause();
  }

  resume(): void {
    this.conn?.socket.resume();
  }

  abort(reason: Error): void {
    if (this.phase === Phase.Done) return;
    const conn = this.detach();
    conn?.socket.destroy();
    this.fail(new ClientError('ERR_ABORTED', reason.message));
  }

  onData(d: Buffer): void {
    this.gotBytes = true;
    try {
      if (this.phase === Phase.Head) {
        const buf = this.headBuf ? Buffer.concat([this.headBuf, d]) : d;
        const end = buf.indexOf(HEAD_END);
        if (end < 0) {
          if (buf.length > MAX_RESPONSE_HEAD) throw new ClientError('ERR_BAD_RESPONSE', 'response head too large');
          this.headBuf = buf;
          return;
        }
        this.headBuf = null;
        const head = parseResponseHead(buf.toString('latin1', 0, end));
        if (!head) throw new ClientError('ERR_BAD_RESPONSE', 'malformed response head');
        // An interim response (100 Continue, 103 Early Hints): the real one follows.
        if (head.status < 200 && head.status !== 101) return this.onData(buf.subarray(end + 4));
        this.closeAfter = head.close;
        this.keepAliveS = head.keepAliveS;
        const bodiless = this.headRequest || head.status === 204 || head.status === 304 || head.status === 101;
        if (bodiless) this.remaining = 0;
        else if (head.chunked) this.chunked = new ChunkedDecoder();
        else if (head.contentLength >= 0) this.remaining = head.contentLength;
        else this.untilClose = true;
        this.phase = Phase.Body;
        this.handler.onHeaders(head);
        if (this.phase !== Phase.Body) return; // aborted from onHeaders
        d = buf.subarray(end + 4);
        if (d.length === 0 && this.remaining !== 0) return;
      }
      this.readBody(d);
    } catch (err) {
      const conn = this.detach();
      conn?.socket.destroy();
      this.fail(err instanceof ClientError ? err : new ClientError('ERR_BAD_RESPONSE', (err as Error).message));
    }
  }

  private readBody(d: Buffer): void {
    if (this.chunked) {
      const used = this.chunked.push(d, this.out);
      const out = this.out;
      if (out.length) {
        const data = out.length === 1 ? out[0]! : Buffer.concat(out);
        out.length = 0;
        if (this.chunked.wholeChunks) this.handler.onData(data, false, d);
        else this.handler.onData(data, this.chunked.done);
        if (this.phase !== Phase.Body) return;
      }
      if (this.chunked.done) this.complete(used === d.length);
      return;
    }
    if (this.untilClose) {
      if (d.length) this.handler.onData(d, false);
      return;
    }
    const take = Math.min(this.remaining, d.length);
    this.remaining -= take;
    if (take) this.handler.onData(take === d.length ? d : d.subarray(0, take), this.remaining === 0);
    if (this.phase !== Phase.Body) return;
    if (this.remaining === 0) this.complete(take === d.length);
  }

  /** @param clean no stray bytes followed the message */
  private complete(clean: boolean): void {
    const conn = this.detach()!;
    this.phase = Phase.Done;
    this.over();
    if (this.closeAfter || !clean || conn.socket.destroyed) conn.socket.destroy();
    else {
      if (conn.socket.isPaused()) conn.socket.resume();
      this.pool.release(this.origin, conn, this.keepAliveS);
    }
    this.handler.onEnd();
  }

  onSocketError(err: NodeJS.ErrnoException): void {
    this.lastError = err;
  }

  onSocketClose(): void {
    if (this.phase === Phase.Done) return;
    this.detach();
    if (this.untilClose && this.phase === Phase.Body) {
      this.phase = Phase.Done;
      this.over();
      this.handler.onEnd();
      return;
    }
    // A kept connection the engine closed just as we reused it: the request
    // never reached a live handler, so it goes again on a fresh connection (once).
    if (this.reused && !this.gotBytes && !this.retried) {
      this.retried = true;
      this.lastError = null;
      this.send(this.pool.open(this.origin));
      return;
    }
    const e = this.lastError;
    const code = e?.code ?? (this.gotBytes ? 'ERR_RESPONSE_TRUNCATED' : 'ECONNRESET');
    this.fail(new ClientError(code, e?.message ?? (this.gotBytes ? 'the engine closed the connection mid-response' : 'the engine closed the connection before answering')));
  }

  private over(): void {
    if (!this.counted) return;
    this.counted = false;
    this.pool.ended(this.origin);
  }

  private detach(): Conn | null {
    const conn = this.conn;
    this.conn = null;
    if (conn) conn.exchange = null;
    return conn;
  }

  private fail(err: ClientError): void {
    if (this.phase === Phase.Done) return;
    const started = this.phase === Phase.Body;
    this.phase = Phase.Done;
    this.over();
    this.handler.onError(err, started);
  }
}
