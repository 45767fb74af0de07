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
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
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

export interface ResponseHead {
  status: number;
  headers: HeaderMap;
  /** -1: no Content-Length. */
  contentLength: number;
  chunked: boolean;
  /** The server will close after this response (or said nothing about HTTP/1.0 keep-alive). */
  close: boolean;
  /** Seconds from `Keep-Alive: timeout=N`, or null. */
  keepAliveS: number | null;
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

export function parseResponseHead(text: string): ResponseHead | null {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd === -1) lineEnd = text.length;
  // HTTP/1.x SP 3DIGIT [SP reason]
  if (lineEnd < 12 || !text.startsWith('HTTP/1.') || text.charCodeAt(8) !== 32 || (lineEnd > 12 && text.charCodeAt(12) !== 32)) return null;
  const minor = text.charCodeAt(7) - 48;
  const statusText = text.slice(9, 12);
  if ((minor !== 0 && minor !== 1) || !isDigits(statusText)) return null;
  const headers: HeaderMap = Object.create(null) as HeaderMap;
  if (!parseFields(text, lineEnd, headers)) return null;
  const te = headers['transfer-encoding'];
  const chunked = te !== undefined;
  // Chunked must be the last coding; anything else is not a framing we can read.
  if (chunked && !/(^|,)\s*chunked\s*$/i.test(String(te))) return null;
  const length = chunked ? -1 : contentLength(headers['content-length']);
  if (length === null) return null;
  const http10 = minor === 0;
  const conn = headers.connection;
  const kaHeader = headers['keep-alive'];
  const ka = kaHeader === undefined ? null : /(?:^|,)\s*timeout=(\d+)/i.exec(String(kaHeader));
  return {
    status: Number(statusText),
    headers,
    contentLength: length,
    chunked,
    close: hasToken(conn, 'close') || (http10 && !hasToken(conn, 'keep-alive')),
    keepAliveS: ka ? Number(ka[1]) : null,
  };
}
