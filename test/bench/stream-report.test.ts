// The streaming bench's arithmetic and verdicts: a wrong count of lost
// frames or a wrong ratio would mislead whoever reads the figures, with no
// test of the gateway failing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamSample } from '../../scripts/bench/stream-load.js';
import { addedTtft, firstBurstOf, parseStreamTargets, renderStreams, STALL_MS, streamVerdict, summarize, type StreamPoint, type StreamReport, type StreamTarget } from '../../scripts/bench/stream-report.js';

const sample = (ttftMs: number | null, frames = 67, maxGapMs = 25, error?: string): StreamSample => ({
  ttftMs,
  firstFrameMs: ttftMs === null ? null : ttftMs - 9,
  frames,
  maxGapMs,
  ...(error ? { error } : {}),
});

describe('bench streams: one point from its samples', () => {
  it('counts lost frames, stalls and failures, and takes nearest-rank TTFT percentiles', () => {
    const samples = [
      ...Array.from({ length: 98 }, (_, i) => sample(10 + i)),
      sample(500, 67, STALL_MS + 1),
      sample(null, 3, 0, 'connection closed mid-stream'),
    ];
    const p = summarize('gateway', 100, samples, 67, 0.2, 0.1);
    assert.equal(p.streams, 100);
    assert.equal(p.framesExpected, 6700);
    assert.equal(p.framesReceived, 99 * 67 + 3);
    assert.equal(p.stalled, 1, 'a gap of exactly STALL_MS is not a stall, one over it is');
    assert.equal(p.maxGapMs, STALL_MS + 1);
    assert.deepEqual(p.errors, ['1× connection closed mid-stream']);
    // 99 TTFTs: 10..107 and 500.
    assert.equal(p.ttft.p50, 59);
    assert.equal(p.ttft.p90, 99);
    assert.equal(p.ttft.p99, 500);
    assert.equal(p.firstFrame.p50, 50);
    assert.ok(Math.abs(p.cpuMsPer1kFrames! - (0.2 * 1e6) / (99 * 67 + 3)) < 1e-9);
    assert.ok(Math.abs(p.clientCpuMsPer1kFrames! - (0.1 * 1e6) / (99 * 67 + 3)) < 1e-9);
    // The same burst run as a point's first: its tail and what broke in it.
    assert.deepEqual(firstBurstOf(p), { ttftP99: 500, lost: 64, stalled: 1, errors: ['1× connection closed mid-stream'] });
  });

  it('has no CPU figure without a proxy process, and NaN percentiles without a first token', () => {
    const p = summarize('direct', 1, [sample(null, 0, 0, 'HTTP 502')], 67, null);
    assert.equal(p.cpuMsPer1kFrames, null);
    assert.ok(Number.isNaN(p.ttft.p50));
  });
});

const point = (target: StreamTarget, concurrency: number, over: Partial<StreamPoint> = {}): StreamPoint => ({
  target,
  concurrency,
  streams: concurrency,
  framesExpected: concurrency * 67,
  framesReceived: concurrency * 67,
  stalled: 0,
  maxGapMs: 30,
  errors: [],
  ttft: { p50: 21, p90: 22, p99: 23 },
  firstFrame: { p50: target === 'gateway' ? 1.25 : 1, p90: 2, p99: 3 },
  cpuMsPer1kFrames: target === 'direct' ? null : 10,
  clientCpuMsPer1kFrames: 8,
  ...over,
});

/** direct, nginx, relay and gateway at c=1 and each concurrency; `gateway` and `relay` override their points. */
function report(gateway: (c: number) => Partial<StreamPoint>, relay: (c: number) => Partial<StreamPoint> = () => ({})): StreamReport {
  const points: StreamPoint[] = [];
  for (const c of [1, 256, 512, 1000]) {
    points.push(point('direct', c, c === 1 ? { ttft: { p50: 20, p90: 21, p99: 22 } } : {}));
    points.push(point('nginx', c, c === 1 ? { ttft: { p50: 20.2, p90: 21.3, p99: 23 } } : { ttft: { p50: 100, p90: 150, p99: 200 } }));
    points.push(point('relay', c, { ...(c === 1 ? { ttft: { p50: 20.3, p90: 21.4, p99: 23 } } : { ttft: { p50: 100, p90: 150, p99: 250 } }), ...relay(c) }));
    points.push(point('gateway', c, { ...(c === 1 ? {} : { ttft: { p50: 100, p90: 150, p99: 250 } }), ...gateway(c) }));
  }
  return { meta: {}, skipped: {}, points };
}

