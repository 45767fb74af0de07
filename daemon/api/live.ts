// What the UI and the tray watch: the event stream (a snapshot, then deltas,
// resumable with Last-Event-ID), each replica's share of each GPU, and the
// last hour of a deployment's sampled stats.
import type { Request, Router } from 'express';
import { api, streams } from '../contract/routes.js';
import { DNS_LABEL } from '../contract/deployment.js';
import { notFound } from '../http/errors.js';
import { formatSse, openSse } from '../http/sse.js';
import type { StreamMessage } from '../events/stream.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import type { LiveFeed } from './live-feed.js';
import { API_PREFIX, type On } from './mount.js';

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

/** The event stream (SSE, on the router itself) and the two live routes of the contract. */
export function mountLive(r: Router, on: On, live: LiveFeed, supervisor: Supervisor): void {
  r.get(streams.events.slice(API_PREFIX.length), (req, res) => {
    const sse = openSse(req, res, { maxBufferedBytes: MAX_CLIENT_BUFFER_BYTES });
    // Subscribed and answered in one synchronous step: nothing published in
    // between can be lost or come before what the client is owed first.
    const conn = live.stream.connect(lastEventId(req), (m) => sse.write(frame(m)));
    for (const m of conn.first) sse.write(frame(m));
    sse.onClose(conn.close);
  });

  on(api.gpuUsage, async () => (await live.gpus.read()).usage);

  on(api.deploymentHistory, ({ params }) => {
    const name = params.name;
    if (!DNS_LABEL.test(name) || !supervisor.has(name)) throw notFound(`deployment ${name} does not exist`, 'deployment_not_found');
    return live.sampler.historyOf(name);
  });
}
