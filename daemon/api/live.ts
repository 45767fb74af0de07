// What the UI and the tray watch: the event stream (a snapshot, then deltas,
// resumable with Last-Event-ID), each replica's share of each GPU, and the
// last hour of a deployment's sampled stats.
import { Router, type Request } from 'express';
import { DNS_LABEL } from '../contract/deployment.js';
import type { DeploymentHistory, GpuUsageReport } from '../contract/live.js';
import { notFound } from '../http/errors.js';
import { formatSse, openSse } from '../http/sse.js';
import type { StreamMessage } from '../events/stream.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import type { LiveFeed } from './live-feed.js';

/**
 * Unsent bytes after which a client is dropped rather than buffered for: far
 * above a snapshot of dozens of deployments, far below what would hurt the
 * daemon. The client reconnects with its Last-Event-ID and resumes.
 */
export const MAX_CLIENT_BUFFER_BYTES = 4 * 1024 * 1024;

const frame = (m: StreamMessage): string => formatSse(m.json, m.type, m.id);

/**
 * The id to resume after. The header wins: EventSource sends it on its own
 * reconnects, while the URL still carries the query a client put there on its
 * first connect. `?lastEventId=` is for clients that cannot set headers.
 */
function lastEventId(req: Request): string | undefined {
  const header = req.get('last-event-id');
  if (header !== undefined && header !== '') return header;
  const q = req.query.lastEventId;
  return typeof q === 'string' ? q : undefined;
}

export function liveRouter(live: LiveFeed, supervisor: Supervisor): Router {
  const r = Router();

  r.get('/events', (req, res) => {
    const sse = openSse(req, res, { maxBufferedBytes: MAX_CLIENT_BUFFER_BYTES });
    // Subscribed and answered in one synchronous step: nothing published in
    // between can be lost or come before what the client is owed first.
    const conn = live.stream.connect(lastEventId(req), (m) => sse.write(frame(m)));
    for (const m of conn.first) sse.write(frame(m));
    sse.onClose(conn.close);
  });

  r.get('/gpus/usage', async (_req, res) => {
    const answer: GpuUsageReport = (await live.gpus.read()).usage;
    res.json(answer);
  });

  r.get('/deployments/:name/history', (req, res) => {
    const name = String(req.params.name ?? '');
    if (!DNS_LABEL.test(name) || !supervisor.has(name)) throw notFound(`deployment ${name} does not exist`, 'deployment_not_found');
    const answer: DeploymentHistory = live.sampler.historyOf(name);
    res.json(answer);
  });

  return r;
}
