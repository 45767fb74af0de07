import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REPLICA_STATES } from '../../daemon/contract/api.js';
import { parsePrometheusText } from '../../daemon/engines/metrics-scrape.js';
import { GatewayMetrics, histogramQuantile, type ReplicaStateCount } from '../../daemon/metrics/gateway-metrics.js';

const near = (actual: number | null, expected: number) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `expected ${expected}, got ${actual}`);

/** The same calls as a busy minute of a deployment serving `llama` and its adapter `llama-lora`. */
function recorded(replicaStates: () => ReplicaStateCount[] = () => []): GatewayMetrics {
  const m = new GatewayMetrics({ replicaStates });
  m.observeRequest({ model: 'llama', status: 200, durationS: 0.2 });
  m.observeRequest({ model: 'llama', status: 200, durationS: 0.3 });
  m.observeRequest({ model: 'llama', status: 503, durationS: 1.5 });
  m.observeRequest({ model: 'llama-lora', status: 200, durationS: 0.04 });
  m.observeRequest({ model: 'qwen', status: 200, durationS: 10 });
  m.observeFirstToken('llama', 0.05);
  m.observeFirstToken('llama', 0.07);
  m.addTokens('llama', 30, 10);
  m.addTokens('llama-lora', 5, 7);
  m.addTokens('qwen', 100, 100);
  m.inFlight('llama', 1);
  m.inFlight('llama', 1);
  m.inFlight('llama', -1);
  m.inFlight('llama-lora', 1);
  m.queued('llama', 1);
  m.observeColdStart('llama-dep', 12);
  m.observeColdStart('llama-dep', 30);
  m.observeColdStart('qwen-dep', 5);
  m.observeSwap('llama-dep', 40);
  m.retry('llama');
  m.retry('llama');
  m.fallback('llama', 'qwen');
  m.fallback('qwen', 'llama');
  return m;
}

const berthLines = (body: string) => body.split('\n').filter((l) => l.startsWith('berth_'));

