// Main's HTTP to the daemon: the one contract client, the Berth-specific
// question asked of a port before trusting it, and the event stream feeding
// the live store.
import { z } from 'zod';
import { ApiError, UnreachableError, createClient, fetchTransport, type Client } from '../daemon/contract/client.js';
import { API_VERSION, streams, type Health } from '../daemon/contract/routes.js';
import { followStream, type Follower } from './event-stream.js';
import { parseStreamMessage, type LiveStore } from './live-store.js';

export function daemonClient(baseUrl: string, apiKey: string | null): Client {
  return createClient(fetchTransport({ baseUrl, apiKey }));
}

/** What answers on the port. */
export type Probe =
  | { kind: 'berth'; health: Health }
  /** Nothing listens (connection refused). */
  | { kind: 'absent' }
  /** Something listens that is not a Berth daemon; `detail` says what it did. */
  | { kind: 'foreign'; detail: string }
  /** Something accepted the connection and said nothing in time: a stuck service, or a daemon still busy starting. */
  | { kind: 'silent'; detail: string }
  /** A Berth daemon whose API this app does not speak. */
  | { kind: 'incompatible'; health: Health }
  /** A Berth daemon that wants an API key this app does not have. */
  | { kind: 'locked'; message: string };

const healthShape = z.object({
  status: z.literal('ok'),
  service: z.literal('berth'),
  version: z.string(),
  apiVersion: z.number().int(),
  uptimeSeconds: z.number(),
});

/** The socket-level reason under fetch's "fetch failed" (undici puts it in `cause`). */
function socketCode(err: unknown): string | undefined {
  for (let e = err as { cause?: unknown; code?: unknown; name?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') return e.code;
    if (e.name === 'TimeoutError') return 'TIMEOUT';
  }
  return undefined;
}

/**
 * Asks the port "are you Berth, and which API?" rather than "is anything
 * listening?": Ollama's app learned that a port answering is not a server it
 * can use. Never throws.
 */
export async function probeDaemon(baseUrl: string, apiKey: string | null, timeoutMs = 3000): Promise<Probe> {
  const client = daemonClient(baseUrl, apiKey);
  let body: unknown;
  try {
    body = await client.health({ signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    if (err instanceof ApiError) {
      if (err.status === 401 && err.code === 'invalid_api_key') return { kind: 'locked', message: err.message };
      return { kind: 'foreign', detail: `it answered ${err.status} to GET /api/v1/health` };
    }
    const code = socketCode(err instanceof UnreachableError ? err.cause : err);
    if (code === 'ECONNREFUSED') return { kind: 'absent' };
    if (code === 'TIMEOUT') return { kind: 'silent', detail: `it accepted a connection but did not answer within ${timeoutMs} ms` };
    return { kind: 'foreign', detail: `it does not speak HTTP like Berth (${code ?? (err as Error).message})` };
  }
  const health = healthShape.safeParse(body);
  if (!health.success) return { kind: 'foreign', detail: 'it answered GET /api/v1/health, but not as Berth' };
  if (health.data.apiVersion !== API_VERSION) return { kind: 'incompatible', health: health.data };
  return { kind: 'berth', health: health.data };
}

/** Follows GET /api/v1/events into the store until closed; reconnects by itself. */
export function followDaemon(opts: { baseUrl: string; apiKey: string | null; store: LiveStore; fetch?: typeof fetch; initialRetryMs?: number }): Follower {
  return followStream({
    url: opts.baseUrl + streams.events,
    apiKey: opts.apiKey,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.initialRetryMs !== undefined ? { initialRetryMs: opts.initialRetryMs } : {}),
    onLink: (link) => opts.store.setLink(link),
    onMessage: (msg) => {
      const event = parseStreamMessage(msg);
      if (event) opts.store.apply(event);
    },
  });
}
