// The client's /v1 request body: read what routing needs, and rewrite the few
// members the gateway must change (model name, include_usage, LoRA selection)
// while every other byte reaches the engine exactly as the client sent it.
// Pure; the size limit is enforced by the caller before we see the bytes.
import { isAscii, isUtf8 } from 'node:buffer';
import { isDeepStrictEqual } from 'node:util';
import { HttpError } from '../http/errors.js';
import { editJsonObject, type JsonMember, jsonObjectMembers, skipWs } from './json-spans.js';

export interface ParsedRequest {
  /** The body exactly as received. */
  raw: Buffer;
  json: Record<string, unknown>;
  model: string;
  /** Whether the engine will stream: `stream` read the way the engines' pydantic models read it. */
  stream: boolean;
  /** The client itself asked for `stream_options.include_usage` (so its usage chunk must reach it). */
  includeUsage: boolean;
}

export interface BodyRewrite {
  /** Replace `model` (e.g. an alias with the served name). */
  model?: string;
  /** Remove these top-level fields (e.g. Berth's own `keep_alive`). */
  dropFields?: string[];
  /**
   * Make the engine report usage on the stream so Berth can meter it. A no-op
   * when the client already asked, and for non-stream requests (vLLM rejects
   * any `stream_options` unless `stream` is true: "Stream options can only be
   * defined when `stream=True`."). When Berth injects it, pair the response
   * with `SseUsageTap({ stripInjectedUsage: true })`.
   */
  includeUsage?: boolean;
  /**
   * Set top-level fields (e.g. SGLang's `lora_path`), replacing every copy of
   * the key or appending it. `undefined` values are ignored. Wins over `model`;
   * a key both set (or `model`) and dropped is set.
   */
  set?: Record<string, unknown>;
}

/**
 * The body as text, or null when it is not UTF-8. Strict, because Starlette
 * decodes the body strictly: bytes it would refuse must not be reported as a
 * routable request. A leading BOM is dropped, as Python's json.loads(bytes)
 * accepts one. ASCII, nearly every body, is checked and decoded without a
 * UTF-8 decoder.
 */
function bodyText(raw: Buffer): string | null {
  if (isAscii(raw)) return raw.toString('latin1');
  if (!isUtf8(raw)) return null;
  const bom = raw.length >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf;
  return raw.toString('utf8', bom ? 3 : 0);
}

export function parseOpenAiBody(raw: Buffer): ParsedRequest {
  let json: unknown;
  try {
    const text = bodyText(raw);
    if (text === null) throw new Error('not UTF-8');
    json = JSON.parse(text);
  } catch {
    throw new HttpError(
      400,
      'invalid_json',
      'We could not parse the JSON body of your request. The API expects a JSON payload, but what was sent was not valid JSON.',
    );
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new HttpError(
      400,
      'invalid_type',
      `Invalid type for request body: expected a JSON object, but got ${typeName(json)} instead.`,
    );
  }
  const body = json as Record<string, unknown>;
  const model = body.model;
  if (model === undefined || model === null || model === '') {
    throw new HttpError(400, 'missing_model', 'you must provide a model parameter', 'model');
  }
  if (typeof model !== 'string') {
    throw new HttpError(
      400,
      'invalid_type',
      `Invalid type for 'model': expected a string, but got ${typeName(model)} instead.`,
      'model',
    );
  }
  const stream = pydanticBool(body.stream) === true;
  const options = body.stream_options;
  const includeUsage = isPlainObject(options) && pydanticBool(options.include_usage) === true;
  return { raw, json: body, model, stream, includeUsage };
}

/**
 * The body to send to the engine: `req.raw` itself (same object) when nothing
 * changes, else the raw bytes with only the affected members spliced (see
 * usage.ts for why we never re-serialise the whole body).
 */
