// Loopback by default; anything that listens beyond loopback needs an API key.
// The Host check stops DNS rebinding: a web page on evil.example resolving to
// 127.0.0.1 still sends `Host: evil.example`, which we refuse.
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { isLoopbackHost, type Settings } from '../config/settings.js';
import { badRequest, HttpError } from './errors.js';

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

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The API key check as a plain predicate; null when allowed (or no key is set). */
export function apiKeyGuard(apiKey: string | null): (authorization: string | undefined) => HttpError | null {
  return (auth = '') => {
    if (!apiKey) return null;
    const token = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    if (token && sameSecret(token, apiKey)) return null;
    return new HttpError(401, 'invalid_api_key', 'missing or wrong API key: send Authorization: Bearer <key>');
  };
}

export function apiKeyCheck(apiKey: string | null): RequestHandler {
  const guard = apiKeyGuard(apiKey);
  return (req, _res, next) => next(guard(req.headers.authorization) ?? undefined);
}

/** Browsers attach Origin; only the daemon's own UI may drive the management API. */
export function originCheck(settings: Pick<Settings, 'host' | 'port' | 'allowedHosts'>): RequestHandler {
  return (req, _res, next) => {
    const origin = req.headers.origin;
    if (!origin) return next();
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return next(new HttpError(403, 'forbidden_origin', `Origin "${origin}" is not allowed`));
    }
    const name = url.hostname.toLowerCase();
    const sameHost = isLoopbackHost(name) || settings.allowedHosts.includes(name) || name === settings.host;
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    if (sameHost && port === String(settings.port)) return next();
    next(new HttpError(403, 'forbidden_origin', `Origin "${origin}" is not allowed`));
  };
}
