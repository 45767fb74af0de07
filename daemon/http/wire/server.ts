// The wire path: HTTP/1.1 on raw sockets for the requests that dominate the
// daemon's traffic (POST /v1/*, one JSON body each), in front of Node's http
// server for everything else. Node's server spends most of a proxied request's
// CPU on IncomingMessage/ServerResponse machinery; here a request is one head
// parse and one body slice. The first request the wire path does not take
// (another route, a chunked or 100-continue upload, HTTP/1.0, a malformed
// head) hands the connection, bytes already read included, to Node's parser
// for the rest of its life, so every odd case keeps Node's full behaviour.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { HEAD_END, parseRequestHead, RequestHeadScanner, ScanResult, type HeaderLookup } from './head.js';
import { WireResponse } from './response.js';

export interface WireRequest {
  method: string;
  /** The request target as sent (path and query). */
  url: string;
  headers: HeaderLookup;
  body: Buffer;
}

export interface WireOptions {
  /** Whether the wire path serves this request; asked before its body is read. */
  accepts(method: string, url: string, contentLength: number): boolean;
  /**
   * Asked right after the head of a request the wire path accepts, before its
   * body is read: null admits it (on to handle()); a function refuses it and
   * writes the refusal on the response it is given, at once. The body is never
   * buffered; if it has not all arrived, the connection closes after the
   * refusal rather than wait for it.
   */
  admit?(method: string, url: string, headers: HeaderLookup): ((res: WireResponse) => void) | null;
  /** Serves an admitted request. */
  handle(req: WireRequest, res: WireResponse): void;
  // The deadlines of Node's own server, so that a slow client meets the same
  // limits on either path. Each defaults to the server's setting when
  // installWire runs; 0 turns one off, as on Node's server.
  /** Idle time before a kept-alive connection is closed (Node's keepAliveTimeout), at the next check: never sooner. */
  keepAliveTimeoutMs?: number;
  /** From a request's first byte to the end of its head; then 408 and close (Node's headersTimeout). */
  headersTimeoutMs?: number;
  /** From a request's first byte to the end of its body; then 408 and close (Node's requestTimeout). */
  requestTimeoutMs?: number;
  /** How often the deadlines are checked (Node's connectionsCheckingInterval); default 1 s. */
  checkIntervalMs?: number;
  /** Longest request head; a longer one goes to Node, which answers 431. */
  maxHeaderBytes?: number;
}

export interface Wire {
  /** Destroys every wire-path connection (daemon shutdown). */
  closeAll(): void;
}

// Bytes of pipelined requests buffered while a response is in progress, past
// which reading pauses (and client-close detection with it) until it is done.
const PIPELINE_BUFFER = 1 << 20;

// Node's own answers (lib/_http_server.js), byte for byte: a client sees the
// same whichever path its connection was on.
const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';

interface Limits {
  keepAliveMs: number;
  headersMs: number;
  requestMs: number;
  maxHeader: number;
}

/**
 * Puts the wire path in front of `server`'s own connection handling. Node's
 * http server attaches its parser in its 'connection' listener; the wire path
 * takes that listener's place and calls it on hand-off, which is the same as
 * emitting 'connection' (the documented way to give a socket to a server).
 */
export function installWire(server: Server, opts: WireOptions): Wire {
  const nodeListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const handOff = (socket: Socket) => {
    for (const l of nodeListeners) l.call(server, socket);
  };
  const limits: Limits = {
    keepAliveMs: opts.keepAliveTimeoutMs ?? server.keepAliveTimeout,
    headersMs: opts.headersTimeoutMs ?? server.headersTimeout,
    requestMs: opts.requestTimeoutMs ?? server.requestTimeout,
    maxHeader: opts.maxHeaderBytes ?? 16 * 1024,
  };
  const live = new Set<WireConnection>();
  server.on('connection', (socket: Socket) => {
    const conn: WireConnection = new WireConnection(socket, opts, limits, (s) => {
      live.delete(conn);
      handOff(s);
    }, () => live.delete(conn));
    live.add(conn);
  });
  // One timer for all connections, as Node's server does, rather than one
  // armed and cleared per request on the hot path, or refreshed at every read
  // and write as a socket's own timeout is (a stream's every token).
  if (limits.headersMs > 0 || limits.requestMs > 0 || limits.keepAliveMs > 0) {
    const timer = setInterval(() => {
      const now = performance.now();
      for (const c of live) c.checkDeadlines(now);
    }, opts.checkIntervalMs ?? 1000);
    timer.unref();
    server.once('close', () => clearInterval(timer));
  }
  return {
    closeAll() {
      for (const c of live) c.socket.destroy();
      live.clear();
    },
  };
}

