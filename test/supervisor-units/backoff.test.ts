import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RESTART_POLICY, nextRestart } from '../../daemon/supervisor/backoff.js';

const MIN = 60_000;

describe('nextRestart', () => {
  test('the default policy: 1 s doubling, give up at the 5th crash within 10 minutes', () => {
    assert.deepEqual(
      { ...DEFAULT_RESTART_POLICY },
      { initialDelayMs: 1000, factor: 2, maxDelayMs: 60_000, maxCrashes: 5, windowMs: 10 * MIN },
    );
    let history: number[] = [];
    const delays: number[] = [];
    let now = 1_000_000;
    for (let i = 0; i < 4; i++) {
      const d = nextRestart(history, now);
      assert.equal(d.giveUp, false);
      delays.push(d.delayMs);
      history = [...d.recent, now];
      now += 10_000;
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000]);
    const fifth = nextRestart(history, now);
    assert.deepEqual(fifth, { giveUp: true, delayMs: 0, recent: history });
  });

  test('crashes older than the window are forgiven', () => {
    const now = 100 * MIN;
    const old = [now - 30 * MIN, now - 20 * MIN, now - 11 * MIN, now - 10 * MIN]; // the last is exactly on the edge: out
    const d = nextRestart(old, now);
    assert.deepEqual(d, { giveUp: false, delayMs: 1000, recent: [] });
  });

  test('recent is sorted, pruned, and the input is not touched', () => {
    const now = 50 * MIN;
    const input = [now - 1000, now - 20 * MIN, now - 5000, Number.NaN, now + 5000];
    const copy = [...input];
    const d = nextRestart(input, now);
    assert.deepEqual(d.recent, [now - 5000, now - 1000]);
    assert.equal(d.delayMs, 4000);
    assert.deepEqual(input, copy);
  });

  test('the delay is capped at maxDelayMs', () => {
    const policy = { ...DEFAULT_RESTART_POLICY, maxCrashes: 100 };
    const now = 10 * MIN;
    const history = Array.from({ length: 10 }, (_, i) => now - (i + 1) * 1000);
    assert.equal(nextRestart(history, now, policy).delayMs, 60_000);
  });

  test('a policy that gives up at the first crash', () => {
    assert.equal(nextRestart([], 0, { ...DEFAULT_RESTART_POLICY, maxCrashes: 1 }).giveUp, true);
  });
});
