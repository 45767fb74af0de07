// The streaming benchmark's arithmetic, table and verdicts (issue 14, part 4):
// what each proxy adds to time to first token with one stream, and what it
// costs in CPU, lost frames, stalls and tail TTFT with many at once. Ratios
// are against nginx and against a logic-free Node relay measured in the same
// run: nginx is the target, the relay the floor for a Node proxy. Pure.
import type { StreamSample } from './stream-load.js';

export const STREAM_TARGETS = ['direct', 'nginx', 'relay', 'gateway'] as const;
export type StreamTarget = (typeof STREAM_TARGETS)[number];

/** BENCH_STREAM_TARGETS (`relay,gateway`): the targets to measure, in the bench's order; all when unset. */
export function parseStreamTargets(raw: string | undefined): StreamTarget[] {
  if (raw === undefined || raw.trim() === '') return [...STREAM_TARGETS];
  const asked = raw.split(',').map((t) => t.trim());
  const unknown = asked.filter((t) => !(STREAM_TARGETS as readonly string[]).includes(t));
  if (unknown.length) throw new Error(`BENCH_STREAM_TARGETS=${raw}: unknown ${unknown.join(', ')}; expected some of ${STREAM_TARGETS.join(',')}`);
  return STREAM_TARGETS.filter((t) => asked.includes(t));
}

/** A gap between two frames of one stream longer than this is a stall. */
export const STALL_MS = 200;

export interface TtftPercentiles {
  p50: number;
  p90: number;
  p99: number;
}

export interface StreamPoint {
  target: StreamTarget;
  /** Streams at once; 1 means one at a time, back to back. */
  concurrency: number;
  streams: number;
  framesExpected: number;
  framesReceived: number;
  /** Streams with a gap over STALL_MS between two frames. */
  stalled: number;
  /** Longest gap between frames of any stream, ms. */
  maxGapMs: number;
  /** Why streams failed, counted (`3× HTTP 502`); empty when none did. */
  errors: string[];
  /** Time to first token, ms (streams that got one). */
  ttft: TtftPercentiles;
  /** Time to the first frame (no token timer in it), ms. */
  firstFrame: TtftPercentiles;
  /** The proxy's CPU per 1,000 frames received, ms; null for direct or where /proc cannot tell. */
  cpuMsPer1kFrames: number | null;
  /** The load generator's, likewise: it shares the machine, and must not be what a point measures. */
  clientCpuMsPer1kFrames: number | null;
  /** The point's first burst, run before its rounds and kept out of the figures above (see stream.ts); absent at c=1. */
  firstBurst?: FirstBurst;
}

/** What a point's first burst showed: its tail, and anything broken in it. */
export interface FirstBurst {
  ttftP99: number;
  lost: number;
  stalled: number;
  errors: string[];
}

export function firstBurstOf(p: StreamPoint): FirstBurst {
  return { ttftP99: p.ttft.p99, lost: lost(p), stalled: p.stalled, errors: p.errors };
}

/** Nearest-rank percentile of sorted samples; NaN when there are none. */
function rank(sorted: Float64Array, q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]! : NaN;
}

const perKFrames = (cpuSeconds: number | null, frames: number) => (cpuSeconds === null || frames === 0 ? null : (cpuSeconds * 1e6) / frames);

export function summarize(
  target: StreamTarget,
  concurrency: number,
  samples: StreamSample[],
  framesPerStream: number,
  proxyCpuSeconds: number | null,
  clientCpuSeconds: number | null = null,
): StreamPoint {
  const sorted = (pick: (s: StreamSample) => number | null) => Float64Array.from(samples.flatMap((s) => (pick(s) === null ? [] : [pick(s)!]))).sort();
  const ttfts = sorted((s) => s.ttftMs);
  const firsts = sorted((s) => s.firstFrameMs);
  const framesReceived = samples.reduce((n, s) => n + s.frames, 0);
  const counts = new Map<string, number>();
  for (const s of samples) if (s.error) counts.set(s.error, (counts.get(s.error) ?? 0) + 1);
  return {
    target,
    concurrency,
    streams: samples.length,
    framesExpected: samples.length * framesPerStream,
    framesReceived,
    stalled: samples.filter((s) => s.maxGapMs > STALL_MS).length,
    maxGapMs: samples.reduce((m, s) => Math.max(m, s.maxGapMs), 0),
    errors: [...counts].map(([e, n]) => `${n}× ${e}`),
    ttft: { p50: rank(ttfts, 0.5), p90: rank(ttfts, 0.9), p99: rank(ttfts, 0.99) },
    firstFrame: { p50: rank(firsts, 0.5), p90: rank(firsts, 0.9), p99: rank(firsts, 0.99) },
    cpuMsPer1kFrames: perKFrames(proxyCpuSeconds, framesReceived),
    clientCpuMsPer1kFrames: perKFrames(clientCpuSeconds, framesReceived),
  };
}

export interface StreamReport {
  meta: Record<string, unknown>;
  /** Targets not measured, and why. */
  skipped: Partial<Record<StreamTarget, string>>;
  points: StreamPoint[];
}

