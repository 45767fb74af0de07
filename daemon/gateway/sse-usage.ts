// A tap on an engine's SSE response on its way to the client: reads token
// usage and the first generated token for metrics, and, when Berth (not the
// client) turned on `stream_options.include_usage`, removes what that changed
// so the client gets the stream it asked for. Pure: bytes in, bytes out.
//
// Framing (both engines, see test/fixtures/engine-responses/README.md): every
// event is one `data: <json>\n\n`, the stream ends with `data: [DONE]\n\n`, and
// mid-stream errors are `data: {"error": ...}` events. We split on a blank line
// (`\n\n`, also `\r\n\r\n` and mixes of the two); bare-CR line endings, which
// the SSE spec also allows, are not produced by either engine and not split.
//
// What include_usage changes, and what we undo:
// - vLLM chat and completions: one extra event after the finish chunk,
//   `"choices":[]` plus `usage`. Dropped; the rest is byte-identical to a run
//   without include_usage.
// - SGLang /v1/completions: the same extra `"choices":[]` event (adapter.py,
//   v1_completions). Dropped.
// - SGLang /v1/chat/completions: the usage rides on the final chunk, whose
//   `choices` is NOT empty (it repeats finish_reason with an empty delta); the
//   same chunk carries `"usage":null` without include_usage. We rewrite that
//   member to `null`.
//   Not undone, because it cannot be without delaying tokens: with
//   include_usage SGLang 0.4.6 (adapter.py, generate_stream_resp) also sends
//   `finish_reason: null` on every content and tool-call chunk, and skips the
//   empty-delta chunk that would carry finish_reason and `matched_stop` (e.g.
//   the EOS id). So a client of a Berth-metered SGLang chat stream sees the
//   finish reason once, on the final chunk, with `matched_stop: null`, where
//   the bare engine would show it twice. Restoring it means holding every
//   content chunk until the next one proves it was not the last: one token of
//   added latency on every stream, which we do not pay.
// - vLLM `continuous_usage_stats` puts usage on every chunk, but only together
//   with include_usage; rewriteBody turns it off when Berth injects. Should it
//   arrive anyway, usage is removed from chat chunks (vLLM leaves the key out
//   of them otherwise) and nulled on completion chunks (which otherwise carry
//   `"usage":null`, being dumped with every key).
//
// Cost: in pass-through mode the client's bytes are the engine's Buffers,
// untouched; in strip mode, complete events are forwarded in the same push and
// only an incomplete trailing event is held. An event is JSON-parsed only if
// it contains a `"usage"` key whose value is an object (`"usage" : {`, any
// JSON whitespace around the colon: both engines write compact pydantic JSON
// today, but a change of separators must neither leak the usage chunk to a
// client nor lose its counts; `"usage"` then a colon cannot occur inside a
// JSON string, whose quotes are escaped), and then only its `usage` value is
// parsed. An event whose JSON spans several `data:` lines (the SSE way to send
// pretty-printed JSON) is read as the lines joined with LF, as a client would.
import { editJsonObject, jsonObjectMembers, skipWs, type JsonMember } from './json-spans.js';
import { readUsage, type TokenUsage } from './token-usage.js';

export type EngineBackend = 'vllm' | 'sglang';

export interface SseUsageTapOptions {
  /**
   * Berth injected include_usage and the client did not ask for it: remove the
   * usage the engine adds. When false, push() returns the very Buffer it was
   * given and the tap only reads.
   */
  stripInjectedUsage: boolean;
  backend: EngineBackend;
  /** Called synchronously from push() when the first generated token goes by (time to first token). */
  onFirstToken?: () => void;
}

/**
 * Past this size an event is forwarded without being read, so an engine that
 * never ends an event cannot grow our buffer without bound (a usage event is a
 * few hundred bytes; a chunk with top_logprobs a few KB).
 */
