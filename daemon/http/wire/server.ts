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
import { HEAD_END, parseRequestHead, type HeaderLookup } from './head.js';
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
  /** Idle time before a kept-alive connection is closed (Node's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
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
  const live = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    live.add(socket);
    new WireConnection(socket, opts, (s) => {
      live.delete(s);
      handOff(s);
    }, () => live.delete(socket));
  });
  return {
    closeAll() {
      for (const s of live) s.destroy();
      live.clear();
    },
  };
}

function hasBareLf(buf: Buffer): boolean {
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) if (i === 0 || buf[i - 1] !== 13) return true;
  return false;
}

class WireConnection {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Set between a head and the end of its body. */
  private head: { method: string; url: string; headers: HeaderLookup; length: number; close: boolean; bodyAt: number } | null = null;
  private active: WireResponse | null = null;
  private handedOff = false;
  private readonly maxHeader: number;
  private readonly keepAliveS: number;

  constructor(
    private readonly socket: Socket,
    private readonly opts: WireOptions,
    private readonly handOff: (s: Socket) => void,
    private readonly gone: () => void,
  ) {
    this.maxHeader = opts.maxHeaderBytes ?? 16 * 1024;
    this.keepAliveS = Math.floor(opts.keepAliveTimeoutMs / 1000);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('timeout', this.onTimeout);
    socket.setTimeout(opts.keepAliveTimeoutMs);
  }

  private readonly onData = (d: Buffer) => {
    this.pending.push(d);
    this.pendingBytes += d.length;
    if (this.active) {
      if (this.pendingBytes > PIPELINE_BUFFER) this.socket.pause();
      return;
    }
    this.advance();
  };

  // HTTP/1.1 has no half-open exchange for us to finish: as Node's server
  // does by default, a client's FIN aborts whatever it had in flight.
  private readonly onEnd = () => this.socket.destroy();
  private readonly onError = () => {};
  // One idle timer for the connection's life, refreshed by Node on every read
  // and write: it fires only after keepAliveTimeoutMs of silence, and is
  // ignored while a request waits (a cold start can take minutes).
  private readonly onTimeout = () => {
    if (!this.active) this.socket.destroy();
  };
  private readonly onClose = () => {
    this.gone();
    this.active?.socketClosed();
  };

  /** Parses and dispatches what is buffered, until a request is in progress or more bytes are needed. */
  private advance(): void {
    while (!this.active && !this.handedOff && this.pendingBytes > 0) {
      if (!this.head && !this.readHead()) return;
      const h = this.head!;
      if (this.pendingBytes < h.bodyAt + h.length) return;
      const all = this.take();
      const body = all.subarray(h.bodyAt, h.bodyAt + h.length);
      const rest = all.subarray(h.bodyAt + h.length);
      if (rest.length) {
        this.pending.push(rest);
        this.pendingBytes = rest.length;
      }
      this.head = null;
      this.dispatch(h.method, h.url, h.headers, body, h.close);
    }
  }

  /** Flattens the buffered bytes into one buffer (once per body, or per read of a split head). */
  private take(): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return all;
  }

  private readHead(): boolean {
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [buf];
    const end = buf.indexOf(HEAD_END);
    if (end < 0) {
      // A head ended by bare LFs never shows CRLF CRLF: Node's parser refuses it (400).
      if (buf.length > this.maxHeader || hasBareLf(buf)) this.giveUp();
      return false;
    }
    if (end > this.maxHeader) return this.giveUp();
    const parsed = parseRequestHead(buf.toString('latin1', 0, end));
    if (!parsed || parsed.needsFullParser || parsed.contentLength < 0 || !this.opts.accepts(parsed.method, parsed.target, parsed.contentLength)) {
      return this.giveUp();
    }
    const refusal = this.opts.admit?.(parsed.method, parsed.target, parsed);
    if (refusal) return this.refuse(refusal, buf, end + 4 + parsed.contentLength, parsed.close);
    this.head = { method: parsed.method, url: parsed.target, headers: parsed, length: parsed.contentLength, close: parsed.close, bodyAt: end + 4 };
    // A slow upload is the same to us as a slow request: the idle timer keeps running until the body is in.
    return true;
  }

  private dispatch(method: string, url: string, headers: HeaderLookup, body: Buffer, close: boolean): void {
    const res = new WireResponse(this.socket, !close, this.keepAliveS, this.done);
    this.active = res;
    this.opts.handle({ method, url, headers, body }, res);
  }

  private readonly done = (res: WireResponse) => {
    if (this.active !== res) return;
    this.active = null;
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
    s.off('timeout', this.onTimeout);
    s.setTimeout(0);
    const held = this.take();
    if (held.length) s.unshift(held);
    this.handOff(s);
    return false;
  }
}
