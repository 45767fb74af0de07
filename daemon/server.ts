// createServer(deps): one express app with /api/v1 (management), /v1 (the
// OpenAI gateway), /metrics and the browser UI at `/`. No listen() here, so
// tests mount it anywhere.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { join } from 'node:path';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { createGateway, type Gateway } from './gateway/gateway.js';
import { apiRouter, type ApiDeps } from './api/router.js';
import { sessionRouter } from './api/session.js';
import { gatewayRouter } from './gateway/router.js';
import type { GatewayMetrics } from './metrics/gateway-metrics.js';
import { ModelDirectory } from './gateway/model-directory.js';
import { apiKeyCheck, browserCheck, hostCheck } from './http/security.js';
import { errorMiddleware, notFound } from './http/errors.js';
import { uiRouter } from './http/ui.js';
import { PACKAGE_ROOT } from './package-root.js';
import { ALAYA_PREFIX, alayaErrors, alayaRouter } from './platforms/alaya/router.js';
import { SCALEGENAI_PREFIX, scaleGenAiErrors, scaleGenAiRouter } from './platforms/scalegenai/router.js';

export interface ServerDeps extends ApiDeps {
  metrics: GatewayMetrics;
}

/**
 * The daemon's request listener: POST /v1/* on the gateway's fast path,
 * everything else on the express app. `wire` is the gateway's entry for the
 * raw HTTP/1.1 path that main.ts installs in front of Node's server.
 */
export function createServer(deps: ServerDeps): RequestListener & { app: Express; wire: Gateway['wire'] } {
  const directory = new ModelDirectory();
  const gateway = createGateway({ ...deps, directory });
  const app = createApp(deps, directory);
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (!gateway.node(req, res)) app(req, res);
  };
  return Object.assign(listener, { app, wire: gateway.wire });
}

function createApp(deps: ServerDeps, directory: ModelDirectory): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Every door checks in this order, before a body is read: Host (DNS
  // rebinding), Origin (a web page the user visits), then the API key (which a
  // browser's preflight never carries, so preflights are answered in between).
  app.use(hostCheck(deps.settings));
  app.use(browserCheck(deps.settings));
  const auth = apiKeyCheck(deps.settings.apiKey);
  // The serving platforms' APIs, each with its own key check (Alaya's
  // credential header) and its own envelope; before /api's Bearer-only check,
  // which would otherwise answer Alaya's path in Berth's dialect.
  app.use(ALAYA_PREFIX, alayaRouter(deps));
  app.use(SCALEGENAI_PREFIX, scaleGenAiRouter(deps));
  // Logging in is how a browser without the session cookie gets one.
  app.use('/api/v1', sessionRouter(deps.settings.apiKey));
  app.use('/api', auth);
  app.use('/api/v1', apiRouter(deps));
  app.use('/v1', gatewayRouter({ ...deps, directory }));
  app.get('/metrics', auth, async (_req, res) => {
    const { contentType, body } = await deps.metrics.render();
    res.type(contentType).send(body);
  });
  // The UI's static files need no key: the page itself logs in.
  app.use(uiRouter(join(PACKAGE_ROOT, 'dist/renderer')));
  app.use((req, _res, next) => next(notFound(`no route ${req.method} ${req.path}`, 'route_not_found')));
  // Errors raised before a router (the Host check) still speak the route's dialect.
  const openai = errorMiddleware('openai', deps.log);
  const berth = errorMiddleware('berth', deps.log);
  const alaya = alayaErrors(deps.log);
  const scaleGenAi = scaleGenAiErrors(deps.log);
  const under = (path: string, prefix: string) => path === prefix || path.startsWith(prefix + '/');
  const dialect = (path: string) =>
    under(path, ALAYA_PREFIX) ? alaya : under(path, SCALEGENAI_PREFIX) ? scaleGenAi : path.startsWith('/v1') ? openai : berth;
  app.use(((err, req, res, next) => dialect(req.path)(err, req, res, next)) as ErrorRequestHandler);
  return app;
}
