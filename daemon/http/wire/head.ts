// Pure parsers for HTTP/1.1 message heads (RFC 9112 §2-§6), as far as the
// gateway's wire path needs them. Anything they do not understand comes back
// as null: the server then gives the connection to Node's own parser, which
// answers the odd cases (obs-fold, HTTP/1.0, 100-continue, bad syntax) fully.

// These run once per request on the proxy's critical path, where the CPU
// caches are cold (the engine and the client ran in between), so they use
// table lookups and indexOf rather than regular expressions and splits.
//
// The request side accepts a subset of what Node's parser (llhttp, strict
// mode) accepts, and reads it the same way: the connection goes to Node for
// anything else, so every borderline case (a 400, a 431, a header Node keeps
// only once) is answered by Node itself. The tables below are llhttp's.
import { METHODS } from 'node:http';

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

/** Bytes llhttp takes in a request target: visible ASCII only (no tab, no obs-text). */
export function isTargetByte(c: number): boolean {
  return c > 32 && c < 127;
}

/** Every method llhttp knows, and every prefix of one: a head may be refused from its first bytes. */
const METHOD_PREFIXES = new Set<string>();
for (const m of METHODS) for (let i = 1; i <= m.length; i++) METHOD_PREFIXES.add(m.slice(0, i));
const KNOWN_METHODS = new Set<string>(METHODS);

/** Field values (one byte per character): visible characters, spaces, tabs and obs-text; no other controls. */
export function isFieldValue(s: string, from = 0, to = s.length): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    // Above 0xff is not a byte: written as latin1 it would lose its high bits (U+010A would become LF).
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return false;
  }
  return true;
}

/**
 * Whether `text` is field lines as written on the wire, each `name: value`
 * CRLF (the empty string is none): what a response head may carry after its
 * status line, with no CR, LF or NUL smuggled into a name or value.
 */
