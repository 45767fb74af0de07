import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { DataBatcher } from '../../daemon/logs/batcher.js';
import { chunkString, safeCutIndex } from '../../daemon/logs/utf16.js';

describe('DataBatcher', () => {
  test('collects writes and delivers them together after flushMs', async () => {
    const b = new DataBatcher({ flushMs: 10 });
    const got: string[][] = [];
    b.subscribe((batch) => got.push(batch));
    b.write('a');
    b.write('b');
    b.write('c');
    assert.deepEqual(got, [], 'nothing is delivered synchronously');
    await sleep(30);
    assert.deepEqual(got, [['a', 'b', 'c']]);
    b.dispose();
  });

  test('delivers at once when maxBatchSize is reached', () => {
    const b = new DataBatcher({ flushMs: 10_000, maxBatchSize: 10 });
    const got: string[][] = [];
    b.subscribe((batch) => got.push(batch));
    b.write('12345');
    b.write('6789'); // 9: below the limit
    assert.deepEqual(got, []);
    b.write('ab'); // would make 11: the pending 9 go first
    assert.deepEqual(got, [['12345', '6789']]);
    b.write('cdefghij'); // reaches 10 exactly
    assert.deepEqual(got, [['12345', '6789'], ['ab', 'cdefghij']]);
    b.dispose();
  });

  test('splits an oversized item without breaking a surrogate pair', () => {
    const b = new DataBatcher({ flushMs: 10_000, maxBatchSize: 4 });
    const got: string[] = [];
    b.subscribe((batch) => got.push(...batch));
    b.write('abc😀😀d'); // 😀 is two UTF-16 code units
    b.flush();
    assert.equal(got.join(''), 'abc😀😀d');
    for (const piece of got) {
      assert.ok(piece.length <= 4);
      assert.ok(!/[\ud800-\udbff]$/.test(piece) && !/^[\udc00-\udfff]/.test(piece), `whole characters: ${JSON.stringify(piece)}`);
    }
    b.dispose();
  });

  test('never calls a subscriber after it unsubscribed, even mid-flush', () => {
    const b = new DataBatcher({ flushMs: 10_000 });
    const calls: string[] = [];
    let offSecond = () => {};
    b.subscribe(() => {
      calls.push('first');
      offSecond(); // closes the second subscriber during this very flush
    });
    offSecond = b.subscribe(() => calls.push('second'));
    b.write('x');
    b.flush();
    b.write('y');
    b.flush();
    assert.deepEqual(calls, ['first', 'first']);
    b.dispose();
  });

  test('a subscriber sees only what was written after it subscribed', () => {
    const b = new DataBatcher({ flushMs: 10_000 });
    const early: string[] = [];
    const late: string[] = [];
    b.subscribe((batch) => early.push(...batch));
    b.write('before');
    b.subscribe((batch) => late.push(...batch));
    b.write('after');
    b.flush();
    assert.deepEqual(early, ['before', 'after']);
    assert.deepEqual(late, ['after']);
    b.dispose();
  });

  test('a subscriber that throws is dropped and reported; the others go on', () => {
    const errors: unknown[] = [];
    const b = new DataBatcher({ flushMs: 10_000, onError: (e) => errors.push(e) });
    let bad = 0;
    const good: string[] = [];
    b.subscribe(() => {
      bad++;
      throw new Error('socket gone');
    });
    b.subscribe((batch) => good.push(...batch));
    b.write('1');
    b.flush();
    b.write('2');
    b.flush();
    assert.equal(bad, 1);
    assert.deepEqual(good, ['1', '2']);
    assert.equal(errors.length, 1);
    assert.equal(b.subscriberCount, 1);
    b.dispose();
  });

  test('each subscriber gets its own array', () => {
    const b = new DataBatcher({ flushMs: 10_000 });
    let second: string[] = [];
    b.subscribe((batch) => batch.push('mutated'));
    b.subscribe((batch) => (second = batch));
    b.write('x');
    b.flush();
    assert.deepEqual(second, ['x']);
    b.dispose();
  });

  test('dispose() delivers what is pending, then nothing more', () => {
    const b = new DataBatcher({ flushMs: 10_000 });
    const got: string[] = [];
    b.subscribe((batch) => got.push(...batch));
    b.write('last');
    b.dispose();
    b.write('ignored');
    b.flush();
    assert.deepEqual(got, ['last']);
    assert.equal(b.subscriberCount, 0);
    b.subscribe(() => assert.fail('subscribed after dispose'));
    b.write('x');
    b.flush();
  });

  test('without subscribers nothing is kept', () => {
    const b = new DataBatcher({ flushMs: 10_000 });
    b.write('nobody listens');
    const got: string[] = [];
    b.subscribe((batch) => got.push(...batch));
    b.flush();
    assert.deepEqual(got, []);
    b.dispose();
  });
});

describe('utf16', () => {
  test('safeCutIndex steps back from inside a surrogate pair', () => {
    const s = 'a😀b';
    assert.equal(safeCutIndex(s, 1), 1);
    assert.equal(safeCutIndex(s, 2), 1);
    assert.equal(safeCutIndex(s, 3), 3);
    assert.equal(safeCutIndex(s, 99), 4);
  });

  test('chunkString reassembles to the input', () => {
    const s = '😀'.repeat(5) + 'xyz';
    assert.equal(chunkString(s, 3).join(''), s);
    assert.throws(() => chunkString(s, 1), RangeError);
  });
});