class WireConnection {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Follows a head that did not come whole in one read; null otherwise. */
  private scan: RequestHeadScanner | null = null;
  /** How many of `pending`'s buffers the scanner has read. */
  private scanned = 0;
  /** Set between a head and the end of its body. */
  private head: { method: string; url: string; headers: HeaderLookup; length: number; close: boolean; bodyAt: number } | null = null;
  private active: WireResponse | null = null;
  /** When the request being read began (performance.now()); -1 between requests. */
  private messageStart = -1;
  private handedOff = false;
  /** Bytes at the start of `pending` known to be whole requests for the wire path (see advance). */
  private checked = 0;
  /** A request said `Connection: close`: nothing after it is read. */
  private closing = false;
  private readonly keepAliveS: number;
  /** Since when nothing is in progress (performance.now()): the connection's start, or its last response's end. */
  private idleSince = performance.now();

  constructor(
    readonly socket: Socket,
    private readonly opts: WireOptions,
    private readonly limits: Limits,
    private readonly handOff: (s: Socket) => void,
    private readonly gone: () => void,
  ) {
    this.keepAliveS = Math.floor(limits.keepAliveMs / 1000);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private readonly onData = (d: Buffer) => {
    if (this.closing) return;
    this.pending.push(d);
    this.pendingBytes += d.length;
    if (this.active) {
      if (this.pendingBytes > PIPELINE_BUFFER) this.socket.pause();
      return;
    }
    this.advance();
  };

  // HTTP/1.1 has no half-open exchange for us to finish: as Node's server
  // does by default, a client's FIN aborts whatever it had in flight, and a
  // request cut short is a 400 (Node's parser fails on the early EOF).
  private readonly onEnd = () => {
    if (this.active) {
      this.socket.destroy();
      return;
    }
    if (this.messageStart >= 0 && this.socket.writable) this.socket.write(BAD_REQUEST);
    this.release();
    // Not destroy: a response finished just before may still be on its way out.
    this.socket.end();
  };
  private readonly onError = () => {};
  private readonly onClose = () => {
    this.release();
    this.gone();
    this.active?.socketClosed();
  };

  /**
   * Called by installWire's timer: a request read too slowly gets Node's 408
   * and the connection closes; so does, without a word, one idle for the
   * keep-alive timeout (Node's keepAliveTimeout). A request being served is
   * left to the gateway (a cold start can take minutes).
   */
  checkDeadlines(now: number): void {
    if (this.active || this.handedOff) return;
    if (this.messageStart < 0) {
      if (this.limits.keepAliveMs > 0 && now - this.idleSince >= this.limits.keepAliveMs) this.socket.destroy();
      return;
    }
    const age = now - this.messageStart;
    const { headersMs, requestMs } = this.limits;
    if ((this.head === null && headersMs > 0 && age >= headersMs) || (requestMs > 0 && age >= requestMs)) {
      if (this.socket.writable) this.socket.write(REQUEST_TIMEOUT);
      this.release();
      this.socket.destroy();
    }
  }

  /** Drops what a dead connection holds. */
  private release(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.scan = null;
    this.head = null;
    this.messageStart = -1;
  }

  /** Parses and dispatches what is buffered, until a request is in progress or more bytes are needed. */
  private advance(): void {
    while (!this.active && !this.handedOff && !this.closing && this.pendingBytes > 0) {
      if (this.messageStart < 0) this.messageStart = performance.now();
      if (!this.head && !this.readHead()) return;
      const h = this.head!;
      if (this.pendingBytes < h.bodyAt + h.length) return;
      const all = this.take();
      const body = all.subarray(h.bodyAt, h.bodyAt + h.length);
      const rest = all.subarray(h.bodyAt + h.length);
      // Pipelined requests read together: Node's parser reads them all before
      // any answer goes out, and a bad one among them (or any byte after a
      // `Connection: close`) makes its 400 the only answer. So the wire path
      // serves such a batch only if it would serve every request in it;
      // otherwise Node takes the connection from the first request's first byte.
      this.checked = Math.max(0, this.checked - (h.bodyAt + h.length));
      if (rest.length > this.checked) {
        this.checked = h.close ? -1 : this.wholeRequests(rest, this.checked);
        if (this.checked < 0) {
          this.checked = 0;
          this.pending = [all];
          this.pendingBytes = all.length;
          this.head = null;
          return void this.giveUp();
        }
      }
      if (rest.length) {
        this.pending.push(rest);
        this.pendingBytes = rest.length;
      }
      this.head = null;
      this.messageStart = -1;
      this.dispatch(h.method, h.url, h.headers, body, h.close);
    }
  }

  /**
   * How many bytes of `buf`, from `from` on, are whole requests the wire path
   * would serve, up to the first incomplete one; -1 when one of them (or the
   * start of the incomplete one) is not for the wire path.
   */
  private wholeRequests(buf: Buffer, from: number): number {
    let at = from;
    while (at < buf.length) {
      const end = buf.indexOf(HEAD_END, at);
      if (end < 0) return new RequestHeadScanner(this.limits.maxHeader).push(buf.subarray(at)) === ScanResult.Refused ? -1 : at;
      if (end - at > this.limits.maxHeader) return -1;
      const p = parseRequestHead(buf.toString('latin1', at, end));
      if (!p || p.needsFullParser || p.contentLength < 0 || !this.opts.accepts(p.method, p.target, p.contentLength)) return -1;
      const next = end + 4 + p.contentLength;
      if (next > buf.length) return at;
      if (p.close && next < buf.length) return -1;
      at = next;
    }
    return at;
  }

  /** Flattens the buffered bytes into one buffer (once per body, or per read of a split head). */
  private take(): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.scanned = 0;
    return all;
  }

