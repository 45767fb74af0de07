// The charts' hour: history and live samples merged by time, trimmed to the window.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LiveStats } from '../../../daemon/contract/live.js';
import { StatsWindow, xRange } from '../../../renderer/src/deployment/stats-window.js';

const T0 = Date.parse('2026-01-01T10:00:00Z');

function sample(offsetS: number, over: Partial<LiveStats> = {}): LiveStats {
  return {
    name: 'qwen',
    at: new Date(T0 + offsetS * 1000).toISOString(),
    requestsPerS: offsetS,
    tokensPerS: 10,
    ttftP50S: 0.05,
    ttftP95S: 0.2,
    inFlight: 0,
    queued: 0,
    kvCacheUsage: 0.25,
    ...over,
  };
}

describe('StatsWindow', () => {
  it('keeps samples in time order whatever order they arrive in, one per time', () => {
    const w = new StatsWindow();
    w.add([sample(10), sample(0)]);
    w.add([sample(5), sample(10, { requestsPerS: 99 })]);
    const c = w.columns();
    assert.deepEqual(c.t, [T0 / 1000, T0 / 1000 + 5, T0 / 1000 + 10]);
    assert.deepEqual(c.requestsPerS, [0, 5, 99], 'a sample at a time already held replaces it');
  });

  it('drops what is older than the window before the newest sample', () => {
    const w = new StatsWindow(60);
    w.add([sample(0), sample(30), sample(61), sample(90)]);
    assert.deepEqual(w.columns().requestsPerS, [30, 61, 90]);
    assert.equal(w.newest, T0 / 1000 + 90);
  });

  it('gives TTFT in ms and KV-cache use in percent, with gaps where the daemon had no value', () => {
    const w = new StatsWindow();
    w.add([sample(0), sample(5, { ttftP50S: null, ttftP95S: null, kvCacheUsage: null }), sample(10, { kvCacheUsage: 1.2 })]);
    const c = w.columns();
    assert.deepEqual(c.ttftP50Ms, [50, null, 50]);
    assert.deepEqual(c.ttftP95Ms, [200, null, 200]);
    assert.deepEqual(c.kvCachePct, [25, null, 100]);
  });

  it('ignores a sample whose time does not parse, and says when nothing changed', () => {
    const w = new StatsWindow();
    assert.equal(w.add([sample(0, { at: 'yesterday' })]), false);
    assert.equal(w.size, 0);
  });
});

describe('xRange', () => {
  it('ends at the newest sample (the daemon clock), or at now when there is none', () => {
    assert.deepEqual(xRange(5000, 9999, 3600), [1400, 5000]);
    assert.deepEqual(xRange(null, 9999, 3600), [6399, 9999]);
  });
});