const lost = (p: StreamPoint) => p.framesExpected - p.framesReceived;
const find = (rep: StreamReport, target: StreamTarget, concurrency: number) =>
  rep.points.find((p) => p.target === target && p.concurrency === concurrency);

/** Added TTFT over direct at one stream at a time, ms; null when either is missing. */
export function addedTtft(rep: StreamReport, target: StreamTarget): { p50: number; p90: number } | null {
  const t = find(rep, target, 1);
  const d = find(rep, 'direct', 1);
  if (!t || !d || Number.isNaN(t.ttft.p50) || Number.isNaN(d.ttft.p50)) return null;
  return { p50: t.ttft.p50 - d.ttft.p50, p90: t.ttft.p90 - d.ttft.p90 };
}

/** Added time to the first frame over direct at one stream at a time, ms (p50); null when either is missing. */
export function addedFirstFrame(rep: StreamReport, target: StreamTarget): number | null {
  const t = find(rep, target, 1);
  const d = find(rep, 'direct', 1);
  if (!t || !d || Number.isNaN(t.firstFrame.p50) || Number.isNaN(d.firstFrame.p50)) return null;
  return t.firstFrame.p50 - d.firstFrame.p50;
}

const x = (v: number) => `${v.toFixed(2)}x`;
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined || b === null || b === undefined || !(b > 0) || Number.isNaN(a) ? null : a / b;
const ms = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0));
const ok = (met: boolean) => (met ? '✓' : '✗');

export interface StreamVerdict {
  /** One line per target of the issue, starting with ✓ or ✗ (or `-` when it cannot be evaluated). */
  targets: string[];
  /** Broken streams anywhere: the bench exits non-zero. */
  failures: string[];
}

const TARGET_CPU_POINTS = [256, 512];
const TARGET_P99_POINT = 512;
const TARGET_CLEAN_POINT = 1000;
const FLOOR = 1.2;
/**
 * The relay adds a fraction of a millisecond to the first token, within the
 * engine's timer jitter (it can even measure below direct): a ratio to it is
 * noise, so the floor at c=1 is 1.2x or 0.1 ms over it, whichever is looser.
 */
const FLOOR_TTFT_SLACK_MS = 0.1;

export function streamVerdict(rep: StreamReport): StreamVerdict {
  const failures = rep.points.flatMap((p) => [
    ...(p.errors.length ? [`${p.target} ${p.concurrency} streams: ${p.errors.join('; ')}`] : []),
    ...(p.firstBurst?.errors.length ? [`${p.target} ${p.concurrency} streams, first burst: ${p.firstBurst.errors.join('; ')}`] : []),
  ]);
  const targets: string[] = [];
  const missing = (what: string) => targets.push(`- ${what}: not evaluated (a point or a column is missing)`);
  /** A target against nginx could not be evaluated (nginx not measured): the relay floor is then the only judge. */
  let nginxUnknown = false;
  const nginxMissing = (what: string) => {
    nginxUnknown = true;
    missing(what);
  };

  const g1 = addedTtft(rep, 'gateway');
  const n1 = addedTtft(rep, 'nginx');
  const r1 = addedTtft(rep, 'relay');
  const ttftWhat = 'added TTFT p50 at c=1 within 0.3 ms of nginx';
  let nginxMissed = false;
  if (g1 && n1) {
    const met = g1.p50 - n1.p50 <= 0.3;
    nginxMissed ||= !met;
    targets.push(`${ok(met)} ${ttftWhat}: gateway +${ms(g1.p50)} ms, nginx +${ms(n1.p50)} ms`);
  } else nginxMissing(ttftWhat);

  for (const c of TARGET_CPU_POINTS) {
    const what = `CPU per 1,000 frames at ${c} streams <= 1.5x nginx`;
    const r = ratio(find(rep, 'gateway', c)?.cpuMsPer1kFrames, find(rep, 'nginx', c)?.cpuMsPer1kFrames);
    if (r === null) nginxMissing(what);
    else {
      nginxMissed ||= r > 1.5;
      targets.push(`${ok(r <= 1.5)} ${what}: ${x(r)}`);
    }
  }

  const p99What = `TTFT p99 at ${TARGET_P99_POINT} streams <= 1.5x nginx`;
  const p99 = ratio(find(rep, 'gateway', TARGET_P99_POINT)?.ttft.p99, find(rep, 'nginx', TARGET_P99_POINT)?.ttft.p99);
  if (p99 === null) nginxMissing(p99What);
  else {
    nginxMissed ||= p99 > 1.5;
    targets.push(`${ok(p99 <= 1.5)} ${p99What}: ${x(p99)}`);
  }

  const clean = find(rep, 'gateway', TARGET_CLEAN_POINT);
  const cleanWhat = `${TARGET_CLEAN_POINT} streams with no frame lost or stalled`;
  if (!clean) missing(cleanWhat);
  else {
    // The first burst counts too: a frame lost while the pool grows is lost.
    const first = clean.firstBurst ?? { lost: 0, stalled: 0, errors: [] };
    const [l, s, e] = [lost(clean) + first.lost, clean.stalled + first.stalled, clean.errors.length + first.errors.length];
    targets.push(`${ok(l === 0 && s === 0 && e === 0)} ${cleanWhat} (first burst included): ${l} lost, ${s} stalled`);
  }

  // The floor applies where a target against nginx is missed: then every
  // point must be within 1.2x of the relay's.
  const floorWhat = `gateway within ${FLOOR}x of the Node relay at every point (applies where a target against nginx is missed)`;
  if (!find(rep, 'relay', 1) && !rep.points.some((p) => p.target === 'relay')) missing(floorWhat);
  else {
    const over: string[] = [];
    if (g1 && r1 && g1.p50 > Math.max(FLOOR * r1.p50, r1.p50 + FLOOR_TTFT_SLACK_MS)) {
      over.push(`added TTFT p50 at c=1 ${ms(g1.p50)} vs ${ms(r1.p50)} ms`);
    }
    for (const g of rep.points.filter((p) => p.target === 'gateway' && p.concurrency > 1)) {
      const r = find(rep, 'relay', g.concurrency);
      const cpu = ratio(g.cpuMsPer1kFrames, r?.cpuMsPer1kFrames);
      const tail = ratio(g.ttft.p99, r?.ttft.p99);
      if (cpu !== null && cpu > FLOOR) over.push(`CPU at ${g.concurrency} ${x(cpu)}`);
      if (tail !== null && tail > FLOOR) over.push(`TTFT p99 at ${g.concurrency} ${x(tail)}`);
    }
    const applies = nginxMissed || nginxUnknown;
    const mark = over.length === 0 ? '✓' : applies ? '✗' : '-';
    const why = over.length === 0 || nginxMissed ? '' : nginxUnknown ? ' (nginx was not measured, so it applies)' : ' (every nginx target met, so not required)';
    targets.push(`${mark} ${floorWhat}: ${over.length ? over.join(', ') : 'met'}${why}`);
  }
  return { targets, failures };
}

