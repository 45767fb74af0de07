// Pure parsers for HTTP/1.1 message heads (RFC 9112 §2-§6), as far as the
// gateway's wire path needs them. Anything they do not understand comes back
// as null: the server then gives the connection to Node's own parser, which
// answers the odd cases (obs-fold, HTTP/1.0, 100-continue, bad syntax) fully.

// These run once per request on the proxy's critical path, where the CPU
// caches are cold (the engine and the client ran in between), so they use
// table lookups and indexOf rather than regular expressions and splits.

/** tchar (RFC 9110 §5.6.2): the characters of a header field name. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

export function isToken(s: string, from = 0, to = s.length): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** The field value without its optional whitespace (spaces and tabs only, RFC 9110 §5.5). */
function trimOws(s: string, from: number, to: number): string {
  while (from < to && (s.charCodeAt(from) === 32 || s.charCodeAt(from) === 9)) from++;
  while (to > from && (s.charCodeAt(to - 1) === 32 || s.charCodeAt(to - 1) === 9)) to--;
  return s.slice(from, to);
}

/** Field values (one byte per character): visible characters, spaces, tabs and obs-text; no other controls. */
export function isFieldValue(s: string, from = 0, to = s.length): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    // Above 0xff is not a byte: written as latin1 it would lose its high bits (U+010A would become LF).
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return false;
  }
  return true;
}

/** Where a message head ends: CRLF CRLF. */
export const HEAD_END = Buffer.from('\r\n\r\n');

/** Lower-cased names; repeated fields joined with ", " (set-cookie kept as a list). */
export type HeaderMap = Record<string, string | string[] | undefined>;

export interface RequestHead {
  method: string;
  target: string;
  headers: HeaderMap;
  /** Declared body length; -1 when the request has no Content-Length. */
  contentLength: number;
  /** The client asked to close after this exchange (`Connection: close`). */
  close: boolean;
  /** Transfer-Encoding, Expect or Upgrade were present: only Node's parser handles those. */
  needsFullParser: boolean;
}

/** Fields that describe one connection, not the message (RFC 9110 §7.6.1): a proxy does not pass them on. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

export class ResponseHead {
  private map: HeaderMap | null = null;

  constructor(
    readonly status: number,
    /** -1: no Content-Length. */
    readonly contentLength: number,
    readonly chunked: boolean,
    /** The server will close after this response (or said nothing about HTTP/1.0 keep-alive). */
    readonly close: boolean,
    /** Seconds from `Keep-Alive: timeout=N`, or null. */
    readonly keepAliveS: number | null,
    /** Content-Type, '' when absent. */
    readonly contentType: string,
    /** Whether a Date field came. */
    readonly hasDate: boolean,
    /**
     * The end-to-end field lines as received, each `name: value` CRLF: what a
     * proxy passes on, without parsing them into a map and writing them again.
     */
    readonly endToEnd: string,
    private readonly text: string,
    private readonly fieldsAt: number,
  ) {}

  /** Every field by lower-cased name, parsed on first use (a proxy needs only endToEnd). */
  get headers(): HeaderMap {
    if (this.map === null) {
      this.map = Object.create(null) as HeaderMap;
      parseFields(this.text, this.fieldsAt, this.map);
    }
    return this.map;
  }
}

/** Parses the field lines after the start line (which ends at `from`); false on anything malformed. */
function parseFields(text: string, from: number, headers: HeaderMap): boolean {
  let at = from;
  while (at < text.length) {
    // `at` is at a CRLF; the next line runs to the next CRLF or the end.
    const start = at + 2;
    let end = text.indexOf('\r\n', start);
    if (end === -1) end = text.length;
    const colon = text.indexOf(':', start);
    // No colon on this line, a space before it, or a continuation line (obs-fold).
    if (colon === -1 || colon >= end || !isToken(text, start, colon)) return false;
    const value = trimOws(text, colon + 1, end);
    if (!isFieldValue(value)) return false;
    const key = text.slice(start, colon).toLowerCase();
    const prev = headers[key];
    if (prev === undefined) headers[key] = key === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prev)) prev.push(value);
    else headers[key] = `${prev}, ${value}`;
    at = end;
  }
  return true;
}

/** A non-negative decimal Content-Length; repeated equal values are one value (RFC 9110 §8.6). */
function contentLength(raw: string | string[] | undefined): number | null {
  if (raw === undefined) return -1;
  const text = String(raw);
  // The usual case: one plain number.
  if (text.length <= 15 && isDigits(text)) return Number(text);
  const parts = text.split(',');
  const first = parts[0]!.trim();
  if (first.length > 15 || !isDigits(first)) return null;
  for (const p of parts) if (p.trim() !== first) return null;
  return Number(first);
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function hasToken(raw: string | string[] | undefined, token: string): boolean {
  if (raw === undefined) return false;
  const text = String(raw).toLowerCase();
  if (text === token) return true;
  for (const t of text.split(',')) if (t.trim() === token) return true;
  return false;
}

/** `text` is the head without its final CRLF CRLF, decoded as latin1. */
export function parseRequestHead(text: string): RequestHead | null {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd === -1) lineEnd = text.length;
  // method SP request-target SP HTTP/1.1
  const sp1 = text.indexOf(' ');
  const sp2 = sp1 === -1 ? -1 : text.indexOf(' ', sp1 + 1);
  if (sp1 === -1 || sp2 === -1 || sp2 + 9 !== lineEnd || !text.startsWith('HTTP/1.1', sp2 + 1)) return null;
  if (!isToken(text, 0, sp1) || sp2 === sp1 + 1 || text.charCodeAt(sp1 + 1) <= 32) return null;
  const target = text.slice(sp1 + 1, sp2);
  if (!isFieldValue(target) || target.includes(' ')) return null;
  const headers: HeaderMap = Object.create(null) as HeaderMap;
  if (!parseFields(text, lineEnd, headers)) return null;
  const length = contentLength(headers['content-length']);
  // Exactly one Host (RFC 9112 §3.2); repeated fields were joined with ", ".
  if (length === null || headers.host === undefined || headers.host.includes(',')) return null;
  return {
    method: text.slice(0, sp1),
    target,
    headers,
    contentLength: length,
    close: hasToken(headers.connection, 'close'),
    needsFullParser: headers['transfer-encoding'] !== undefined || headers.expect !== undefined || headers.upgrade !== undefined,
  };
}