  private readHead(): boolean {
    if (this.scan === null) {
      // The usual case: the whole head came in one read.
      const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [buf];
      const end = buf.indexOf(HEAD_END);
      if (end >= 0) return this.parseHead(buf, end);
      this.scan = new RequestHeadScanner(this.limits.maxHeader);
      this.scanned = 0;
    }
    // The head arrives in pieces: each piece is checked once, as it comes,
    // so a head that cannot be valid goes to Node without waiting for its end.
    for (; this.scanned < this.pending.length; this.scanned++) {
      const r = this.scan.push(this.pending[this.scanned]!);
      if (r === ScanResult.Refused) return this.giveUp();
      if (r >= 0) {
        this.scan = null;
        const buf = this.take();
        this.pending = [buf];
        this.pendingBytes = buf.length;
        return this.parseHead(buf, r - 4);
      }
    }
    return false;
  }

  /** `end` is where CRLF CRLF starts in `buf`. */
  private parseHead(buf: Buffer, end: number): boolean {
    if (end > this.limits.maxHeader) return this.giveUp();
    const parsed = parseRequestHead(buf.toString('latin1', 0, end));
    if (!parsed || parsed.needsFullParser || parsed.contentLength < 0 || !this.opts.accepts(parsed.method, parsed.target, parsed.contentLength)) {
      return this.giveUp();
    }
    const refusal = this.opts.admit?.(parsed.method, parsed.target, parsed);
    if (refusal) return this.refuse(refusal, buf, end + 4 + parsed.contentLength, parsed.close);
    this.head = { method: parsed.method, url: parsed.target, headers: parsed, length: parsed.contentLength, close: parsed.close, bodyAt: end + 4 };
    return true;
  }

  private dispatch(method: string, url: string, headers: HeaderLookup, body: Buffer, close: boolean): void {
    if (close) {
      // Bytes after a `Connection: close` request are not requests (llhttp refuses them too).
      this.closing = true;
      this.pending = [];
      this.pendingBytes = 0;
    }
    const res = new WireResponse(this.socket, !close, this.keepAliveS, this.done);
    this.active = res;
    this.opts.handle({ method, url, headers, body }, res);
  }

  private readonly done = (res: WireResponse) => {
    if (this.active !== res) return;
    this.active = null;
    this.idleSince = performance.now();
    const socket = this.socket;
    if (socket.destroyed) return;
    if (!res.writableFinished || res.destroyed) return;
    if (!res.keepAlive) {
      socket.end();
      return;
    }
    if (socket.isPaused()) socket.resume();
    // Pipelined requests wait for the response before them; not on this stack.
    if (this.pendingBytes > 0) setImmediate(() => this.advance());
  };

  /**
   * Answers a refused head without reading its body. A body already here (a
   * small request arrives whole) is skipped and the connection carries on, as
   * with Node's parser. A body still to come is not waited for: the answer
   * says Connection: close, and what the client still sends is dropped as it
   * comes; closing at once would reset the connection, which can lose the
   * answer on its way. Bytes past the declared body would be a next request
   * we will not serve, and end the connection.
   */
  private refuse(answer: (res: WireResponse) => void, buf: Buffer, bodyEnd: number, close: boolean): false {
    if (buf.length >= bodyEnd) {
      const rest = buf.subarray(bodyEnd);
      this.pending = rest.length ? [rest] : [];
      this.pendingBytes = rest.length;
      const res = new WireResponse(this.socket, !close, this.keepAliveS, this.done);
      this.active = res;
      answer(res);
      return false;
    }
    this.handedOff = true;
    this.pending = [];
    this.pendingBytes = 0;
    const socket = this.socket;
    let left = bodyEnd - buf.length;
    socket.off('data', this.onData);
    socket.on('data', (d: Buffer) => {
      left -= d.length;
      if (left < 0) socket.destroy();
    });
    answer(new WireResponse(socket, false, this.keepAliveS, () => socket.end()));
    return false;
  }

  /** Node's parser takes the connection from here, starting with the bytes we hold. */
  private giveUp(): false {
    this.handedOff = true;
    const s = this.socket;
    s.off('data', this.onData);
    s.off('end', this.onEnd);
    s.off('error', this.onError);
    s.off('close', this.onClose);
    this.scan = null;
    this.messageStart = -1;
    const held = this.take();
    if (held.length) s.unshift(held);
    this.handOff(s);
    return false;
  }
}
