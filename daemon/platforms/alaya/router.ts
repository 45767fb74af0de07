// Alaya's serverless deployment API at its own path: POST creates and starts
// a deployment, GET and DELETE find it by serviceId. Every answer, errors
// from the guards in front of it included, is Alaya's envelope:
// {"code":0,"data":...,"msg":""} or {"code":-1,"data":null,"msg":"<reason naming the field>"}.
import { randomUUID } from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type Request } from 'express';
import type { Logger } from 'pino';
import { HttpError, toHttpError } from '../../http/errors.js';
import { createFromPlatform, findBySource, invalid } from '../common.js';
import type { PlatformDeps } from '../deps.js';
import { alayaAuthGuard } from './auth.js';
import { translateAlaya } from './translate.js';
import { alayaService } from './view.js';

export const ALAYA_PREFIX = '/api/serverless-infer/v1';

const ok = (data: unknown) => ({ code: 0, data, msg: '' });

/** Alaya's failure envelope, with the status that fits. */
export function alayaErrors(log: Logger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const e = toHttpError(err);
    if (e.status >= 500) log.error({ err }, 'request failed');
    res.status(e.status).set(e.headers).json({ code: -1, data: null, msg: e.message });
  };
}

function serviceIdOf(req: Request): string {
  const id = typeof req.params.serviceId === 'string' ? req.params.serviceId : req.query.serviceId;
  if (typeof id !== 'string' || id === '') throw invalid('serviceId', 'required, in the path (/deployment/<serviceId>) or the query (?serviceId=)');
  return id;
}

export function alayaRouter(deps: PlatformDeps): Router {
  const { supervisor: sup } = deps;
  const r = Router();
  const guard = alayaAuthGuard(deps.settings.apiKey);
  // Before the body is read, as on every other door.
  r.use((req, _res, next) => next(guard(req.headers) ?? undefined));
  r.use(express.json({ limit: '1mb' }));

  const find = (req: Request) => {
    const id = serviceIdOf(req);
    const d = findBySource(sup, 'alaya', id);
    if (!d) throw new HttpError(404, 'not_found', `serviceId: no service ${id}`, 'serviceId');
    return d;
  };

  r.post('/deployment', async (req, res) => {
    if (req.body === undefined) throw invalid('body', 'expected a JSON body (Content-Type: application/json)');
    const t = translateAlaya(req.body, randomUUID());
    const name = t.input.name;
    if (sup.has(name)) {
      const ns = t.input.source?.namespace;
      throw new HttpError(409, 'conflict', `name: a service is already served as "${name}" (namespace ${ns ?? 'default'}); delete it or choose another name`, 'name');
    }
    const created = await createFromPlatform(sup, t);
    res.json(ok({ serviceId: created.spec.source?.id }));
  });
  for (const path of ['/deployment', '/deployment/:serviceId']) {
    r.get(path, (req, res) => {
      res.json(ok(alayaService(find(req))));
    });
    r.delete(path, async (req, res) => {
      const d = find(req);
      await sup.remove(d.name);
      res.json(ok({ serviceId: d.spec.source?.id }));
    });
    r.all(path, (req) => {
      throw new HttpError(405, 'method_not_allowed', `${req.method} ${ALAYA_PREFIX}${req.path}: not allowed here`);
    });
  }
  r.use((req) => {
    throw new HttpError(404, 'route_not_found', `no route ${req.method} ${ALAYA_PREFIX}${req.path}`);
  });
  r.use(alayaErrors(deps.log));
  return r;
}