export const MAX_EVENT_BYTES = 4 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const COLON = 0x3a;
const QUOTE = 0x22;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const EMPTY = Buffer.alloc(0);
const DATA = Buffer.from('data:');
const DATA_SPACE = Buffer.from('data: ');
const LF_BUF = Buffer.from('\n');
const CRLF_BUF = Buffer.from('\r\n');
const USAGE_KEY = '"usage"';
const CHAT_CHUNK = Buffer.from('"chat.completion.chunk"');
const NULL = Buffer.from('null');
const USAGE_TO_NULL = { replace: new Map([['usage', NULL]]) };
const USAGE_REMOVED = { drop: new Set(['usage']) };

// Generated output in a chunk: a non-empty string after one of these keys, or
// a tool call. vLLM's role chunk has `"content":""` and its content chunks
// `"tool_calls":[]`; SGLang's role chunk has `"content":null`: none count.
// `"reasoning_content":"` cannot match `"content":"` (the byte before
// `content` is `_`, not a quote).
const TOKEN_KEYS = ['"content":"', '"reasoning_content":"', '"text":"'];
const TOOL_CALL = '"tool_calls":[{';

export class SseUsageTap {
  private readonly strip: boolean;
  private readonly backend: EngineBackend;
  private readonly firstTokenCallback: (() => void) | undefined;
  /** Bytes of the current, incomplete event (views on the pushed chunks). */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Last two bytes of the current event, -1 when it has fewer: an event end can straddle pushes. */
  private prev1 = -1;
  private prev2 = -1;
  /** The current event outgrew MAX_EVENT_BYTES: its start is gone, forward the rest unread. */
  private oversized = false;
  private lastUsage: TokenUsage | null = null;
  private firstTokenSeen = false;

  constructor(opts: SseUsageTapOptions) {
    this.strip = opts.stripInjectedUsage;
    this.backend = opts.backend;
    this.firstTokenCallback = opts.onFirstToken;
  }

  /** Token usage reported by the engine (the last one seen), or null if none went by. */
  get usage(): TokenUsage | null {
    return this.lastUsage;
  }

  /** True once a chunk with generated content (non-empty content/reasoning/text, or a tool call) went by. */
  get sawFirstToken(): boolean {
    return this.firstTokenSeen;
  }

