// Loopback by default; anything that listens beyond loopback needs an API key.
// The Host check stops DNS rebinding: a web page on evil.example resolving to
// 127.0.0.1 still sends `Host: evil.example`, which we refuse. The Origin
// check stops the page itself: a browser sends some cross-origin POSTs
// (text/plain) with no preflight, so without it any site the user visits
// could start, evict and load models. Each check is a plain predicate too, so
// every door (express, the gateway's Node and wire doors) runs the same one.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { originPolicy } from '../config/origins.js';
import { isLoopbackHost, type Settings } from '../config/settings.js';
import { badRequest, HttpError } from './errors.js';
import { fromOwnOrigin, sessionFromCookies, sessionToken } from './session.js';
import type { HeaderLookup } from './wire/head.js';

export function assertSafeBind(settings: Pick<Settings, 'host' | 'apiKey'>): void {
  if (!isLoopbackHost(settings.host) && !settings.apiKey) {
    throw new Error(
      `refusing to listen on ${settings.host} without an API key: set BERTH_API_KEY (or apiKey in settings.json), or listen on 127.0.0.1`,
    );
  }
}

function hostName(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const colon = hostHeader.lastIndexOf(':');
  return colon === -1 ? hostHeader : hostHeader.slice(0, colon);
}

/** The Host check as a plain predicate, for the gateway's fast path; null when allowed. */
export function hostGuard(settings: Pick<Settings, 'host' | 'allowedHosts'>): (hostHeader: string | undefined) => HttpError | null {
  const allowed = new Set([...settings.allowedHosts.map((h) => h.toLowerCase())]);
  if (!isLoopbackHost(settings.host) && settings.host !== '0.0.0.0' && settings.host !== '::') {
    allowed.add(settings.host.toLowerCase());
  }
  return (header) => {
    const name = header ? hostName(header).toLowerCase() : '';
    if (name && (isLoopbackHost(name) || allowed.has(name))) return null;
    return new HttpError(403, 'forbidden_host', `Host "${header ?? ''}" is not allowed; add it to allowedHosts in settings.json`);
  };
}

/**
 * RFC 9112 §3.2: a request with more than one Host is a 400. Node's parser
 * accepts it and keeps only the first in req.headers, so count rawHeaders.
 */
export function duplicateHost(rawHeaders: readonly string[]): HttpError | null {
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.length === 4 && rawHeaders[i]!.toLowerCase() === 'host') hosts++;
  return hosts > 1 ? badRequest('more than one Host header', 'host') : null;
}

