// What the gateway needs from a client's response, met both by Node's
// ServerResponse (requests Node's server parsed) and by the wire path's
// WireResponse (the fast path), so one handler serves both.
export interface ClientResponse {
  statusCode: number;
  readonly headersSent: boolean;
  /** The connection is gone (or was broken on purpose). */
  readonly destroyed: boolean;
  /** end() has run: the whole response is written. */
  readonly writableFinished: boolean;
  /** A field for the head to come (CORS fields for a browser's request). */
  setHeader(name: string, value: string): unknown;
  writeHead(status: number, headers: Record<string, string | number | string[]>): unknown;
  /**
   * The wire path's cheaper writeHead: end-to-end field lines as received
   * from the engine (see ResponseHead.endToEnd). Absent on Node's response.
   */
  writeHeadRaw?(status: number, fields: string, hasContentLength: boolean, hasDate: boolean): unknown;
  flushHeaders(): void;
  /** false: the client is slow, wait for 'drain'. */
  write(chunk: Buffer): boolean;
  /**
   * The wire path's write of data the engine sent chunked: `framed` is the
   * same data as received, in whole chunks, sent as is where it can be.
   * Absent on Node's response.
   */
  writeFramed?(framed: Buffer, data: Buffer): boolean;
  end(chunk?: string | Buffer): unknown;
  destroy(): unknown;
  on(event: 'close' | 'drain', fn: () => void): unknown;
  once(event: 'close' | 'drain', fn: () => void): unknown;
  off(event: 'close' | 'drain', fn: () => void): unknown;
}

/** A request header by lower-cased name: the wire path reads them in place, Node's path from its object. */
export type { HeaderLookup as RequestHeaders } from '../http/wire/head.js';
