import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RING_CAPACITY, RingBuffer } from '../../daemon/logs/ring-buffer.js';

describe('RingBuffer', () => {
  test('defaults to 5000 lines', () => {
    assert.equal(DEFAULT_RING_CAPACITY, 5000);
    assert.equal(new RingBuffer<string>().capacity, 5000);
  });

  test('keeps the newest items, oldest first', () => {
    const r = new RingBuffer<number>(3);
    assert.deepEqual(r.tail(), []);
    for (let i = 1; i <= 5; i++) r.push(i);
    assert.deepEqual(r.tail(), [3, 4, 5]);
    assert.deepEqual(r.tail(2), [4, 5]);
    assert.deepEqual(r.tail(0), []);
    assert.deepEqual(r.tail(99), [3, 4, 5]);
    assert.equal(r.size, 3);
    assert.equal(r.totalPushed, 5);
  });

  test('before it wraps', () => {
    const r = new RingBuffer<string>(4);
    r.push('a');
    r.push('b');
    assert.deepEqual(r.tail(), ['a', 'b']);
    assert.deepEqual(r.tail(1), ['b']);
  });

  test('wraps many times over', () => {
    const r = new RingBuffer<number>(7);
    for (let i = 0; i < 1000; i++) r.push(i);
    assert.deepEqual(r.tail(), [993, 994, 995, 996, 997, 998, 999]);
    assert.deepEqual(r.tail(-1), []);
  });

  test('clear() empties it; the total stays', () => {
    const r = new RingBuffer<number>(2);
    r.push(1);
    r.clear();
    assert.deepEqual(r.tail(), []);
    assert.equal(r.totalPushed, 1);
  });

  test('refuses a capacity that is not a positive integer', () => {
    assert.throws(() => new RingBuffer(0), RangeError);
    assert.throws(() => new RingBuffer(1.5), RangeError);
  });
});
