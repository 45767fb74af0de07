// /api/v1: Berth's management API. Errors use our envelope {"error":{code,message,field?}}.
import express, { Router } from 'express';
import type { Logger } from 'pino';
import type { GpuInventory } from '../contract/api.js';
import type { Settings } from '../config/settings.js';
import { runDoctor } from '../doctor/doctor.js';
import type { EventBus } from '../events/bus.js';
import { errorMiddleware, notFound } from '../http/errors.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { deploymentsRouter } from './deployments.js';
import type { LiveFeed } from './live-feed.js';
import { liveRouter } from './live.js';
import { deploymentStats } from './stats.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';

export interface ApiDeps {
  settings: Settings;
  supervisor: Supervisor;
  events: EventBus;
  inventory: () => Promise<GpuInventory>;
  log: Logger;
  metrics: GatewayMetrics;
  version: string;
  live: LiveFeed;
}

export function apiRouter(deps: ApiDeps): Router {
  const r = Router();
  const started = Date.now();
  r.use(express.json({ limit: '1mb' }));

  r.get('/health', (_req, res) => {
    res.json({ status: 'ok', version: deps.version, uptimeSeconds: Math.round((Date.now() - started) / 1000) });
  });
  r.get('/gpus', async (_req, res) => {
    res.json(await deps.inventory());
  });
  r.post('/plan', async (req, res) => {
    res.json(await deps.supervisor.plan(req.body));
  });
  r.get('/doctor', async (_req, res) => {
    res.json(await runDoctor(deps.settings, deps.inventory));
  });
  r.get('/deployments/:name/stats', async (req, res) => {
    res.json(await deploymentStats(deps.supervisor, deps.metrics, String(req.params.name)));
  });
  r.use(liveRouter(deps.live, deps.supervisor));
  r.use(deploymentsRouter(deps.supervisor));
  r.use((req, _res, next) => next(notFound(`no route ${req.method} /api/v1${req.path}`, 'route_not_found')));
  r.use(errorMiddleware('berth', deps.log));
  return r;
}
