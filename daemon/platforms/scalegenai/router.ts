// ScaleGenAI's inference API at its own paths: POST /sg_inf/create creates
// and starts a deployment, GET and DELETE /sg_inf/{id} find it by inf_id.
// Every answer, errors from the guards in front of it included, is
// ScaleGenAI's envelope: {"success":true,"message":...} or
// {"success":false,"message":"<reason>"}.
import { randomUUID } from 'node:crypto';
import express, { Router, type ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { HttpError, toHttpError } from '../../http/errors.js';
import { apiKeyGuard, nodeHeaderLookup } from '../../http/security.js';
import { createFromPlatform, findBySource, invalid, removeRequestFiles } from '../common.js';
import type { PlatformDeps } from '../deps.js';
import { chatTemplatePath, translateScaleGenAi } from './translate.js';
import { scaleGenAiInference } from './view.js';

export const SCALEGENAI_PREFIX = '/sg_inf';

/** ScaleGenAI's failure envelope, with the status that fits. */
export function scaleGenAiErrors(log: Logger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const e = toHttpError(err);
    if (e.status >= 500) log.error({ err }, 'request failed');
    res.status(e.status).set(e.headers).json({ success: false, message: e.message });
  };
}

export function scaleGenAiRouter(deps: PlatformDeps): Router {
  const { supervisor: sup } = deps;
  const r = Router();
  // ScaleGenAI documents no header of its own: Berth's key, as on /api.
  const guard = apiKeyGuard(deps.settings.apiKey);
  r.use((req, _res, next) => next(guard(nodeHeaderLookup(req.headers)) ?? undefined));
  r.use(express.json({ limit: '1mb' }));

  const find = (id: string) => {
    const d = findBySource(sup, 'scalegenai', id);
    if (!d) throw new HttpError(404, 'not_found', `inference_id: no inference deployment ${id}`, 'inference_id');
    return d;
  };

  r.post('/create', async (req, res) => {
    if (req.body === undefined) throw invalid('body', 'expected a JSON body (Content-Type: application/json)');
    const infId = randomUUID();
    const t = translateScaleGenAi(req.body, { infId, home: deps.settings.home });
    const created = await createFromPlatform(sup, t);
    res.json({ success: true, message: { inf_id: created.spec.source?.id } });
  });
  r.all('/create', (req) => {
    throw new HttpError(405, 'method_not_allowed', `${req.method} ${SCALEGENAI_PREFIX}/create: use POST`);
  });
  r.get('/:id', (req, res) => {
    res.json({ success: true, message: scaleGenAiInference(find(req.params.id)) });
  });
  r.delete('/:id', async (req, res) => {
    const d = find(req.params.id);
    await sup.remove(d.name);
    await removeRequestFiles([chatTemplatePath(deps.settings.home, req.params.id)]);
    res.json({ success: true, message: `inference deployment ${req.params.id} deleted` });
  });
  r.all('/:id', (req) => {
    throw new HttpError(405, 'method_not_allowed', `${req.method} ${SCALEGENAI_PREFIX}${req.path}: use GET or DELETE`);
  });
  r.use((req) => {
    throw new HttpError(404, 'route_not_found', `no route ${req.method} ${SCALEGENAI_PREFIX}${req.path}`);
  });
  r.use(scaleGenAiErrors(deps.log));
  return r;
}