describe('GatewayMetrics.render', () => {
  it('renders the recorded series as exact Prometheus lines', async () => {
    const { contentType, body } = await recorded().render();
    assert.equal(contentType, 'text/plain; version=0.0.4; charset=utf-8');
    const lines = berthLines(body);
    for (const expected of [
      'berth_requests_total{model="llama",status="200"} 2',
      'berth_requests_total{model="llama",status="503"} 1',
      'berth_requests_total{model="llama-lora",status="200"} 1',
      'berth_requests_total{model="qwen",status="200"} 1',
      'berth_request_duration_seconds_bucket{le="0.1",model="llama"} 0',
      'berth_request_duration_seconds_bucket{le="0.25",model="llama"} 1',
      'berth_request_duration_seconds_bucket{le="0.5",model="llama"} 2',
      'berth_request_duration_seconds_bucket{le="2.5",model="llama"} 3',
      'berth_request_duration_seconds_bucket{le="300",model="llama"} 3',
      'berth_request_duration_seconds_bucket{le="+Inf",model="llama"} 3',
      'berth_request_duration_seconds_sum{model="llama"} 2',
      'berth_request_duration_seconds_count{model="llama"} 3',
      'berth_time_to_first_token_seconds_bucket{le="0.05",model="llama"} 1',
      'berth_time_to_first_token_seconds_bucket{le="0.1",model="llama"} 2',
      'berth_time_to_first_token_seconds_count{model="llama"} 2',
      'berth_prompt_tokens_total{model="llama"} 30',
      'berth_prompt_tokens_total{model="llama-lora"} 5',
      'berth_completion_tokens_total{model="llama"} 10',
      'berth_completion_tokens_total{model="qwen"} 100',
      'berth_requests_in_flight{model="llama"} 1',
      'berth_requests_in_flight{model="llama-lora"} 1',
      'berth_requests_queued{model="llama"} 1',
      // prom-client writes `le` first; vLLM sorts it among the other labels.
      'berth_cold_start_duration_seconds_bucket{le="10",deployment="llama-dep"} 0',
      'berth_cold_start_duration_seconds_bucket{le="20",deployment="llama-dep"} 1',
      'berth_cold_start_duration_seconds_bucket{le="30",deployment="llama-dep"} 2',
      'berth_cold_start_duration_seconds_sum{deployment="llama-dep"} 42',
      'berth_cold_start_duration_seconds_count{deployment="llama-dep"} 2',
      'berth_swap_duration_seconds_sum{deployment="llama-dep"} 40',
      'berth_swap_duration_seconds_count{deployment="llama-dep"} 1',
      'berth_upstream_retries_total{model="llama"} 2',
      'berth_fallbacks_total{model="llama",to="qwen"} 1',
      'berth_fallbacks_total{model="qwen",to="llama"} 1',
    ]) {
      assert.ok(lines.includes(expected), `missing line: ${expected}`);
    }
  });

  it('declares every family with its type, and buckets span 5 ms to 300 s', async () => {
    const { body } = await recorded().render();
    for (const [name, type] of [
      ['berth_requests_total', 'counter'],
      ['berth_request_duration_seconds', 'histogram'],
      ['berth_time_to_first_token_seconds', 'histogram'],
      ['berth_prompt_tokens_total', 'counter'],
      ['berth_completion_tokens_total', 'counter'],
      ['berth_requests_in_flight', 'gauge'],
      ['berth_requests_queued', 'gauge'],
      ['berth_replicas', 'gauge'],
      ['berth_cold_start_duration_seconds', 'histogram'],
      ['berth_swap_duration_seconds', 'histogram'],
      ['berth_upstream_retries_total', 'counter'],
      ['berth_fallbacks_total', 'counter'],
    ]) {
      assert.ok(body.includes(`\n# TYPE ${name} ${type}\n`), `${name} ${type}`);
    }
    const bounds = parsePrometheusText(body)
      .filter((s) => s.name === 'berth_request_duration_seconds_bucket' && s.labels.model === 'llama')
      .map((s) => s.labels.le);
    assert.equal(bounds[0], '0.005');
    assert.deepEqual(bounds.slice(-2), ['300', '+Inf']);
  });

  it('includes the default process metrics under the berth_ prefix', async () => {
    const { body } = await recorded().render();
    assert.match(body, /^berth_process_cpu_user_seconds_total \d/m);
    assert.match(body, /^berth_nodejs_heap_size_used_bytes \d/m);
  });

  it('keeps each instance on its own registry', async () => {
    // The global registry would throw "already registered" on the second one.
    const a = recorded();
    const b = new GatewayMetrics({ replicaStates: () => [] });
    assert.equal(berthLines((await b.render()).body).filter((l) => l.startsWith('berth_requests_total')).length, 0);
    assert.ok(berthLines((await a.render()).body).some((l) => l.startsWith('berth_requests_total')));
  });

  it('fills replica counts at scrape time, every state present with zeros, and drops deleted deployments', async () => {
    let census: ReplicaStateCount[] = [
      { deployment: 'a', state: 'ready', count: 1 },
      { deployment: 'a', state: 'ready', count: 1 },
      { deployment: 'b', state: 'starting', count: 1 },
    ];
    const m = new GatewayMetrics({ replicaStates: () => census });
    const replicaLines = async () => berthLines((await m.render()).body).filter((l) => l.startsWith('berth_replicas{'));

    const expected = (deployment: string, counts: Record<string, number>) =>
      REPLICA_STATES.map((s) => `berth_replicas{deployment="${deployment}",state="${s}"} ${counts[s] ?? 0}`);
    assert.deepEqual((await replicaLines()).sort(), [...expected('a', { ready: 2 }), ...expected('b', { starting: 1 })].sort());

    // b deleted; c scaled to zero is kept by naming it with a count-0 row.
    census = [
      { deployment: 'a', state: 'stopped', count: 2 },
      { deployment: 'c', state: 'stopped', count: 0 },
    ];
    assert.deepEqual((await replicaLines()).sort(), [...expected('a', { stopped: 2 }), ...expected('c', {})].sort());
  });

  it('drops values that would corrupt a series instead of throwing', async () => {
    const m = new GatewayMetrics({ replicaStates: () => [] });
    m.observeRequest({ model: 'x', status: 200, durationS: Number.NaN });
    m.observeFirstToken('x', -1);
    m.addTokens('x', -5, Number.POSITIVE_INFINITY);
    m.observeColdStart('d', Number.NaN);
    m.observeSwap('d', -0.1);
    const s = await m.snapshot(['x'], 'd');
    assert.equal(s.requests.total, 1, 'the request still counts');
    assert.equal(s.requestDuration.count, 0);
    assert.equal(s.timeToFirstToken.count, 0);
    assert.deepEqual(s.tokens, { prompt: 0, completion: 0 });
    assert.deepEqual(s.coldStarts, { count: 0, avgS: null });
    assert.deepEqual(s.swaps, { count: 0, avgS: null });
  });
});