  /**
   * Bytes to forward to the client now. Without stripping: `chunk` itself.
   * With stripping: every complete event, edited where needed (`chunk` itself
   * when it holds only complete, unedited events), minus a held-back
   * incomplete trailing event.
   */
  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    // Nearly every chunk is whole events (both engines write one event per
    // write, and a read usually brings just that) with no usage object in
    // them: nothing to hold or change, and past the first token nothing to
    // read. Checked on the bytes, without the per-event walk of the general case.
    if (this.heldBytes === 0 && !this.oversized && this.prev1 === -1 && endsWithBlankLine(chunk) && !holdsUsageObject(chunk)) {
      if (!this.firstTokenSeen && carriesToken(chunk.toString('latin1'))) this.sawToken();
      return chunk;
    }
    return this.pushEvents(chunk);
  }

  /** push() for any chunk: walks its events, holding an incomplete last one. */
  private pushEvents(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let edited = false; // the output is not a prefix of `chunk`
    let evStart = 0; // start of the current event in `chunk`
    let runStart = 0; // strip mode: start of chunk bytes not yet added to `out`
    // Once the first token went by, only events holding a usage object need
    // reading; the others (nearly all of a stream) only need their boundaries.
    // Searched as latin1 text (same offsets as the bytes): V8's string search
    // is several times cheaper per call than Buffer#indexOf with a needle.
    const text = chunk.toString('latin1');
    let nextUsage = findUsageObject(text, 0);
    let plain: boolean | null = null; // no CR and no run of three LFs: see below
    let skippedFor = -2; // the nextUsage the last skip was made for
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
      if (nextUsage !== skippedFor && this.firstTokenSeen && (evStart > 0 || (this.heldBytes === 0 && !this.oversized && this.prev1 === -1))) {
        // Nothing to read before the next usage object (or the chunk's end).
        // Where events are plain LF LF-separated, as both engines write them,
        // the boundaries are exactly the occurrences of LF LF: skip to the
        // last one before it instead of walking every line.
        skippedFor = nextUsage;
        plain ??= text.indexOf('\r') === -1 && text.indexOf('\n\n\n') === -1;
        if (plain) {
          const last = nextUsage === -1 ? text.lastIndexOf('\n\n') : nextUsage < 2 ? -1 : text.lastIndexOf('\n\n', nextUsage - 2);
          if (last >= evStart) {
            evStart = last + 2;
            this.prev1 = this.prev2 = -1;
          }
          if (nextUsage === -1) break;
          if (i < evStart) {
            i = evStart - 1;
            continue;
          }
        }
      }
      if (!this.endsEvent(chunk, evStart, i)) continue;
      const end = i + 1;
      if (this.firstTokenSeen && (evStart > 0 || this.heldBytes === 0) && (nextUsage === -1 || nextUsage >= end)) {
        this.oversized = false;
        this.prev1 = this.prev2 = -1;
        evStart = end;
        continue;
      }
      if (nextUsage !== -1 && nextUsage < end) nextUsage = findUsageObject(text, end);
      if (evStart === 0 && this.heldBytes > 0) {
        const event = Buffer.concat([...this.held, chunk.subarray(0, end)], this.heldBytes + end);
        this.held = [];
        this.heldBytes = 0;
        const replacement = this.oversized ? null : this.onEvent(event, event.toString('latin1'));
        if (this.strip) out.push(replacement ?? event);
        edited = true;
        runStart = end;
      } else if (!this.oversized) {
        const replacement = this.onEvent(chunk.subarray(evStart, end), text.slice(evStart, end));
        if (replacement && this.strip) {
          out.push(chunk.subarray(runStart, evStart), replacement);
          edited = true;
          runStart = end;
        }
      }
      this.oversized = false;
      this.prev1 = this.prev2 = -1;
      evStart = end;
    }

    const tail = chunk.length - evStart;
    if (tail > 0) {
      this.prev2 = tail >= 2 ? chunk[chunk.length - 2]! : evStart === 0 ? this.prev1 : -1;
      this.prev1 = chunk[chunk.length - 1]!;
      this.held.push(chunk.subarray(evStart));
      this.heldBytes += tail;
    }

    if (!this.strip) {
      if (this.heldBytes > MAX_EVENT_BYTES) this.giveUpOnEvent();
      return chunk;
    }
    let forward: Buffer;
    if (edited) {
      out.push(chunk.subarray(runStart, evStart));
      forward = Buffer.concat(out);
    } else forward = evStart === chunk.length ? chunk : chunk.subarray(0, evStart);
    return this.heldBytes > MAX_EVENT_BYTES ? this.flushOversized(forward) : forward;
  }

  /** Held-back bytes of an unterminated last event, as the engine sent them (strip mode only; SSE clients discard such an event). */
  end(): Buffer {
    const rest = this.strip && this.heldBytes > 0 ? Buffer.concat(this.held, this.heldBytes) : EMPTY;
    this.held = [];
    this.heldBytes = 0;
    this.prev1 = this.prev2 = -1;
    this.oversized = false;
    return rest;
  }

  /**
   * Whether the LF at chunk[i] completes a blank line (LF LF, or LF CR LF).
   * Bytes before `evStart` belong to the previous event and never count;
   * before chunk[0] they come from prev1/prev2.
   */
  private endsEvent(chunk: Buffer, evStart: number, i: number): boolean {
    // No closure here: this runs for every line, and tsx/esbuild wrap named
    // closures in a per-call __name() that cost more than the whole check.
    const p = i - 1 >= evStart ? chunk[i - 1]! : evStart === 0 ? this.prev1 : -1;
    if (p === LF) return true;
    if (p !== CR) return false;
    const k = i - 2;
    const pp = k >= evStart ? chunk[k]! : evStart > 0 ? -1 : k === -1 ? this.prev1 : this.prev2;
    return pp === LF;
  }

  private sawToken(): void {
    this.firstTokenSeen = true;
    this.firstTokenCallback?.();
  }

  private giveUpOnEvent(): void {
    this.held = [];
    this.heldBytes = 0;
    this.oversized = true;
  }

  /** Strip mode: forward `before` and the held start of an oversized event, and stop holding it. */
  private flushOversized(before: Buffer): Buffer {
    const flushed = Buffer.concat([before, ...this.held]);
    this.giveUpOnEvent();
    return flushed;
  }

  /**
   * Reads one complete event; returns its replacement (EMPTY to drop it), or
   * null to forward it as is. `text` is `event` as latin1, for searching.
   */
  private onEvent(event: Buffer, text: string): Buffer | null {
    if (!this.firstTokenSeen && carriesToken(text)) this.sawToken();
    if (findUsageObject(text, 0) === -1) return null;
    const data = dataField(event);
    if (!data) return null;
    // One data line (what both engines send): the JSON is read in place.
    // Several: read from the lines joined with LF, as an SSE client does.
    const json = data.joined ?? event;
    const open = skipWs(json, data.start);
    if (json[open] !== OPEN_BRACE) return null;
    const scanned = jsonObjectMembers(json, open);
    if (!scanned || scanned.close >= data.end || skipWs(json, scanned.close + 1) < data.end) return null;
    const usageMember = lastMember(scanned.members, 'usage');
    if (!usageMember || json[usageMember.valueStart] !== OPEN_BRACE) return null;
    try {
      const usage = readUsage(JSON.parse(json.toString('utf8', usageMember.valueStart, usageMember.valueEnd)));
      if (usage) this.lastUsage = usage;
    } catch {
      return null;
    }
    if (!this.strip) return null;

    const choices = lastMember(scanned.members, 'choices');
    if (choices && json[choices.valueStart] === OPEN_BRACKET && json[skipWs(json, choices.valueStart + 1)] === CLOSE_BRACKET) {
      return EMPTY; // the extra usage-only event (vLLM both routes, SGLang completions)
    }
    const object = lastMember(scanned.members, 'object');
    const vllmChat =
      this.backend === 'vllm' && !!object && json.subarray(object.valueStart, object.valueEnd).equals(CHAT_CHUNK);
    const pieces = editJsonObject(json, open, vllmChat ? USAGE_REMOVED : USAGE_TO_NULL, scanned);
    if (!pieces) return null;
    const edited = [json.subarray(data.start, open), ...pieces, json.subarray(scanned.close + 1, data.end)];
    if (!data.joined) return Buffer.concat([event.subarray(0, data.start), ...edited, event.subarray(data.end)]);
    return rewriteDataLines(event, Buffer.concat(edited));
  }
}

