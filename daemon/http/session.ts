// The browser UI's session cookie. A browser's EventSource cannot send an
// Authorization header, so the UI trades the API key for a cookie once
// (POST /api/v1/session). Its value is an HMAC of a fixed label keyed by the
// API key: no state to keep, it survives daemon restarts, and it dies when
// the key changes. It is never the key itself, which stays out of the
// browser's cookie jar.
import { createHmac } from 'node:crypto';

export const SESSION_COOKIE = 'berth_session';
const LABEL = 'berth ui session v1';

export function sessionToken(apiKey: string): string {
  return createHmac('sha256', apiKey).update(LABEL).digest('base64url');
}

/** The Set-Cookie value that logs the UI in: HttpOnly (no script reads it), SameSite=Strict, whole origin. */
export function sessionCookie(apiKey: string): string {
  return `${SESSION_COOKIE}=${sessionToken(apiKey)}; Path=/; HttpOnly; SameSite=Strict`;
}

/** The Set-Cookie value that logs the UI out. */
export const CLEARED_SESSION_COOKIE = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;

/** The session cookie's value in a Cookie header, or undefined. */
export function sessionFromCookies(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === SESSION_COOKIE) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether a request comes from a page of the daemon's own origin (or from no
 * page at all). Cookies are scoped by host, not port, and SameSite counts
 * every port of 127.0.0.1 as the same site, so a page on
 * http://127.0.0.1:3000 gets our cookie sent along: only its Origin (on
 * fetches and EventSource) and Sec-Fetch-Site (on everything a modern browser
 * sends, <img> and <script> included) tell it apart. `host` is the Host
 * header, which the Host check has already vouched for.
 */
export function fromOwnOrigin(h: { origin?: string; secFetchSite?: string; host?: string }): boolean {
  if (h.secFetchSite !== undefined && h.secFetchSite !== 'same-origin') return false;
  if (h.origin === undefined) return true;
  if (h.host === undefined) return false;
  const origin = h.origin.toLowerCase();
  const host = h.host.toLowerCase();
  return origin === `http://${host}` || origin === `https://${host}`;
}