describe('GatewayMetrics.snapshot', () => {
  it('totals the given served names and the deployment, and nothing else', async () => {
    const s = await recorded().snapshot(['llama', 'llama-lora'], 'llama-dep');
    assert.deepEqual(s.models, ['llama', 'llama-lora']);
    assert.deepEqual(s.requests, { total: 4, byStatus: { '200': 3, '503': 1 } });
    assert.equal(s.inFlight, 2);
    assert.equal(s.queued, 1);
    assert.deepEqual(s.tokens, { prompt: 35, completion: 17 });
    assert.equal(s.retries, 2);
    assert.equal(s.fallbacks, 1);
    assert.deepEqual(s.coldStarts, { count: 2, avgS: 21 });
    assert.deepEqual(s.swaps, { count: 1, avgS: 40 });

    // 0.04, 0.2, 0.3, 1.5 s merged over both names. p50: rank 2 is the top of
    // the (0.1, 0.25] bucket. p95: rank 3.8 lies 80% into (1, 2.5].
    assert.equal(s.requestDuration.count, 4);
    near(s.requestDuration.sumS, 2.04);
    near(s.requestDuration.p50S, 0.25);
    near(s.requestDuration.p95S, 2.2);

    // 0.05 and 0.07 s: rank 1 tops (0.025, 0.05]; rank 1.9 is 90% into (0.05, 0.1].
    assert.equal(s.timeToFirstToken.count, 2);
    near(s.timeToFirstToken.sumS, 0.12);
    near(s.timeToFirstToken.p50S, 0.05);
    near(s.timeToFirstToken.p95S, 0.095);
  });

  it('is all zeros and nulls for names and a deployment with no traffic', async () => {
    const s = await recorded().snapshot(['nobody'], 'nowhere');
    assert.deepEqual(s, {
      models: ['nobody'],
      requests: { total: 0, byStatus: {} },
      inFlight: 0,
      queued: 0,
      tokens: { prompt: 0, completion: 0 },
      requestDuration: { count: 0, sumS: 0, p50S: null, p95S: null },
      timeToFirstToken: { count: 0, sumS: 0, p50S: null, p95S: null },
      coldStarts: { count: 0, avgS: null },
      swaps: { count: 0, avgS: null },
      retries: 0,
      fallbacks: 0,
    });
  });

  it('reports the top finite bucket for a quantile beyond it', async () => {
    const m = new GatewayMetrics({ replicaStates: () => [] });
    m.observeRequest({ model: 'slow', status: 504, durationS: 400 });
    const s = await m.snapshot(['slow'], 'slow-dep');
    assert.equal(s.requestDuration.p50S, 300);
    assert.equal(s.requestDuration.p95S, 300);
  });
});

describe('histogramQuantile', () => {
  const buckets: [number, number][] = [
    [1, 2],
    [2, 2],
    [4, 6],
    [Infinity, 8],
  ];
  it('interpolates inside the bucket holding the rank, from 0 for the first', () => {
    assert.equal(histogramQuantile(0.125, buckets, 8), 0.5);
    assert.equal(histogramQuantile(0.5, buckets, 8), 3);
    assert.equal(histogramQuantile(0.75, buckets, 8), 4);
  });
  it('answers the highest finite bound past it, and null with no observations', () => {
    assert.equal(histogramQuantile(0.95, buckets, 8), 4);
    assert.equal(histogramQuantile(0.5, buckets, 0), null);
    assert.equal(histogramQuantile(0.5, [], 0), null);
  });
});
