// What of a client's request goes to the engine as sent: the path under /v1
// and a few headers. Checked before any replica is woken or leased, so a
// request that cannot be forwarded as it stands is the client's 400, naming
// what is wrong, never a half-taken lease and a 500 from the engine client
// (which refuses to write such bytes onto the engine's connection).
import { HttpError } from '../http/errors.js';
import { isFieldValue } from '../http/wire/head.js';
import type { RequestHeaders } from './client-response.js';

// The request-line rule of the engine client (http/wire/client.ts): visible
// ASCII only. A tab, a space, a control or a byte 0x80-0xff in a target is
// something a lenient server may pass on, but no engine request can carry.
function firstBadPathChar(path: string): number {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return i;
  }
  return -1;
}

function describeChar(c: number): string {
  const hex = `0x${c.toString(16).padStart(2, '0')}`;
  if (c === 9) return `a tab (${hex})`;
  if (c === 32) return `a space (${hex})`;
  return c > 0xff ? `the character U+${c.toString(16).padStart(4, '0')}` : `the byte ${hex}`;
}

/** Throws a 400 when `route` (the target's path after /v1) cannot be sent to an engine. */
export function assertForwardablePath(route: string): void {
  const i = firstBadPathChar(route);
  if (i === -1) return;
  throw new HttpError(
    400,
    'invalid_path',
    `the request target has ${describeChar(route.charCodeAt(i))} at offset ${i + 3}; ` +
      'only visible ASCII can be forwarded to a model server (percent-encode anything else)',
  );
}

// The client's Authorization is Berth's key, never the engine's; these alone go on.
const PASSED_ON = ['accept', 'x-request-id'] as const;

/** The headers sent to the engine; a 400 naming the header when one cannot be sent. */
export function forwardHeaders(headers: RequestHeaders): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json' };
  for (const name of PASSED_ON) {
    const v = headers.get(name);
    if (v === undefined) continue;
    if (!isFieldValue(v)) throw new HttpError(400, 'invalid_header', `header ${name} has a character no model server request can carry`, name);
    h[name] = v;
  }
  return h;
}