/**
 * Where the next `"usage"` key with an object value starts in `text` from
 * `from` on, or -1. JSON whitespace may surround the colon; so may a line
 * break into the event's next `data:` line (JSON split over data lines).
 * A false find only costs a parse; a miss would leak a usage chunk.
 */
export function findUsageObject(text: string, from: number): number {
  for (let at = text.indexOf(USAGE_KEY, from); at !== -1; at = text.indexOf(USAGE_KEY, at + USAGE_KEY.length)) {
    let i = skipSseWs(text, at + USAGE_KEY.length);
    if (text.charCodeAt(i) !== COLON) continue;
    i = skipSseWs(text, i + 1);
    if (text.charCodeAt(i) === OPEN_BRACE) return at;
  }
  return -1;
}

/** Whether `chunk` ends an event: its last line is blank (LF LF or LF CR LF), the rule endsEvent applies. */
function endsWithBlankLine(chunk: Buffer): boolean {
  const n = chunk.length;
  if (n < 2 || chunk[n - 1] !== LF) return false;
  const p = chunk[n - 2];
  return p === LF || (p === CR && n >= 3 && chunk[n - 3] === LF);
}

const LETTER_U = 0x75;
const LETTER_S = 0x73;
const LETTER_A = 0x61;
const LETTER_G = 0x67;
const LETTER_E = 0x65;

/**
 * findUsageObject on bytes, as a yes or no: whether `chunk` may hold a
 * `"usage"` key with an object value. The key is found by its `g`, a byte
 * that few chunks hold more than once or twice (memchr, no string made).
 */