function table(align: string, head: string[], rows: string[][]): string {
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (align[i] === 'r' ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export function renderStreams(rep: StreamReport): string {
  const fmt = (v: number | null) => (v === null ? '-' : x(v));
  const single = rep.points.filter((p) => p.concurrency === 1);
  const c1 = table(
    'lrrrrrrr',
    ['one stream at a time', 'streams', 'TTFT p50 ms', 'p90 ms', 'added p50 ms', 'added p90 ms', 'added first frame p50 ms', 'lost'],
    single.map((p) => {
      const added = addedTtft(rep, p.target);
      const first = addedFirstFrame(rep, p.target);
      return [
        p.target,
        String(p.streams),
        ms(p.ttft.p50),
        ms(p.ttft.p90),
        added ? ms(added.p50) : '-',
        added ? ms(added.p90) : '-',
        first === null ? '-' : first.toFixed(3),
        String(lost(p)),
      ];
    }),
  );
  const rows = rep.points
    .filter((p) => p.concurrency > 1)
    .map((p) => {
      const n = find(rep, 'nginx', p.concurrency);
      const r = find(rep, 'relay', p.concurrency);
      const proxied = p.target !== 'direct';
      return [
        String(p.concurrency),
        p.target,
        `${p.framesReceived}/${p.framesExpected}`,
        String(lost(p)),
        String(p.stalled),
        ms(p.maxGapMs),
        ms(p.ttft.p50),
        ms(p.ttft.p90),
        ms(p.ttft.p99),
        p.firstBurst ? `${ms(p.firstBurst.ttftP99)} / ${p.firstBurst.stalled}${p.firstBurst.lost ? ` (${p.firstBurst.lost} frames lost)` : ''}` : '-',
        fmt(ratio(p.ttft.p99, n?.ttft.p99)),
        fmt(ratio(p.ttft.p99, r?.ttft.p99)),
        p.cpuMsPer1kFrames === null ? '-' : p.cpuMsPer1kFrames.toFixed(1),
        proxied ? fmt(ratio(p.cpuMsPer1kFrames, n?.cpuMsPer1kFrames)) : '-',
        proxied ? fmt(ratio(p.cpuMsPer1kFrames, r?.cpuMsPer1kFrames)) : '-',
        p.clientCpuMsPer1kFrames === null ? '-' : p.clientCpuMsPer1kFrames.toFixed(1),
      ];
    });
  const concurrent = table(
    'rlrrrrrrrrrrrrrr',
    ['streams', 'target', 'frames', 'lost', 'stalled', 'max gap ms', 'TTFT p50', 'p90', 'p99', 'first burst p99 / stalled', 'p99 vs nginx', 'vs relay', 'CPU ms/1k frames', 'vs nginx', 'vs relay', 'client ms/1k'],
    rows,
  );
  const v = streamVerdict(rep);
  return [
    c1,
    '',
    concurrent,
    'first burst: each point starts with one burst per target, timed apart from its rounds (a pool growing to a new size; see stream.ts)',
    '',
    ...Object.entries(rep.skipped).map(([t, why]) => `${t}: ${why}`),
    ...v.targets,
    ...v.failures.map((f) => `FAILED ${f}`),
  ].join('\n');
}