export function isFieldLines(text: string): boolean {
  for (let at = 0; at < text.length; ) {
    const end = text.indexOf('\r\n', at);
    if (end === -1) return false;
    const colon = text.indexOf(':', at);
    if (colon === -1 || colon > end || !isToken(text, at, colon) || !isFieldValue(text, colon + 1, end)) return false;
    at = end + 2;
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

  /** Whether a proxy passes this field on. */
  protected passesOn(f: Field): boolean {
    return !isHopByHop(f);
  }

  protected toMap(endToEndOnly: boolean): HeaderMap {
    const map = Object.create(null) as HeaderMap;
    const { text, spans } = this;
    for (let i = 0; i < spans.length; i += 4) {
      if (endToEndOnly && !this.passesOn(fieldOf(text, spans[i]!, spans[i + 1]!))) continue;
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

  // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, and a proxy
  // must remove the Content-Length before passing such a message on; the
  // client gets the body with our own framing only.
  protected override passesOn(f: Field): boolean {
    return !isHopByHop(f) && !(this.chunked && f === Field.ContentLength);
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

/**
 * Fields Node's IncomingMessage does not join when repeated: it keeps the
 * first (content-type, authorization...) or joins with '; ' (cookie). The
 * wire path joins every repeat with ", ", so a head repeating one of these
 * goes to Node, and the handler never reads a field two ways.
 */
const NODE_SPECIAL = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'cookie', 'etag', 'expires', 'from', 'host',
  'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization',
  'referer', 'retry-after', 'server', 'set-cookie', 'user-agent',
]);
/** NODE_SPECIAL by name length, each name with its bit: a head is checked without a lower-cased copy of any name. */
const SPECIAL_BY_LENGTH: [name: string, bit: number][][] = [];
[...NODE_SPECIAL].forEach((name, i) => (SPECIAL_BY_LENGTH[name.length] ??= []).push([name, 1 << i]));

/** Whether a field Node reads differently when repeated comes more than once. */
function repeatsSpecial(text: string, spans: number[]): boolean {
  let seen = 0;
  for (let i = 0; i < spans.length; i += 4) {
    const from = spans[i]!;
    const to = spans[i + 1]!;
    const candidates = SPECIAL_BY_LENGTH[to - from];
    if (candidates === undefined) continue;
    for (const [name, bit] of candidates) {
      if (!nameIs(text, from, to, name)) continue;
      if (seen & bit) return true;
      seen |= bit;
      break;
    }
  }
  return false;
}

/**
 * More field lines than any API client sends: such a head goes to Node,
 * whose own limits (maxHeadersCount, maxHeaderSize) then apply.
 */
export const MAX_REQUEST_FIELDS = 100;

/**
 * One Content-Length as llhttp reads it: digits, with spaces or tabs before
 * and only spaces after (a tab after the digits is a 400 there). `lineEnd`
 * is where the field line ends. Null for anything else, lists included.
 */
function requestContentLength(text: string, vs: number, ve: number, lineEnd: number): number | null {
  if (ve - vs > 15 || !isDigits(text.slice(vs, ve))) return null;
  for (let i = ve; i < lineEnd; i++) if (text.charCodeAt(i) !== 32) return null;
  return Number(text.slice(vs, ve));
}

/** `text` is the head without its final CRLF CRLF, decoded as latin1. */
export function parseRequestHead(text: string): RequestHead | null {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd === -1) lineEnd = text.length;
  // method SP request-target SP HTTP/1.1
  const sp1 = text.indexOf(' ');
  const sp2 = sp1 === -1 ? -1 : text.indexOf(' ', sp1 + 1);
  if (sp1 === -1 || sp2 === -1 || sp2 + 9 !== lineEnd || !text.startsWith('HTTP/1.1', sp2 + 1)) return null;
  const method = text.slice(0, sp1);
  if (!KNOWN_METHODS.has(method) || sp2 === sp1 + 1) return null;
  for (let i = sp1 + 1; i < sp2; i++) if (!isTargetByte(text.charCodeAt(i))) return null;
  const spans = fieldSpans(text, lineEnd);
  if (!spans || spans.length > MAX_REQUEST_FIELDS * 4 || repeatsSpecial(text, spans)) return null;
  let length = -1;
  let conn: string | undefined;
  let hosts = 0;
  let needsFullParser = false;
  for (let i = 0; i < spans.length; i += 4) {
    switch (fieldOf(text, spans[i]!, spans[i + 1]!)) {
      case Field.ContentLength: {
        const next = i + 4 < spans.length ? spans[i + 4]! - 2 : text.length;
        const n = requestContentLength(text, spans[i + 2]!, spans[i + 3]!, next);
        if (n === null) return null;
        length = n;
        break;
      }
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
  // Exactly one Host (RFC 9112 §3.2).
  if (hosts !== 1) return null;
  return new RequestHead(method, text.slice(sp1 + 1, sp2), length, hasToken(conn, 'close'), needsFullParser, text, spans);
}

/** The field lines whose field `keep` accepts, each `name: value` CRLF as received. */
function fieldLines(text: string, spans: number[], keep: (f: Field) => boolean): string {
  let out = '';
  for (let i = 0; i < spans.length; i += 4) {
    if (!keep(fieldOf(text, spans[i]!, spans[i + 1]!))) continue;
    const end = i + 4 < spans.length ? spans[i + 4]! - 2 : text.length;
    out += text.slice(spans[i], end) + '\r\n';
  }
  return out;
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
  // Both framings: the lines are copied again without Content-Length (see ResponseHead.passesOn).
  if (chunked && cl !== undefined) endToEnd = fieldLines(text, spans, (f) => !isHopByHop(f) && f !== Field.ContentLength);
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

// States of RequestHeadScanner, one per position in the grammar.
const enum Scan {
  Method,
  TargetStart,
  Target,
  Version,
  LineCr,
  LineLf,
  LineStart,
  Name,
  Value,
  EndLf,
  Done,
  Refused,
}

const VERSION = 'HTTP/1.1';

/** What RequestHeadScanner.push found. */
export const enum ScanResult {
  /** The bytes so far can start a head the wire path takes; the head has not ended. */
  More = -1,
  /** They cannot: hand the connection to Node now, which answers as it always does. */
  Refused = -2,
}

/**
 * Follows a request head byte by byte as it arrives, for heads that do not
 * come whole in one read. It refuses at the first byte that cannot belong to
 * a head parseRequestHead accepts (a bare CR or LF, a control byte, a line
 * without a colon, obs-fold, an unknown method, HTTP/1.0...), so a client
 * that will never send CRLF CRLF gets Node's 400 at once instead of a
 * silent wait. It keeps a few numbers, never the bytes: a trickled head
 * costs one pass over each byte.
 */
export class RequestHeadScanner {
  private state = Scan.Method;
  private method = '';
  private versionAt = 0;
  private fields = 0;
  /** Bytes seen so far. */
  length = 0;

  constructor(private readonly maxBytes: number) {}

  /**
   * Feeds the next bytes. Returns the head's length (CRLF CRLF included)
   * counted from its first byte when it ends in `chunk`, or a ScanResult.
   */
  push(chunk: Buffer): number {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      this.state = this.step(c);
      if (this.state === Scan.Refused) return ScanResult.Refused;
      if (this.state === Scan.Done) {
        this.length += i + 1;
        return this.length;
      }
    }
    this.length += chunk.length;
    // Node answers an oversize head with 431.
    return this.length > this.maxBytes + 4 ? ScanResult.Refused : ScanResult.More;
  }

  private step(c: number): Scan {
    switch (this.state) {
      case Scan.Method:
        if (c === 32) return KNOWN_METHODS.has(this.method) ? Scan.TargetStart : Scan.Refused;
        this.method += String.fromCharCode(c);
        return METHOD_PREFIXES.has(this.method) ? Scan.Method : Scan.Refused;
      case Scan.TargetStart:
      case Scan.Target:
        if (c === 32 && this.state === Scan.Target) return Scan.Version;
        return isTargetByte(c) ? Scan.Target : Scan.Refused;
      case Scan.Version:
        if (c !== VERSION.charCodeAt(this.versionAt++)) return Scan.Refused;
        return this.versionAt === VERSION.length ? Scan.LineCr : Scan.Version;
      case Scan.LineCr:
        return c === 13 ? Scan.LineLf : Scan.Refused;
      case Scan.LineLf:
        return c === 10 ? Scan.LineStart : Scan.Refused;
      case Scan.LineStart:
        if (c === 13) return Scan.EndLf;
        // A space or tab here is obs-fold; anything but a tchar cannot start a name.
        if (c >= 128 || TCHAR[c] === 0) return Scan.Refused;
        return ++this.fields > MAX_REQUEST_FIELDS ? Scan.Refused : Scan.Name;
      case Scan.Name:
        if (c === 58) return Scan.Value;
        return c < 128 && TCHAR[c] === 1 ? Scan.Name : Scan.Refused;
      case Scan.Value:
        if (c === 13) return Scan.LineLf;
        return (c < 32 && c !== 9) || c === 127 ? Scan.Refused : Scan.Value;
      case Scan.EndLf:
        return c === 10 ? Scan.Done : Scan.Refused;
      default:
        return Scan.Refused;
    }
  }
}
