// The byte-exact JSON span reader the gateway uses to read and edit OpenAI
// bodies without re-serialising them.
//
// Why spans instead of JSON.parse + JSON.stringify: the gateway promises bytes
// identical to the engine's (and the client's, on the way in). A JS round trip
// changes them: Python writes floats as `1e-05` where JS writes `0.00001`,
// integers above 2^53 (a `seed`) lose precision, `1.0` becomes `1`, `\u00e9`
// escapes become raw UTF-8. So we locate the few members we touch and splice;
// everything else is copied as the original bytes. Pure, no I/O.
//
// These assume well-formed input (the caller has parsed it, or falls back to
// parsing when a helper returns -1/null); they never allocate for the bytes
// they skip. Structural characters are ASCII and never occur inside a UTF-8
// multibyte sequence, so scanning bytes is exact.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const isWs = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export function skipWs(b: Buffer, i: number): number {
  while (isWs(b[i])) i++;
  return i;
}

/** True when the byte at i is preceded by an odd number of backslashes. */
export function isEscaped(b: Buffer, i: number): boolean {
  let k = i - 1;
  while (k >= 0 && b[k] === BACKSLASH) k--;
  return (i - 1 - k) % 2 === 1;
}

/** i at an opening quote; returns the index just past the closing quote, or -1. */
function skipString(b: Buffer, i: number): number {
  let q = i;
  for (;;) {
    q = b.indexOf(QUOTE, q + 1);
    if (q === -1) return -1;
    if (!isEscaped(b, q)) return q + 1;
  }
}

/** i at the first byte of a value; returns the index just past it, or -1 if it is malformed or truncated. */
export function skipJsonValue(b: Buffer, i: number): number {
  const c = b[i];
  if (c === undefined) return -1;
  if (c === QUOTE) return skipString(b, i);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < b.length; j++) {
      const d = b[j];
      if (d === QUOTE) {
        const end = skipString(b, j);
        if (end === -1) return -1;
        j = end - 1;
      } else if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
      else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
        if (--depth === 0) return j + 1;
      }
    }
    return -1;
  }
  // number, true, false, null
  let j = i;
  while (j < b.length) {
    const d = b[j];
    if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || isWs(d)) break;
    j++;
  }
  return j === i ? -1 : j;
}

export interface JsonMember {
  /** Decoded key. */
  key: string;
  /** Offset of the key's opening quote. */
  keyStart: number;
  /** Offset of the value's first byte. */
  valueStart: number;
  /** Offset just past the value. */
  valueEnd: number;
}

/** Members of the object whose `{` is at `open`, in source order (duplicates kept), and the offset of its `}`. */
export function jsonObjectMembers(b: Buffer, open: number): { members: JsonMember[]; close: number } | null {
  if (b[open] !== OPEN_BRACE) return null;
  const members: JsonMember[] = [];
  let i = skipWs(b, open + 1);
  if (b[i] === CLOSE_BRACE) return { members, close: i };
  for (;;) {
    if (b[i] !== QUOTE) return null;
    const keyStart = i;
    const keyEnd = skipString(b, i);
    if (keyEnd === -1) return null;
    let key: string;
    const backslash = b.indexOf(BACKSLASH, keyStart);
    if (backslash !== -1 && backslash < keyEnd) {
      try {
        key = JSON.parse(b.toString('utf8', keyStart, keyEnd)) as string;
      } catch {
        return null;
      }
    } else key = b.toString('utf8', keyStart + 1, keyEnd - 1);
    i = skipWs(b, keyEnd);
    if (b[i] !== COLON) return null;
    const valueStart = skipWs(b, i + 1);
    const valueEnd = skipJsonValue(b, valueStart);
    if (valueEnd === -1) return null;
    members.push({ key, keyStart, valueStart, valueEnd });
    i = skipWs(b, valueEnd);
    if (b[i] === CLOSE_BRACE) return { members, close: i };
    if (b[i] !== COMMA) return null;
    i = skipWs(b, i + 1);
  }
}

const COMMA_BUF = Buffer.from(',');

export interface ObjectEdit {
  /** key -> new value as JSON bytes. Replaces every occurrence of the key; appended at the end when absent. */
  replace?: ReadonlyMap<string, Buffer>;
  /** Keys to remove (every occurrence). A key in `replace` is never removed. */
  drop?: ReadonlySet<string>;
}

/**
 * Pieces whose concatenation is the object at `open` with `edit` applied, or
 * null when the object cannot be read. Untouched members keep their bytes, and
 * each kept member keeps the separator (comma and whitespace) that preceded it
 * in the source; a removed member takes its preceding separator with it, and
 * appended members reuse the object's first separator (so pretty-printed
 * bodies stay pretty).
 */
export function editJsonObject(
  b: Buffer,
  open: number,
  edit: ObjectEdit,
  scanned = jsonObjectMembers(b, open),
): Buffer[] | null {
  if (!scanned) return null;
  const { members, close } = scanned;
  const replace = edit.replace ?? new Map<string, Buffer>();
  const drop = edit.drop ?? new Set<string>();
  const sep = members.length > 1 ? b.subarray(members[0]!.valueEnd, members[1]!.keyStart) : COMMA_BUF;
  const out: Buffer[] = [b.subarray(open, members[0]?.keyStart ?? close)];
  const toAppend = new Map(replace);
  let wrote = false;
  members.forEach((m, i) => {
    const value = replace.get(m.key);
    if (value === undefined && drop.has(m.key)) return;
    if (wrote) out.push(i > 0 ? b.subarray(members[i - 1]!.valueEnd, m.keyStart) : sep);
    if (value === undefined) out.push(b.subarray(m.keyStart, m.valueEnd));
    else {
      toAppend.delete(m.key);
      out.push(b.subarray(m.keyStart, m.valueStart), value);
    }
    wrote = true;
  });
  for (const [key, value] of toAppend) {
    if (wrote) out.push(sep);
    out.push(Buffer.from(`${JSON.stringify(key)}:`), value);
    wrote = true;
  }
  out.push(b.subarray(members.at(-1)?.valueEnd ?? close, close + 1));
  return out;
}

/** True when b[i..] is `(, "key": value)* }` and then only whitespace: i.e. i sits in the top-level object. */
export function closesTopLevelObject(b: Buffer, i: number): boolean {
  for (;;) {
    i = skipWs(b, i);
    if (b[i] === CLOSE_BRACE) return skipWs(b, i + 1) === b.length;
    if (b[i] !== COMMA) return false;
    i = skipWs(b, i + 1);
    if (b[i] !== QUOTE) return false;
    i = skipString(b, i);
    if (i === -1) return false;
    i = skipWs(b, i);
    if (b[i] !== COLON) return false;
    i = skipJsonValue(b, skipWs(b, i + 1));
    if (i === -1) return false;
  }
}

/** i just past a member's key; returns the index of its value (after `:`), or -1. */
export function valueAfterKey(b: Buffer, i: number): number {
  i = skipWs(b, i);
  return b[i] === COLON ? skipWs(b, i + 1) : -1;
}