function holdsUsageObject(chunk: Buffer): boolean {
  for (let g = chunk.indexOf(LETTER_G, 4); g !== -1; g = chunk.indexOf(LETTER_G, g + 1)) {
    const at = g - 4;
    if (chunk[at] !== QUOTE || chunk[at + 1] !== LETTER_U || chunk[at + 2] !== LETTER_S || chunk[at + 3] !== LETTER_A) continue;
    if (chunk[at + 5] !== LETTER_E || chunk[at + 6] !== QUOTE) continue;
    let i = skipSseWsBytes(chunk, at + USAGE_KEY.length);
    if (chunk[i] !== COLON) continue;
    i = skipSseWsBytes(chunk, i + 1);
    if (chunk[i] === OPEN_BRACE) return true;
  }
  return false;
}

/** skipSseWs on bytes. */
function skipSseWsBytes(b: Buffer, i: number): number {
  for (;;) {
    const c = b[i];
    if (c === SPACE || c === TAB || c === CR) i++;
    else if (c === LF) {
      i++;
      if (isDataLine(b, i, b.length)) i += DATA.length;
    } else return i;
  }
}

/** Skips JSON whitespace, and a `data:` field name right after a line break (the JSON goes on in the next data line). */
function skipSseWs(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === TAB || c === CR) i++;
    else if (c === LF) {
      i++;
      if (text.startsWith('data:', i)) i += DATA.length;
    } else return i;
  }
}

/**
 * `event` with its data lines replaced by `data`, one `data: ` line per line
 * of it, where its first data line was; other lines (event:, id:, comments)
 * and the line endings stay as they were.
 */
function rewriteDataLines(event: Buffer, data: Buffer): Buffer {
  const out: Buffer[] = [];
  let wrote = false;
  for (let s = 0; s < event.length; ) {
    let e = event.indexOf(LF, s);
    e = e === -1 ? event.length : e + 1;
    const line = event.subarray(s, e);
    if (!isDataLine(event, s, e)) out.push(line);
    else if (!wrote) {
      wrote = true;
      const eol = line[line.length - 2] === CR ? CRLF_BUF : LF_BUF;
      for (let a = 0; a <= data.length; ) {
        let b = data.indexOf(LF, a);
        if (b === -1) b = data.length;
        out.push(DATA_SPACE, data.subarray(a, b), eol);
        a = b + 1;
      }
    }
    s = e;
  }
  return Buffer.concat(out);
}

/** The last member named `key` (JSON's last duplicate wins, as in Python's json). */
function lastMember(members: JsonMember[], key: string): JsonMember | undefined {
  for (let i = members.length - 1; i >= 0; i--) if (members[i]!.key === key) return members[i];
  return undefined;
}

function carriesToken(event: string): boolean {
  for (const key of TOKEN_KEYS) {
    for (let at = event.indexOf(key); at !== -1; at = event.indexOf(key, at + key.length)) {
      if (event.charCodeAt(at + key.length) !== QUOTE) return true;
    }
  }
  return event.includes(TOOL_CALL);
}

interface DataField {
  /** The value's span: in `joined` when set, else in the event. */
  start: number;
  end: number;
  /** Several data lines: their values joined with LF (what an SSE client parses). */
  joined?: Buffer;
}

const isDataLine = (event: Buffer, s: number, e: number): boolean =>
  s + DATA.length <= e && event.compare(DATA, 0, DATA.length, s, s + DATA.length) === 0;

/** The event's data: the span of its one `data:` line (both engines), else its data lines joined; null when it has none. */
function dataField(event: Buffer): DataField | null {
  const values: Buffer[] = [];
  let first: DataField | null = null;
  for (let s = 0; s < event.length; ) {
    let e = event.indexOf(LF, s);
    if (e === -1) e = event.length;
    if (isDataLine(event, s, e)) {
      const start = event[s + DATA.length] === SPACE ? s + DATA.length + 1 : s + DATA.length;
      const end = e > start && event[e - 1] === CR ? e - 1 : e;
      first ??= { start, end };
      values.push(event.subarray(start, end));
    }
    s = e + 1;
  }
  if (values.length <= 1) return first;
  const joined = Buffer.concat(values.flatMap((v, i) => (i ? [LF_BUF, v] : [v])));
  return { start: 0, end: joined.length, joined };
}