export function rewriteBody(req: ParsedRequest, rw: BodyRewrite): Buffer {
  const { json } = req;
  // The usual request: nothing to change, and nothing allocated to find that out.
  if (rw.set === undefined && rw.dropFields === undefined && (rw.model === undefined || rw.model === req.model) && !(rw.includeUsage && req.stream && !req.includeUsage)) {
    return req.raw;
  }
  const replace = new Map<string, Buffer>();
  const drop = new Set<string>();
  for (const key of rw.dropFields ?? []) if (Object.hasOwn(json, key)) drop.add(key);
  if (rw.model !== undefined && rw.model !== req.model) replace.set('model', jsonBytes(rw.model));
  for (const [key, value] of Object.entries(rw.set ?? {})) {
    if (value === undefined) continue;
    if (Object.hasOwn(json, key) && isDeepStrictEqual(json[key], value)) {
      // "set to what it already is" means "keep it as it is".
      drop.delete(key);
      replace.delete(key);
      continue;
    }
    replace.set(key, jsonBytes(value));
  }
  const wantUsage = rw.includeUsage === true && req.stream && !req.includeUsage;
  if (replace.size === 0 && drop.size === 0 && !wantUsage) return req.raw;

  const raw = req.raw;
  const open = skipWs(raw, raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0);
  // Every streamed chat without stream_options lands here: insert the member
  // after the brace (the object is not empty, it has `model`) instead of
  // scanning the whole body for where its members end.
  if (wantUsage && replace.size === 0 && drop.size === 0 && !Object.hasOwn(json, 'stream_options')) {
    return Buffer.concat([raw.subarray(0, open + 1), STREAM_OPTIONS_MEMBER, raw.subarray(open + 1)]);
  }
  const scanned = jsonObjectMembers(raw, open);
  // parseOpenAiBody accepted these bytes as a JSON object, so they scan.
  if (!scanned) throw new Error('rewriteBody: body does not scan as a JSON object');
  if (wantUsage) {
    const options = streamOptionsWithUsage(raw, scanned.members, json.stream_options);
    if (options) replace.set('stream_options', options);
  }
  if (replace.size === 0 && drop.size === 0) return req.raw;
  const pieces = editJsonObject(raw, open, { replace, drop }, scanned)!;
  return Buffer.concat([raw.subarray(0, open), ...pieces, raw.subarray(scanned.close + 1)]);
}

/**
 * The new `stream_options` value with include_usage on, or null to leave it
 * alone. Merges into an existing object so the client's other options survive.
 */
function streamOptionsWithUsage(raw: Buffer, members: JsonMember[], options: unknown): Buffer | null {
  if (options === undefined || options === null) return INCLUDE_USAGE;
  // A non-object stream_options, or an include_usage pydantic cannot read, is
  // the client's 400 to get from the engine; injecting would hide it.
  if (!isPlainObject(options) || pydanticBool(options.include_usage) === undefined) return null;
  // JSON.parse (which gave us `options`) and Python's json both keep the last duplicate.
  const current = members.findLast((m) => m.key === 'stream_options')!;
  const replace = new Map([['include_usage', TRUE]]);
  // vLLM: include_continuous_usage = include_usage and continuous_usage_stats.
  // Without include_usage the client's continuous_usage_stats did nothing; once
  // we turn include_usage on it would put usage on every chunk, which the tap
  // would then have to strip from every chunk. Turn it off: same client view.
  if (pydanticBool(options.continuous_usage_stats) === true) replace.set('continuous_usage_stats', FALSE);
  const pieces = editJsonObject(raw, current.valueStart, { replace });
  return pieces && Buffer.concat(pieces);
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const INCLUDE_USAGE = Buffer.from('{"include_usage":true}');
const STREAM_OPTIONS_MEMBER = Buffer.from('"stream_options":{"include_usage":true},');

const jsonBytes = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

// pydantic v2 lax-mode bool: both engines declare `stream` and
// `stream_options.include_usage` as Optional[bool], so `"stream": "true"` or
// `1` streams. undefined = pydantic would refuse the value (the engine's 400).
const TRUE_STRINGS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_STRINGS = new Set(['0', 'off', 'f', 'false', 'n', 'no']);
function pydanticBool(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (TRUE_STRINGS.has(s)) return true;
    if (FALSE_STRINGS.has(s)) return false;
  }
  return undefined;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a decimal';
  if (typeof v === 'boolean') return 'a boolean';
  return 'a string';
}
