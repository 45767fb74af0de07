// The sampled stats: interval arithmetic (pure) and the sampler's tick, on mocked timers.
import assert from 'node:assert/strict';
import { setImmediate as settle } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { LiveStats } from '../../daemon/contract/live.js';
import type { EngineScrape } from '../../daemon/metrics/engine-stats.js';
import type { GatewayCounters } from '../../daemon/metrics/gateway-metrics.js';
import { bucketIncrease, highestKvUsage, increase, liveStats, StatsHistory, type Reading } from '../../daemon/metrics/live-stats.js';
import { StatsSampler, type SampleTarget } from '../../daemon/metrics/sampler.js';

const INF = Number.POSITIVE_INFINITY;
const counters = (requests: number, completionTokens: number, ttftBuckets: [number, number][] = []): GatewayCounters => ({
  requests,
  completionTokens,
  ttftBuckets,
  ttftCount: ttftBuckets.at(-1)?.[1] ?? 0,
});
const gauges = { inFlight: 2, queued: 1, kvCacheUsage: 0.5 };
const T0 = Date.UTC(2025, 0, 1);

describe('interval arithmetic', () => {
  it('increase: a drop is a restart, so everything now is new', () => {
    const cases: [number, number, number][] = [[10, 15, 5], [10, 10, 0], [10, 3, 3], [0, 0, 0]];
    for (const [prev, cur, want] of cases) assert.equal(increase(prev, cur), want, `${prev} -> ${cur}`);
  });

  it('bucketIncrease: per-bound differences; bounds new since the last reading count from zero', () => {
    assert.deepEqual(bucketIncrease([[0.1, 2], [1, 5], [INF, 6]], [[0.1, 3], [1, 9], [INF, 11]]), [[0.1, 1], [1, 4], [INF, 5]]);
    assert.deepEqual(bucketIncrease([], [[0.1, 1], [INF, 1]]), [[0.1, 1], [INF, 1]]);
    assert.deepEqual(bucketIncrease([[0.1, 5], [INF, 5]], [[0.1, 1], [INF, 2]]), [[0.1, 1], [INF, 2]], 'a restarted histogram');
  });

  it('liveStats: rates per second over the real interval, TTFT quantiles from the interval only', () => {
    // Before: 100 fast streams (<= 0.1 s). In the interval: 10 slow ones, in (0.5, 1].
    const prev: Reading = { atMs: T0, counters: counters(100, 1000, [[0.1, 100], [0.5, 100], [1, 100], [INF, 100]]) };
    const cur: Reading = { atMs: T0 + 2500, counters: counters(110, 1080, [[0.1, 100], [0.5, 100], [1, 110], [INF, 110]]) };
    const s = liveStats('qwen', prev, cur, gauges);
    assert.equal(s.name, 'qwen');
    assert.equal(s.at, new Date(T0 + 2500).toISOString());
    assert.equal(s.requestsPerS, 4);
    assert.equal(s.tokensPerS, 32);
    assert.equal(s.ttftP50S, 0.75, 'the old fast streams do not pull the quantile down');
    assert.equal(s.ttftP95S, 0.975);
    assert.deepEqual([s.inFlight, s.queued, s.kvCacheUsage], [2, 1, 0.5]);
  });

  it('liveStats: the first reading has no interval; an interval without streams has no TTFT', () => {
    const first = liveStats('q', null, { atMs: T0, counters: counters(7, 70) }, gauges);
    assert.deepEqual([first.requestsPerS, first.tokensPerS, first.ttftP50S, first.ttftP95S], [0, 0, null, null]);
    const buckets: [number, number][] = [[1, 3], [INF, 3]];
    const quiet = liveStats('q', { atMs: T0, counters: counters(7, 70, buckets) }, { atMs: T0 + 2000, counters: counters(9, 70, buckets) }, gauges);
    assert.deepEqual([quiet.requestsPerS, quiet.ttftP50S], [1, null]);
  });

  it('highestKvUsage ignores engines that reported nothing', () => {
    assert.equal(highestKvUsage([0.2, null, 0.7]), 0.7);
    assert.equal(highestKvUsage([null]), null);
    assert.equal(highestKvUsage([]), null);
  });

  it('StatsHistory keeps the last N per deployment and forgets deleted ones', () => {
    const h = new StatsHistory(2);
    const point = (name: string, i: number) => ({ ...liveStats(name, null, { atMs: T0 + i, counters: counters(0, 0) }, gauges) });
    for (let i = 0; i < 3; i++) h.add(point('a', i));
    h.add(point('b', 0));
    assert.deepEqual(h.points('a').map((p) => p.at), [new Date(T0 + 1).toISOString(), new Date(T0 + 2).toISOString()]);
    h.keepOnly(new Set(['a']));
    assert.deepEqual(h.points('b'), []);
    assert.equal(h.points('a').length, 2);
  });
});

