// The results as tables for a terminal and as JSON, and the verdicts against the
// issue's targets for these points: no regression against nginx (gateway req/s
// ≥ 0.5× nginx's where the proxy, not the engine, is the bottleneck; latency
// added at one connection within 0.15 ms of nginx's), streams never buffered.
// CPU per request goes beside req/s: it is what a proxy costs, and at an
// engine-bound point it is the only column that can tell the proxies apart.
import type { LoadResult, Mode } from './load.js';
import type { StreamTimings } from './ttfb.js';

export const TARGETS = ['direct', 'nginx', 'gateway'] as const;
export type Target = (typeof TARGETS)[number];

/** CPU of one run, per completed request; null where it does not apply or /proc cannot tell. */
export interface CpuUse {
  /** The proxy's CPU (the daemon, nginx's master and workers); null for direct. */
  proxyUs: number | null;
  engineUs: number | null;
  /** The engine's CPU over the run's wall time: 1 is one core, all the time. */
  engineBusy: number | null;
}

export interface LoadRow extends LoadResult {
  target: Target;
  mode: Mode;
  connections: number;
  cpu: CpuUse;
}

/**
 * Above this share of a core with nothing in front of it, the single-threaded
 * engine is the bottleneck: any proxy that costs less than the idle core it
 * leaves ties it, so req/s there cannot rank the proxies; CPU per request can.
 */
const ENGINE_BOUND = 0.9;

const MIN_RPS_VS_NGINX = 0.5;
const MAX_ADDED_LATENCY_MS = 0.15;
const RPS_TARGET = `target (gateway req/s >= ${MIN_RPS_VS_NGINX}x nginx where the proxy is the bottleneck)`;
const LATENCY_TARGET = `target (p50 latency added at c=1 within ${MAX_ADDED_LATENCY_MS} ms of nginx's)`;

export interface TtfbRow extends StreamTimings {
  target: Target;
}

export interface Report {
  meta: Record<string, unknown>;
  /** Targets not measured and why; `failed: false` where that is expected (no nginx, no /v1 yet). */
  skipped: Partial<Record<Target, { reason: string; failed: boolean }>>;
  load: LoadRow[];
  ttfb: TtfbRow[];
  /** A stream counts as unbuffered when its first chunk comes before half its total time, in at least this many reads. */
  minReads: number;
}

/** `align`: one 'l' or 'r' per column. */
function table(align: string, head: string[], rows: string[][]): string {
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (align[i] === 'r' ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

const ms = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(v < 10 ? 2 : 1));
const us = (v: number | null) => (v === null ? '-' : v.toFixed(0));
const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(0)}%`);
const ratio = (a: LoadRow, b: LoadRow | undefined) => (b && b.rps > 0 ? `${(a.rps / b.rps).toFixed(2)}x` : '-');
const point = (r: LoadRow) => `${r.mode} c=${r.connections}`;
const buffered = (r: TtfbRow, minReads: number) => !(r.firstChunk.p50 < r.total.p50 / 2 && r.reads >= minReads);

function peer(rows: LoadRow[], r: LoadRow, target: Target): LoadRow | undefined {
  return rows.find((x) => x.target === target && x.mode === r.mode && x.connections === r.connections && x.failures.length === 0);
}

export interface Verdict {
  failures: string[];
  notes: string[];
}

export function verdict(rep: Report): Verdict {
  const failures: string[] = [];
  const notes: string[] = [];
  for (const [target, s] of Object.entries(rep.skipped)) (s.failed ? failures : notes).push(`${target}: ${s.reason}`);
  for (const r of rep.load) if (r.failures.length) failures.push(`${r.target} ${point(r)}: ${r.failures.join('; ')}`);
  for (const r of rep.ttfb) {
    if (r.failures.length) failures.push(`${r.target} stream timing: ${r.failures.join('; ')}`);
    else if (buffered(r, rep.minReads)) failures.push(`${r.target} buffers streams (first chunk p50 ${ms(r.firstChunk.p50)} ms of ${ms(r.total.p50)} ms, ${r.reads} reads)`);
  }

  const gateway = rep.load.filter((r) => r.target === 'gateway' && r.failures.length === 0);
  if (rep.skipped.gateway || rep.skipped.nginx || rep.skipped.direct) notes.push(`${RPS_TARGET}: not evaluated, a column is missing`);
  else {
    const missed: string[] = [];
    const slow: string[] = [];
    for (const r of gateway) {
      const n = peer(rep.load, r, 'nginx');
      const d = peer(rep.load, r, 'direct');
      if (!n || !d) continue;
      // Where the engine alone is busy, every proxy ties it: req/s ranks nothing there.
      if (d.cpu.engineBusy === null || d.cpu.engineBusy < ENGINE_BOUND) {
        if (r.rps < MIN_RPS_VS_NGINX * n.rps) missed.push(`${point(r)} ${ratio(r, n)}`);
      }
      if (r.connections === 1) {
        // Both added over direct, so what is compared is the gateway's p50 against nginx's.
        if (r.p50 - n.p50 > MAX_ADDED_LATENCY_MS) slow.push(`${point(r)} +${ms(r.p50 - d.p50)} ms vs nginx +${ms(n.p50 - d.p50)} ms`);
      }
    }
    notes.push(`${RPS_TARGET}: ${missed.length ? `MISSED at ${missed.join(', ')}` : 'met'}`);
    notes.push(`${LATENCY_TARGET}: ${slow.length ? `MISSED at ${slow.join(', ')}` : 'met'}`);
  }
  for (const r of rep.load) {
    const busy = r.target === 'direct' && r.failures.length === 0 ? r.cpu.engineBusy : null;
    if (busy !== null && busy >= ENGINE_BOUND) {
      notes.push(`${point(r)}: the engine alone uses ${pct(busy)} of a core, so this point is engine-bound: proxies are ranked there by CPU per request, not req/s`);
    }
  }
  return { failures, notes };
}

export function render(rep: Report): string {
  const load = table(
    'llrrrrrrrrr',
    ['target', 'mode', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'vs direct', 'vs nginx', 'proxy CPU µs/req', 'engine CPU µs/req', 'engine busy'],
    rep.load.map((r) =>
      r.failures.length
        ? [r.target, r.mode, String(r.connections), 'FAILED', '', '', '', '', '', '', '']
        : [
            r.target,
            r.mode,
            String(r.connections),
            r.rps.toFixed(0),
            ms(r.p50),
            ms(r.p99),
            ratio(r, peer(rep.load, r, 'direct')),
            ratio(r, peer(rep.load, r, 'nginx')),
            us(r.cpu.proxyUs),
            us(r.cpu.engineUs),
            pct(r.cpu.engineBusy),
          ],
    ),
  );
  const ttfb = table(
    'lrrrrl',
    ['stream via', 'first byte p50 ms', 'p99 ms', 'last byte p50 ms', 'reads', ''],
    rep.ttfb.map((r) =>
      r.failures.length
        ? [r.target, 'FAILED', '', '', '', '']
        : [r.target, ms(r.firstChunk.p50), ms(r.firstChunk.p99), ms(r.total.p50), String(r.reads), buffered(r, rep.minReads) ? 'BUFFERED' : 'streamed'],
    ),
  );
  const v = verdict(rep);
  return [
    load,
    '',
    ttfb,
    '',
    ...v.notes,
    ...v.failures.map((f) => `FAILED ${f}`),
  ].join('\n');
}
