// The one EventSource the UI opens (STYLE.md example 10). The browser's own
// reconnect does the work while the daemon restarts: it resends Last-Event-ID
// and the daemon answers with what was missed or a fresh snapshot. We only
// step in when the browser gives up for good (readyState CLOSED: it does that
// on an HTTP error status such as a 401 or a proxy's 502, not on a refused
// connection), and to tell the user when "reconnecting" has lasted too long.
import { streams } from '../../../daemon/contract/routes.js';
import { parseStreamMessage, STREAM_EVENT_TYPES } from './messages.js';
import type { Action } from './reducer.js';

/** How long the stream may stay down before the UI says the daemon is unreachable. */
export const UNREACHABLE_AFTER_MS = 6_000;
// Our own retries after the browser gave up, doubling to the cap: never
// faster than once a second.
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 15_000;

export interface EventStreamOptions {
  dispatch: (a: Action) => void;
  /**
   * Asked after the browser gave up: `unauthorized` waits for `reopen()` (the
   * login view calls it); anything else retries with backoff.
   */
  probe: () => Promise<'unauthorized' | 'other'>;
  url?: string;
}

export interface EventStream {
  /** Open again now (after a login). */
  reopen(): void;
  close(): void;
}

export function openEventStream(opts: EventStreamOptions): EventStream {
  const url = opts.url ?? streams.events;
  let source: EventSource | null = null;
  let downTimer: ReturnType<typeof setTimeout> | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let retryMs = RETRY_FIRST_MS;
  let closed = false;

  // One timer per outage, started by its first error and cleared when a connection opens.
  const wentDown = () => {
    opts.dispatch({ kind: 'connection', connection: 'reconnecting' });
    downTimer ??= setTimeout(() => opts.dispatch({ kind: 'connection', connection: 'unreachable' }), UNREACHABLE_AFTER_MS);
  };

  const cameUp = () => {
    if (downTimer) clearTimeout(downTimer);
    downTimer = null;
    retryMs = RETRY_FIRST_MS;
    opts.dispatch({ kind: 'connection', connection: 'open' });
  };

  const gaveUp = async () => {
    source = null;
    const why = await opts.probe().catch(() => 'other' as const);
    if (closed || source) return;
    if (why === 'unauthorized') return; // the login view reopens
    retryTimer = setTimeout(open, retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  };

  function open() {
    retryTimer = null;
    if (closed) return;
    const es = new EventSource(url);
    source = es;
    es.onopen = cameUp;
    es.onerror = () => {
      if (source !== es) return;
      wentDown();
      if (es.readyState === EventSource.CLOSED) void gaveUp();
    };
    for (const type of STREAM_EVENT_TYPES) {
      es.addEventListener(type, (m: MessageEvent<string>) => {
        const event = parseStreamMessage(type, m.data);
        if (event) opts.dispatch({ kind: 'event', event });
      });
    }
  }

  open();
  return {
    reopen() {
      if (retryTimer) clearTimeout(retryTimer);
      source?.close();
      source = null;
      retryMs = RETRY_FIRST_MS;
      open();
    },
    close() {
      closed = true;
      source?.close();
      if (retryTimer) clearTimeout(retryTimer);
      if (downTimer) clearTimeout(downTimer);
    },
  };
}