describe('StatsSampler', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setInterval'] }));
  afterEach(() => mock.timers.reset());

  interface Scrape {
    url: string;
    resolve: (r: EngineScrape) => void;
  }

  function harness() {
    const state = { now: T0, counters: counters(0, 0), targets: [] as SampleTarget[] };
    const scrapes: Scrape[] = [];
    const published: LiveStats[][] = [];
    const sampler = new StatsSampler({
      targets: () => state.targets,
      counters: async () => state.counters,
      scrape: (url) => new Promise<EngineScrape>((resolve) => scrapes.push({ url, resolve })),
      publish: (stats) => published.push(stats),
      intervalMs: 2000,
      historyMs: 6000,
      now: () => state.now,
    });
    const tick = async () => {
      state.now += 2000;
      mock.timers.tick(2000);
      await settle();
    };
    const kv = (v: number): EngineScrape => ({ gauges: { kvCacheUsage: v, runningRequests: null, waitingRequests: null, promptTokensTotal: null, generationTokensTotal: null }, error: null });
    return { state, scrapes, published, sampler, tick, kv };
  }

  const target = (engines: SampleTarget['engines']): SampleTarget => ({ name: 'qwen', models: ['qwen'], backend: 'vllm', inFlight: 1, queued: 0, engines });

  it('ticks on its interval: rates from the totals, KV use from the last finished scrape, one scrape per engine at a time', async () => {
    const h = harness();
    h.state.targets = [target([{ replica: 'qwen-1', metricsUrl: 'http://e/metrics' }])];
    h.sampler.start();
    await h.tick();
    assert.equal(h.scrapes.length, 1);
    assert.deepEqual(h.published[0]!.map((s) => [s.requestsPerS, s.kvCacheUsage]), [[0, null]], 'first sight: no interval, no answer yet');

    h.scrapes[0]!.resolve(h.kv(0.25));
    await settle();
    h.state.counters = counters(10, 40);
    await h.tick();
    assert.equal(h.scrapes.length, 2, 'the finished scrape is repeated');
    assert.deepEqual(h.published[1]!.map((s) => [s.requestsPerS, s.tokensPerS, s.kvCacheUsage, s.inFlight]), [[5, 20, 0.25, 1]]);

    // The second scrape never answers: no pile-up, and its last answer ages out.
    await h.tick();
    await h.tick();
    assert.equal(h.scrapes.length, 2);
    assert.equal(h.published[3]![0]!.kvCacheUsage, 0.25, 'an answer a few ticks old still stands');
    await h.tick();
    assert.equal(h.published[4]![0]!.kvCacheUsage, null, 'older than three ticks: unknown');

    assert.equal(h.sampler.historyOf('qwen').points.length, 3, 'an hour (here 6 s) of points');
    assert.equal(h.sampler.historyOf('qwen').intervalS, 2);
    assert.deepEqual(h.sampler.latest(), h.published[4]);
    h.sampler.close();
  });

  it('forgets a deployment that is gone, and close() stops the tick', async () => {
    const h = harness();
    h.state.targets = [target([])];
    h.sampler.start();
    await h.tick();
    assert.equal(h.sampler.historyOf('qwen').points.length, 1);
    h.state.targets = [];
    await h.tick();
    assert.deepEqual(h.sampler.historyOf('qwen').points, []);
    assert.deepEqual(h.sampler.latest(), []);
    assert.deepEqual(h.published.at(-1), [], 'the last deployment left: one empty sample says so');
    const before = h.published.length;
    await h.tick();
    assert.equal(h.published.length, before, 'and no more empty ones after it');
    h.sampler.close();
    const published = h.published.length;
    await h.tick();
    await h.tick();
    assert.equal(h.published.length, published);
  });
});
