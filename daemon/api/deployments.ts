// /api/v1/deployments: CRUD, lifecycle and logs. Handlers only translate HTTP
// to supervisor calls; every decision lives in the supervisor.
import { Router, type Request } from 'express';
import { DNS_LABEL } from '../contract/deployment.js';
import { badRequest, notFound } from '../http/errors.js';
import { openSse } from '../http/sse.js';
import type { Supervisor } from '../supervisor/supervisor.js';

function nameParam(req: Request): string {
  const name = String(req.params.name ?? '');
  if (!DNS_LABEL.test(name)) throw notFound(`deployment ${name} does not exist`, 'deployment_not_found');
  return name;
}

function intQuery(req: Request, key: string, def: number, max: number): number {
  const raw = req.query[key];
  if (raw === undefined) return def;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw badRequest(`${key}: expected a whole number`, key);
  return Math.min(Number(raw), max);
}

function boolQuery(req: Request, key: string, def: boolean): boolean {
  const raw = req.query[key];
  if (raw === undefined) return def;
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw badRequest(`${key}: expected 1, 0, true or false`, key);
}

function jsonBody(req: Request): unknown {
  if (req.body === undefined) throw badRequest('expected a JSON body (Content-Type: application/json)');
  return req.body;
}

export function deploymentsRouter(sup: Supervisor): Router {
  const r = Router();

  r.get('/deployments', (_req, res) => {
    res.json({ deployments: sup.list() });
  });

  r.post('/deployments', async (req, res) => {
    const status = await sup.create(jsonBody(req), { start: boolQuery(req, 'start', true) });
    res.status(201).json(status);
  });

  r.get('/deployments/:name', (req, res) => {
    res.json(sup.get(nameParam(req)));
  });

  r.patch('/deployments/:name', async (req, res) => {
    res.json(await sup.update(nameParam(req), jsonBody(req)));
  });

  r.delete('/deployments/:name', async (req, res) => {
    await sup.remove(nameParam(req));
    res.status(204).end();
  });

  r.post('/deployments/:name/start', async (req, res) => {
    res.status(202).json(await sup.start(nameParam(req)));
  });
  r.post('/deployments/:name/stop', async (req, res) => {
    res.json(await sup.stop(nameParam(req)));
  });
  r.post('/deployments/:name/restart', async (req, res) => {
    res.status(202).json(await sup.restart(nameParam(req)));
  });

  r.get('/deployments/:name/logs', (req, res) => {
    const name = nameParam(req);
    const replicaId = typeof req.query.replica === 'string' ? req.query.replica : undefined;
    const tail = intQuery(req, 'tail', 100, 5000);
    const follow = boolQuery(req, 'follow', false);
    const ansi = boolQuery(req, 'ansi', false);
    const replica = sup.replicaForLogs(name, replicaId);
    const lines = replica ? replica.output.tail(tail, { ansi }) : [];
    if (!follow) {
      if (req.accepts(['text/plain', 'application/json']) === 'application/json' && req.query.format !== 'text') {
        res.json({ replica: replica?.id ?? null, lines });
      } else res.type('text/plain').send(lines.length ? lines.join('\n') + '\n' : '');
      return;
    }
    const sse = openSse(req, res);
    for (const line of lines) sse.send(line);
    if (!replica) return;
    const off = replica.output.subscribe((batch: string[]) => {
      for (const line of batch) sse.send(line);
    }, { ansi });
    sse.onClose(off);
  });

  return r;
}