export function hostCheck(settings: Pick<Settings, 'host' | 'allowedHosts'>): RequestHandler {
  const guard = hostGuard(settings);
  return (req, _res, next) => next(duplicateHost(req.rawHeaders) ?? guard(req.headers.host) ?? undefined);
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison of two secrets; hashing first keeps even their lengths from showing. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * The API key check as a plain predicate over a request's headers; null when
 * allowed (or no key is set). `Authorization: Bearer <key>` from anyone, or
 * the UI's session cookie (http/session.ts) from the daemon's own origin only.
 */
export function apiKeyGuard(apiKey: string | null): (headers: HeaderLookup) => HttpError | null {
  // Digests computed once: this runs on every request, the gateway's included.
  const keyDigest = digest(apiKey ?? '');
  const sessionDigest = digest(apiKey ? sessionToken(apiKey) : '');
  return (headers) => {
    if (!apiKey) return null;
    const auth = headers.get('authorization') ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    if (token && timingSafeEqual(digest(token), keyDigest)) return null;
    const cookie = sessionFromCookies(headers.get('cookie'));
    if (
      cookie &&
      timingSafeEqual(digest(cookie), sessionDigest) &&
      fromOwnOrigin({ origin: headers.get('origin'), secFetchSite: headers.get('sec-fetch-site'), host: headers.get('host') })
    ) {
      return null;
    }
    return new HttpError(401, 'invalid_api_key', 'missing or wrong API key: send Authorization: Bearer <key>');
  };
}

/** Node's parsed headers as a lookup (repeated fields already joined by Node). */
export function nodeHeaderLookup(h: IncomingHttpHeaders): HeaderLookup {
  return {
    get(name) {
      const v = h[name];
      return Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

export function apiKeyCheck(apiKey: string | null): RequestHandler {
  const guard = apiKeyGuard(apiKey);
  return (req, _res, next) => next(guard(nodeHeaderLookup(req.headers)) ?? undefined);
}

/**
 * The Origin check as a plain predicate, for every door; null when allowed.
 * No Origin (curl, SDKs, the CLI) is not a browser and passes. A request
 * whose Origin is the very host it was sent to is same-origin (the Host check
 * has already vouched for that host), whatever the configured port.
 */
export function originGuard(
  settings: Pick<Settings, 'host' | 'port' | 'allowedHosts' | 'allowedOrigins'>,
): (origin: string | undefined, hostHeader: string | undefined) => HttpError | null {
  const allowed = originPolicy(settings);
  return (origin, host) => {
    if (origin === undefined) return null;
    if (allowed(origin)) return null;
    if (host && (origin === `http://${host}` || origin === `https://${host}`)) return null;
    return new HttpError(
      403,
      'forbidden_origin',
      `Origin "${origin}" is not allowed; add it to allowedOrigins in settings.json or BERTH_ORIGINS`,
    );
  };
}

// Berth's own headers and Retry-After, which a browser hides from scripts unless listed.
const EXPOSED = 'x-berth-served-by, x-berth-replica, x-request-id, retry-after';
const METHODS = 'GET, POST, PATCH, DELETE, OPTIONS';
// Short enough that a changed allowedOrigins reaches browsers soon; Chromium caps it at 2 h anyway.
const PREFLIGHT_MAX_AGE_S = '600';
// Request header names a preflight may ask for: what the OpenAI SDKs send is
// open-ended (x-stainless-*, openai-beta...), so any well-formed name is
// granted, up to a bound; the API key is still checked on the real request.
const MAX_REQUESTED_HEADERS = 64;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * The CORS fields on a response to an allowed Origin. Both gateway doors and
 * express call it through setHeader (Node's response and the wire path's),
 * only when the request carried an Origin, so other requests pay nothing.
 */
export function allowOrigin(res: { setHeader(name: string, value: string): unknown }, origin: string): void {
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('vary', 'Origin');
  res.setHeader('access-control-expose-headers', EXPOSED);
}

/** The headers a preflight asked for that we grant: well-formed names, lower-cased, bounded. */
export function grantedHeaders(requested: string | undefined): string {
  if (!requested) return '';
  const names = requested
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => HEADER_NAME.test(n));
  return names.slice(0, MAX_REQUESTED_HEADERS).join(', ');
}

/**
 * Express's door: refuses a foreign Origin (403 in the route's envelope, via
 * the error middleware), adds CORS fields for an allowed one, and answers its
 * preflights itself, before any API-key check (browsers never send credentials
 * on a preflight) and before any body is read.
 */
export function browserCheck(settings: Pick<Settings, 'host' | 'port' | 'allowedHosts' | 'allowedOrigins'>): RequestHandler {
  const guard = originGuard(settings);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    const refused = guard(origin, req.headers.host);
    if (refused) return next(refused);
    allowOrigin(res, origin);
    const method = req.headers['access-control-request-method'];
    if (req.method !== 'OPTIONS' || method === undefined) return next();
    res.setHeader('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
    res.setHeader('access-control-allow-methods', METHODS);
    const headers = grantedHeaders(req.headers['access-control-request-headers']);
    if (headers) res.setHeader('access-control-allow-headers', headers);
    // Chromium's Private Network Access: a public page asking for a loopback
    // daemon needs this answer too; the Origin is already one the user allowed.
    if (req.headers['access-control-request-private-network'] === 'true') res.setHeader('access-control-allow-private-network', 'true');
    res.setHeader('access-control-max-age', PREFLIGHT_MAX_AGE_S);
    res.status(204).end();
  };
}
