// Cutting JavaScript strings without breaking characters. A string is UTF-16:
// characters outside the BMP (emoji, some CJK, the box-drawing-adjacent glyphs
// some progress bars use) are a surrogate pair, and a cut between the two
// halves yields two invalid strings that JSON/SSE consumers render as U+FFFD.

/** The largest index <= `i` at which `s` can be cut without splitting a surrogate pair. */
export function safeCutIndex(s: string, i: number): number {
  if (i <= 0 || i >= s.length) return Math.max(0, Math.min(i, s.length));
  const before = s.charCodeAt(i - 1);
  // A high surrogate right before the cut means its low half is after it.
  return before >= 0xd800 && before <= 0xdbff ? i - 1 : i;
}

/** `s` in pieces of at most `max` code units (a piece may be one shorter to keep a pair whole). */
export function chunkString(s: string, max: number): string[] {
  if (max < 2) throw new RangeError('max must be at least 2 to hold a surrogate pair');
  const out: string[] = [];
  let start = 0;
  while (s.length - start > max) {
    const cut = safeCutIndex(s, start + max);
    out.push(s.slice(start, cut));
    start = cut;
  }
  out.push(s.slice(start));
  return out;
}
