// The last hour of one deployment's samples, as the columns uPlot draws.
// History (GET /history) and live samples (the event stream) overlap while
// the history loads, so samples are merged by time, not appended blindly.
// Pure: no DOM, tested under Node.
import type { LiveStats } from '../../../daemon/contract/live.js';

export const WINDOW_S = 3600;

/** Seconds since the epoch of a sample's `at`, or null when it does not parse. */
export function sampleTime(s: Pick<LiveStats, 'at'>): number | null {
  const ms = Date.parse(s.at);
  return Number.isFinite(ms) ? ms / 1000 : null;
}

export interface StatsColumns {
  /** Seconds since the epoch, ascending. */
  t: number[];
  requestsPerS: number[];
  /** Milliseconds; null where no stream started in the interval (uPlot draws a gap). */
  ttftP50Ms: (number | null)[];
  ttftP95Ms: (number | null)[];
  tokensPerS: number[];
  /** Percent, 0..100; null where no engine reported it. */
  kvCachePct: (number | null)[];
}

const ms = (s: number | null) => (s === null ? null : s * 1000);

/** A bounded, time-ordered set of samples. */
export class StatsWindow {
  private points: { t: number; s: LiveStats }[] = [];

  constructor(private readonly windowS = WINDOW_S) {}

  /**
   * Adds samples (any order, duplicates of a time replace the one held) and
   * drops those older than the window before the newest. Returns false when
   * nothing changed, so the caller can skip a redraw.
   */
  add(samples: readonly LiveStats[]): boolean {
    let changed = false;
    for (const s of samples) {
      const t = sampleTime(s);
      if (t === null) continue;
      changed = true;
      const last = this.points.at(-1);
      if (!last || t > last.t) {
        this.points.push({ t, s });
        continue;
      }
      const i = this.points.findIndex((p) => p.t >= t);
      if (this.points[i]!.t === t) this.points[i] = { t, s };
      else this.points.splice(i, 0, { t, s });
    }
    const newest = this.points.at(-1)?.t;
    if (newest !== undefined) {
      const cut = this.points.findIndex((p) => p.t >= newest - this.windowS);
      if (cut > 0) this.points = this.points.slice(cut);
    }
    return changed;
  }

  get size(): number {
    return this.points.length;
  }

  /** The time of the newest sample, or null when empty. */
  get newest(): number | null {
    return this.points.at(-1)?.t ?? null;
  }

  columns(): StatsColumns {
    const c: StatsColumns = { t: [], requestsPerS: [], ttftP50Ms: [], ttftP95Ms: [], tokensPerS: [], kvCachePct: [] };
    for (const { t, s } of this.points) {
      c.t.push(t);
      c.requestsPerS.push(s.requestsPerS);
      c.ttftP50Ms.push(ms(s.ttftP50S));
      c.ttftP95Ms.push(ms(s.ttftP95S));
      c.tokensPerS.push(s.tokensPerS);
      c.kvCachePct.push(s.kvCacheUsage === null ? null : Math.min(100, Math.max(0, s.kvCacheUsage * 100)));
    }
    return c;
  }
}

/**
 * The x range a chart shows: the hour up to the newest sample, or up to now
 * when there is none. The daemon's clock, not the page's, places the window,
 * so a browser whose clock is off (a GPU box over an SSH tunnel) still sees the data.
 */
export function xRange(newest: number | null, nowS: number, windowS = WINDOW_S): [number, number] {
  const end = newest ?? nowS;
  return [end - windowS, end];
}
