// The state timeline: the stream's notices about one deployment as rows a
// person reads (when, which replica, from → to, why). Pure, tested under Node.
import type { StreamEvent } from '../../../daemon/contract/live.js';

export interface TimelineRow {
  /** Stable within one list: the notice's position and time. */
  key: string;
  ts: string;
  /** The replica it concerns, or null for the deployment as a whole. */
  replica: string | null;
  from: string | null;
  to: string;
  reason: string | null;
  /** For colour: how the change went. */
  tone: 'ok' | 'warn' | 'err' | 'neutral';
}

const TONE: Record<string, TimelineRow['tone']> = {
  ready: 'ok',
  failed: 'err',
  starting: 'warn',
  pending: 'warn',
  stopping: 'neutral',
  stopped: 'neutral',
};

/** Rows for `name`'s notices, newest first, at most `limit`. Events of other kinds or deployments are skipped. */
export function timelineRows(notices: readonly StreamEvent[], name: string, limit = 100): TimelineRow[] {
  const rows: TimelineRow[] = [];
  notices.forEach((e, i) => {
    if (!('name' in e) || e.name !== name) return;
    const key = `${i}:${e.ts}`;
    switch (e.type) {
      case 'replica.state':
        rows.push({ key, ts: e.ts, replica: e.replica, from: e.from, to: e.state, reason: e.reason, tone: TONE[e.state] ?? 'neutral' });
        break;
      case 'deployment.wake': {
        const evicted = e.evicted.length ? `; evicted ${e.evicted.join(', ')}` : '';
        rows.push({ key, ts: e.ts, replica: null, from: 'sleeping', to: 'awake', reason: `a request woke it, ready in ${e.seconds.toFixed(1)} s${evicted}`, tone: 'ok' });
        break;
      }
      case 'deployment.sleep':
        rows.push({
          key,
          ts: e.ts,
          replica: null,
          from: 'running',
          to: 'sleeping',
          reason: e.reason === 'idle' ? 'idle: no request within its idle time' : 'evicted: another deployment needed its GPUs',
          tone: 'neutral',
        });
        break;
      case 'deployment.scale':
        rows.push({ key, ts: e.ts, replica: null, from: `${e.from} replica${e.from === 1 ? '' : 's'}`, to: `${e.to} replica${e.to === 1 ? '' : 's'}`, reason: 'scaled', tone: 'neutral' });
        break;
      default:
        break;
    }
  });
  return rows.reverse().slice(0, limit);
}
