// /v1: the OpenAI-compatible endpoint. Errors use OpenAI's envelope
// {"error":{message,type,param,code}} so every OpenAI SDK surfaces them.
import { Router } from 'express';
import { errorMiddleware, HttpError } from '../http/errors.js';
import { apiKeyCheck } from '../http/security.js';
import { unknownModel, type GatewayDeps } from './handler.js';
import { modelList, refreshAdapters } from './models.js';

export function gatewayRouter(deps: GatewayDeps): Router {
  const r = Router();
  r.use(apiKeyCheck(deps.settings.apiKey));
  r.get('/models', async (_req, res) => {
    await refreshAdapters(deps.supervisor, deps.directory, deps.supervisor.routes());
    res.json(modelList(deps.supervisor.list(), deps.directory));
  });
  r.get('/models/:model', async (req, res) => {
    await refreshAdapters(deps.supervisor, deps.directory, deps.supervisor.routes());
    const deployments = deps.supervisor.list();
    const card = modelList(deployments, deps.directory).data.find((m) => m.id === req.params.model);
    if (!card) throw unknownModel(String(req.params.model), deps.directory.names(deployments));
    res.json(card);
  });
  // POST /v1/* never gets here: the fast path in gateway.ts serves it.
  r.use((req, _res, next) => next(new HttpError(404, 'route_not_found', `no route ${req.method} /v1${req.path}`)));
  r.use(errorMiddleware('openai', deps.log));
  return r;
}
