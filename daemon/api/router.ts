// /api/v1: Berth's management API, mounted from the contract's route table
// (contract/routes.ts) through api/mount.ts. Errors use our envelope
// {"error":{code,message,field?}}.
import express, { Router } from 'express';
import type { Logger } from 'pino';
import type { GpuInventory } from '../contract/api.js';
import { API_VERSION, api, streams, type Health } from '../contract/routes.js';
import type { Settings } from '../config/settings.js';
import { runDoctor } from '../doctor/doctor.js';
import type { EventBus } from '../events/bus.js';
import { errorMiddleware, notFound } from '../http/errors.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { mountApply } from './apply.js';
import { deploymentLogsAlternatives, mountDeployments } from './deployments.js';
import type { LiveFeed } from './live-feed.js';
import { mountLive } from './live.js';
import { mountLoras } from './loras.js';
import { API_PREFIX, mounter } from './mount.js';
import { mountSettings } from './settings.js';
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
  const on = mounter(r, API_PREFIX);

  on(api.health, (): Health => ({
    status: 'ok',
    service: 'berth',
    version: deps.version,
    apiVersion: API_VERSION,
    uptimeSeconds: Math.round((Date.now() - started) / 1000),
  }));
  on(api.gpus, () => deps.inventory());
  on(api.plan, ({ body }) => deps.supervisor.plan(body));
  on(api.doctor, () => runDoctor(deps.settings, deps.inventory));
  mountLive(r, on, deps.live, deps.supervisor);
  on(api.deploymentStats, ({ params }) => deploymentStats(deps.supervisor, deps.metrics, params.name));
  r.get(streams.deploymentLogs.slice(API_PREFIX.length), deploymentLogsAlternatives(deps.supervisor));
  mountDeployments(on, deps.supervisor);
  mountLoras(on, deps.supervisor);
  mountApply(r, on, deps.supervisor);
  mountSettings(on, deps);
  r.use((req, _res, next) => next(notFound(`no route ${req.method} ${API_PREFIX}${req.path}`, 'route_not_found')));
  r.use(errorMiddleware('berth', deps.log));
  return r;
}