// The fields a response head is read for, by name; the rest only go through.
const enum Field {
  Other,
  ContentLength,
  TransferEncoding,
  Connection,
  KeepAlive,
  ContentType,
  Date,
  OtherHopByHop,
}

/** Whether text[from, to) is `lower` in any letter case. */
function nameIs(text: string, from: number, to: number, lower: string): boolean {
  if (to - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = text.charCodeAt(from + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Names compared in place, by length first: no lower-cased copy per field. */
function fieldOf(text: string, from: number, to: number): Field {
  switch (to - from) {
    case 2:
      return nameIs(text, from, to, 'te') ? Field.OtherHopByHop : Field.Other;
    case 4:
      return nameIs(text, from, to, 'date') ? Field.Date : Field.Other;
    case 7:
      return nameIs(text, from, to, 'trailer') || nameIs(text, from, to, 'upgrade') ? Field.OtherHopByHop : Field.Other;
    case 10:
      return nameIs(text, from, to, 'connection') ? Field.Connection : nameIs(text, from, to, 'keep-alive') ? Field.KeepAlive : Field.Other;
    case 12:
      return nameIs(text, from, to, 'content-type') ? Field.ContentType : Field.Other;
    case 14:
      return nameIs(text, from, to, 'content-length') ? Field.ContentLength : Field.Other;
    case 17:
      return nameIs(text, from, to, 'transfer-encoding') ? Field.TransferEncoding : Field.Other;
    case 18:
      return nameIs(text, from, to, 'proxy-authenticate') ? Field.OtherHopByHop : Field.Other;
    case 19:
      return nameIs(text, from, to, 'proxy-authorization') ? Field.OtherHopByHop : Field.Other;
    default:
      return Field.Other;
  }
}

const join = (prev: string | undefined, value: string) => (prev === undefined ? value : `${prev}, ${value}`);

/**
 * One pass over the field lines: validates each, reads the few that frame the
 * message, and collects the end-to-end lines as runs of the original text.
 * `text` is the head without its final CRLF CRLF, decoded as latin1.
 */
export function parseResponseHead(text: string): ResponseHead | null {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd === -1) lineEnd = text.length;
  // HTTP/1.x SP 3DIGIT [SP reason]
  if (lineEnd < 12 || !text.startsWith('HTTP/1.') || text.charCodeAt(8) !== 32 || (lineEnd > 12 && text.charCodeAt(12) !== 32)) return null;
  const minor = text.charCodeAt(7) - 48;
  const statusText = text.slice(9, 12);
  if ((minor !== 0 && minor !== 1) || !isDigits(statusText)) return null;

  let te: string | undefined;
  let cl: string | undefined;
  let conn: string | undefined;
  let kaHeader: string | undefined;
  let contentType: string | undefined;
  let hasDate = false;
  let endToEnd = '';
  let keptFrom = lineEnd + 2; // start of the run of end-to-end lines not yet copied
  for (let at = lineEnd; at < text.length; ) {
    // `at` is at a CRLF; the next line runs to the next CRLF or the end.
    const start = at + 2;
    let end = text.indexOf('\r\n', start);
    if (end === -1) end = text.length;
    const colon = text.indexOf(':', start);
    // No colon on this line, a space before it, or a continuation line (obs-fold).
    if (colon === -1 || colon >= end || !isToken(text, start, colon)) return null;
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve--;
    if (!isFieldValue(text, vs, ve)) return null;
    const field = fieldOf(text, start, colon);
    switch (field) {
      case Field.ContentLength:
        cl = join(cl, text.slice(vs, ve));
        break;
      case Field.ContentType:
        contentType = join(contentType, text.slice(vs, ve));
        break;
      case Field.Date:
        hasDate = true;
        break;
      case Field.TransferEncoding:
        te = join(te, text.slice(vs, ve));
        break;
      case Field.Connection:
        conn = join(conn, text.slice(vs, ve));
        break;
      case Field.KeepAlive:
        kaHeader = join(kaHeader, text.slice(vs, ve));
        break;
    }
    if (field === Field.TransferEncoding || field === Field.Connection || field === Field.KeepAlive || field === Field.OtherHopByHop) {
      endToEnd += text.slice(keptFrom, start);
      keptFrom = end + 2;
    }
    at = end;
  }
  if (keptFrom < text.length) endToEnd += text.slice(keptFrom) + '\r\n';

  const chunked = te !== undefined;
  // Chunked must be the last coding; anything else is not a framing we can read.
  if (chunked && !/(^|,)\s*chunked\s*$/i.test(te!)) return null;
  const length = chunked ? -1 : contentLength(cl);
  if (length === null) return null;
  const http10 = minor === 0;
  const ka = kaHeader === undefined ? null : /(?:^|,)\s*timeout=(\d+)/i.exec(kaHeader);
  return new ResponseHead(
    Number(statusText),
    length,
    chunked,
    hasToken(conn, 'close') || (http10 && !hasToken(conn, 'keep-alive')),
    ka ? Number(ka[1]) : null,
    contentType ?? '',
    hasDate,
    endToEnd,
    text,
    lineEnd,
  );
}