describe('bench streams: verdict against the issue targets', () => {
  it('says ✓ for every target a run meets, with its figure', () => {
    const rep = report(
      (c) => (c === 1 ? { ttft: { p50: 20.4, p90: 21.5, p99: 23 } } : { cpuMsPer1kFrames: 14 }),
      (c) => (c > 1 ? { cpuMsPer1kFrames: 12 } : {}),
    );
    assert.deepEqual(addedTtft(rep, 'gateway'), { p50: 20.4 - 20, p90: 21.5 - 21 });
    const v = streamVerdict(rep);
    assert.deepEqual(v.failures, []);
    assert.ok(v.targets.includes('✓ added TTFT p50 at c=1 within 0.3 ms of nginx: gateway +0.40 ms, nginx +0.20 ms'), v.targets.join('\n'));
    assert.ok(v.targets.includes('✓ CPU per 1,000 frames at 256 streams <= 1.5x nginx: 1.40x'));
    assert.ok(v.targets.includes('✓ TTFT p99 at 512 streams <= 1.5x nginx: 1.25x'));
    assert.ok(v.targets.includes('✓ 1000 streams with no frame lost or stalled (first burst included): 0 lost, 0 stalled'));
    assert.ok(v.targets.some((t) => t.startsWith('✓ gateway within 1.2x of the Node relay')));
  });

  it('says ✗ with the figure where a target is missed, and then holds the gateway to the relay floor', () => {
    const rep = report(
      (c) =>
        c === 1
          ? { ttft: { p50: 21, p90: 22, p99: 23 } }
          : c === 1000
            ? { framesReceived: 1000 * 67 - 5, stalled: 2, cpuMsPer1kFrames: 30 }
            : { cpuMsPer1kFrames: 30 },
      (c) => (c > 1 ? { cpuMsPer1kFrames: 20 } : {}),
    );
    const v = streamVerdict(rep);
    assert.ok(v.targets.includes('✗ added TTFT p50 at c=1 within 0.3 ms of nginx: gateway +1.00 ms, nginx +0.20 ms'), v.targets.join('\n'));
    assert.ok(v.targets.includes('✗ CPU per 1,000 frames at 512 streams <= 1.5x nginx: 3.00x'));
    assert.ok(v.targets.includes('✗ 1000 streams with no frame lost or stalled (first burst included): 5 lost, 2 stalled'));
    const floor = v.targets.find((t) => t.includes('Node relay'))!;
    assert.match(floor, /^✗ /);
    assert.match(floor, /added TTFT p50 at c=1 1\.00 vs 0\.30 ms/);
    assert.match(floor, /CPU at 256 1\.50x/);
  });

  it('a broken stream is a failure of the run, and a missing nginx column is said, not guessed', () => {
    const rep = report((c) => (c === 512 ? { errors: ['2× HTTP 502'] } : {}));
    rep.points = rep.points.filter((p) => p.target !== 'nginx');
    rep.skipped.nginx = 'skipped (nginx not found)';
    const v = streamVerdict(rep);
    assert.deepEqual(v.failures, ['gateway 512 streams: 2× HTTP 502']);
    assert.ok(v.targets.some((t) => t.startsWith('- CPU per 1,000 frames at 256 streams <= 1.5x nginx: not evaluated')));
    const text = renderStreams(rep);
    assert.match(text, /nginx: skipped \(nginx not found\)/);
    assert.match(text, /FAILED gateway 512 streams: 2× HTTP 502/);
  });

  it('renders one row per target and point, with ratios to nginx and the relay', () => {
    const text = renderStreams(report((c) => (c > 1 ? { cpuMsPer1kFrames: 15 } : {})));
    assert.match(text, /^gateway\s+1\s+21\.0\s+22\.0\s+1\.00\s+1\.00\s+0\.250\s+0$/m);
    assert.match(text, /^\s*512\s+gateway\s+34304\/34304\s+0\s+0\s+30\.0\s+100\s+150\s+250\s+-\s+1\.25x\s+1\.00x\s+15\.0\s+1\.50x\s+1\.50x\s+8\.0$/m);
  });

  it('shows each point\'s first burst beside its rounds, and counts what broke in it', () => {
    const firstBurst = { ttftP99: 400, lost: 3, stalled: 2, errors: ['1× connection closed mid-stream'] };
    const rep = report((c) => (c === 1000 ? { firstBurst } : c > 1 ? { firstBurst: { ...firstBurst, lost: 0, stalled: 0, errors: [] } } : {}));
    const v = streamVerdict(rep);
    assert.deepEqual(v.failures, ['gateway 1000 streams, first burst: 1× connection closed mid-stream']);
    assert.ok(v.targets.includes('✗ 1000 streams with no frame lost or stalled (first burst included): 3 lost, 2 stalled'), v.targets.join('\n'));
    // The rounds' tail is what the ratio is about: 250 vs nginx's 200, not the first burst's 400.
    assert.ok(v.targets.includes('✓ TTFT p99 at 512 streams <= 1.5x nginx: 1.25x'));
    const text = renderStreams(rep);
    assert.match(text, /^\s*512\s+gateway\s+34304\/34304\s+0\s+0\s+30\.0\s+100\s+150\s+250\s+400 \/ 0\s+1\.25x/m);
    assert.match(text, /^\s*1000\s+gateway\s+.*\s+400 \/ 2 \(3 frames lost\)\s+/m);
  });
});

describe('bench streams: BENCH_STREAM_TARGETS', () => {
  it('measures every target when unset, and the named ones in the bench\'s order', () => {
    assert.deepEqual(parseStreamTargets(undefined), ['direct', 'nginx', 'relay', 'gateway']);
    assert.deepEqual(parseStreamTargets(' gateway, relay'), ['relay', 'gateway']);
  });

  it('without nginx, holds the gateway to the relay floor and says why', () => {
    const rep = report((c) => (c === 1 ? { ttft: { p50: 20.35, p90: 21.4, p99: 23 } } : c === 256 ? { cpuMsPer1kFrames: 13 } : {}));
    rep.points = rep.points.filter((p) => p.target !== 'nginx');
    const floor = streamVerdict(rep).targets.find((t) => t.includes('Node relay'))!;
    assert.equal(floor, '✗ gateway within 1.2x of the Node relay at every point (applies where a target against nginx is missed): CPU at 256 1.30x (nginx was not measured, so it applies)');
  });

  it('refuses a target it does not know, naming it and the known ones', () => {
    assert.throws(() => parseStreamTargets('relay,berth'), /BENCH_STREAM_TARGETS=relay,berth: unknown berth; expected some of direct,nginx,relay,gateway/);
  });
});
