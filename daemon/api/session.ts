// POST/DELETE /api/v1/session: the browser UI trades the API key for its
// session cookie (http/session.ts), because its EventSource cannot send an
// Authorization header. Mounted ahead of the API-key check: logging in is
// how a browser without the cookie gets one.
import express, { Router } from 'express';
import { api } from '../contract/routes.js';
import { isPlainObject } from '../config/settings.js';
import { badRequest, HttpError } from '../http/errors.js';
import { sameSecret } from '../http/security.js';
import { CLEARED_SESSION_COOKIE, sessionCookie } from '../http/session.js';
import { API_PREFIX, mounter } from './mount.js';

export function sessionRouter(apiKey: string | null): Router {
  const r = Router();
  // Only this route's body is read before the key is checked, and it is small.
  r.post(api.createSession.path.slice(API_PREFIX.length), express.json({ limit: '16kb' }));
  const on = mounter(r, API_PREFIX);

  on(api.createSession, ({ body, res }) => {
    const given = isPlainObject(body) ? body.apiKey : undefined;
    if (typeof given !== 'string') throw badRequest('apiKey: expected the API key as a string', 'apiKey');
    if (!apiKey) return { open: true };
    if (!sameSecret(given, apiKey)) throw new HttpError(401, 'invalid_api_key', 'apiKey: wrong API key', 'apiKey');
    res.setHeader('set-cookie', sessionCookie(apiKey));
    return { open: false };
  });

  on(api.deleteSession, ({ res }) => {
    res.setHeader('set-cookie', CLEARED_SESSION_COOKIE);
  });
  return r;
}
