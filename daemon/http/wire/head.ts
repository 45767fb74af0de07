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

/** A field by lower-cased name, repeated ones joined with ", "; undefined when absent. */
export interface HeaderLookup {
  get(name: string): string | undefined;
}

/**
 * Validates the field lines after the start line (which ends at `from`, at a
 * CRLF) and returns their positions, four numbers a line: name start, name
 * end, value start, value end (without the optional whitespace). Null on
 * anything malformed. Names and values stay in `text`: a head is read for a
 * few fields, and copying every one out costs more than the whole lookup.
 */
function fieldSpans(text: string, from: number): number[] | null {
  const spans: number[] = [];
  for (let at = from; at < text.length; ) {
    // `at` is at a CRLF; the next line runs to the next CRLF or the end.
    const start = at + 2;
    let end = text.indexOf('\r\n', start);
    if (end === -1) end = text.length;
    const colon = text.indexOf(':', start);
    // No colon on this line, a space before it, or a continuation line (obs-fold).
    if (colon === -1 || colon >= end || !isToken(text, start, colon)) return null;
    // Optional whitespace is spaces and tabs only (RFC 9110 §5.5), not VT, FF or NBSP.
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve--;
    if (!isFieldValue(text, vs, ve)) return null;
    spans.push(start, colon, vs, ve);
    at = end;
  }
  return spans;
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

// The fields a head is read for; the rest only go through.
const enum Field {
  Other,
  ContentLength,
  TransferEncoding,
  Connection,
  KeepAlive,
  ContentType,
  Date,
  Host,
  Expect,
  Upgrade,
  OtherHopByHop,
}

/** Names compared in place, by length first: no lower-cased copy per field. */
function fieldOf(text: string, from: number, to: number): Field {
  switch (to - from) {
    case 2:
      return nameIs(text, from, to, 'te') ? Field.OtherHopByHop : Field.Other;
    case 4:
      return nameIs(text, from, to, 'host') ? Field.Host : nameIs(text, from, to, 'date') ? Field.Date : Field.Other;
    case 6:
      return nameIs(text, from, to, 'expect') ? Field.Expect : Field.Other;
    case 7:
      return nameIs(text, from, to, 'upgrade') ? Field.Upgrade : nameIs(text, from, to, 'trailer') ? Field.OtherHopByHop : Field.Other;
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

/** Fields that describe one connection, not the message (RFC 9110 §7.6.1): a proxy does not pass them on. */
function isHopByHop(f: Field): boolean {
  return f === Field.TransferEncoding || f === Field.Connection || f === Field.KeepAlive || f === Field.Upgrade || f === Field.OtherHopByHop;
}

const joined = (prev: string | undefined, value: string) => (prev === undefined ? value : `${prev}, ${value}`);

/** The fields of a parsed head, read in place; the map form is built only when asked for. */
class Fields implements HeaderLookup {
  private map: HeaderMap | null = null;

  constructor(
    protected readonly text: string,
    protected readonly spans: number[],
  ) {}

  get(name: string): string | undefined {
    const { text, spans } = this;
    let value: string | undefined;
    for (let i = 0; i < spans.length; i += 4) {
      if (nameIs(text, spans[i]!, spans[i + 1]!, name)) value = joined(value, text.slice(spans[i + 2], spans[i + 3]));
    }
    return value;
  }

  /** Every field by lower-cased name (tests, and Node's response on the slow path). */
  get headers(): HeaderMap {
    this.map ??= this.toMap(false);
    return this.map;
  }

  protected toMap(endToEndOnly: boolean): HeaderMap {
    const map = Object.create(null) as HeaderMap;
    const { text, spans } = this;
    for (let i = 0; i < spans.length; i += 4) {
      if (endToEndOnly && isHopByHop(fieldOf(text, spans[i]!, spans[i + 1]!))) continue;
      const key = text.slice(spans[i], spans[i + 1]).toLowerCase();
      const value = text.slice(spans[i + 2], spans[i + 3]);
      const prev = map[key];
      if (prev === undefined) map[key] = key === 'set-cookie' ? [value] : value;
      else if (Array.isArray(prev)) prev.push(value);
      else map[key] = `${prev}, ${value}`;
    }
    return map;
  }
}

export class RequestHead extends Fields {
  constructor(
    readonly method: string,
    readonly target: string,
    /** Declared body length; -1 when the request has no Content-Length. */
    readonly contentLength: number,
    /** The client asked to close after this exchange (`Connection: close`). */
    readonly close: boolean,
    /** Transfer-Encoding, Expect or Upgrade were present: only Node's parser handles those. */
    readonly needsFullParser: boolean,
    text: string,
    spans: number[],
  ) {
    super(text, spans);
  }
}

export class ResponseHead extends Fields {
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
    text: string,
    spans: number[],
  ) {
    super(text, spans);
  }

  /** endToEnd as a map, by lower-cased name (for Node's response). */
  endToEndHeaders(): HeaderMap {
    return this.toMap(true);
  }
}

/** A non-negative decimal Content-Length; repeated equal values are one value (RFC 9110 §8.6). */
function contentLength(raw: string | undefined): number | null {
  if (raw === undefined) return -1;
  // The usual case: one plain number.
  if (raw.length <= 15 && isDigits(raw)) return Number(raw);
  const parts = raw.split(',');
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

/** Whether a comma-separated list holds `token` (lower-case), in any letter case. */
function hasToken(list: string | undefined, token: string): boolean {
  if (list === undefined) return false;
  for (let from = 0; from <= list.length; ) {
    let to = list.indexOf(',', from);
    if (to === -1) to = list.length;
    let a = from;
    let b = to;
    while (a < b && (list.charCodeAt(a) === 32 || list.charCodeAt(a) === 9)) a++;
    while (b > a && (list.charCodeAt(b - 1) === 32 || list.charCodeAt(b - 1) === 9)) b--;
    if (nameIs(list, a, b, token)) return true;
    from = to + 1;
  }
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
  const spans = fieldSpans(text, lineEnd);
  if (!spans) return null;
  let cl: string | undefined;
  let conn: string | undefined;
  let hosts = 0;
  let needsFullParser = false;
  for (let i = 0; i < spans.length; i += 4) {
    switch (fieldOf(text, spans[i]!, spans[i + 1]!)) {
      case Field.ContentLength:
        cl = joined(cl, text.slice(spans[i + 2], spans[i + 3]));
        break;
      case Field.Connection:
        conn = joined(conn, text.slice(spans[i + 2], spans[i + 3]));
        break;
      case Field.Host: {
        // A Host that is a list can only be two Hosts joined.
        const comma = text.indexOf(',', spans[i + 2]);
        hosts += comma !== -1 && comma < spans[i + 3]! ? 2 : 1;
        break;
      }
      case Field.TransferEncoding:
      case Field.Expect:
      case Field.Upgrade:
        needsFullParser = true;
        break;
    }
  }
  const length = contentLength(cl);
  // Exactly one Host (RFC 9112 §3.2).
  if (length === null || hosts !== 1) return null;
  return new RequestHead(text.slice(0, sp1), target, length, hasToken(conn, 'close'), needsFullParser, text, spans);
}

/**
 * Reads the fields that frame the message and collects the end-to-end lines
 * as runs of the original text. `text` is the head without its final CRLF
 * CRLF, decoded as latin1.
 */
export function parseResponseHead(text: string): ResponseHead | null {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd === -1) lineEnd = text.length;
  // HTTP/1.x SP 3DIGIT [SP reason]
  if (lineEnd < 12 || !text.startsWith('HTTP/1.') || text.charCodeAt(8) !== 32 || (lineEnd > 12 && text.charCodeAt(12) !== 32)) return null;
  const minor = text.charCodeAt(7) - 48;
  const statusText = text.slice(9, 12);
  if ((minor !== 0 && minor !== 1) || !isDigits(statusText)) return null;
  const spans = fieldSpans(text, lineEnd);
  if (!spans) return null;

  let te: string | undefined;
  let cl: string | undefined;
  let conn: string | undefined;
  let kaHeader: string | undefined;
  let contentType: string | undefined;
  let hasDate = false;
  let endToEnd = '';
  let keptFrom = lineEnd + 2; // start of the run of end-to-end lines not yet copied
  for (let i = 0; i < spans.length; i += 4) {
    const vs = spans[i + 2];
    const ve = spans[i + 3];
    const field = fieldOf(text, spans[i]!, spans[i + 1]!);
    switch (field) {
      case Field.ContentLength:
        cl = joined(cl, text.slice(vs, ve));
        break;
      case Field.ContentType:
        contentType = joined(contentType, text.slice(vs, ve));
        break;
      case Field.Date:
        hasDate = true;
        break;
      case Field.TransferEncoding:
        te = joined(te, text.slice(vs, ve));
        break;
      case Field.Connection:
        conn = joined(conn, text.slice(vs, ve));
        break;
      case Field.KeepAlive:
        kaHeader = joined(kaHeader, text.slice(vs, ve));
        break;
    }
    if (isHopByHop(field)) {
      // The line and its CRLF are left out: the kept run ends where this line starts.
      endToEnd += text.slice(keptFrom, spans[i]);
      keptFrom = i + 4 < spans.length ? spans[i + 4]! : text.length;
    }
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
    spans,
  );
}
