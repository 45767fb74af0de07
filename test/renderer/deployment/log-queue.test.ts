// Flow control between the log stream and the terminal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogQueue } from '../../../renderer/src/deployment/log-queue.js';

describe('LogQueue', () => {
  it('hands out lines ended by CRLF, at most a frame at a time, in order', () => {
    const q = new LogQueue({ perFrame: 10 });
    for (const l of ['aaaa', 'bbbb', 'cccc', 'dd']) q.push(l);
    assert.equal(q.take(), 'aaaa\r\nbbbb\r\n');
    assert.equal(q.take(), 'cccc\r\ndd\r\n');
    assert.equal(q.take(), null);
    assert.ok(q.empty);
  });

  it('hands out a line longer than a frame whole', () => {
    const q = new LogQueue({ perFrame: 4 });
    q.push('x'.repeat(100));
    q.push('y');
    assert.equal(q.take(), `${'x'.repeat(100)}\r\n`);
    assert.equal(q.take(), 'y\r\n');
  });

  it('when the page falls behind, drops the oldest waiting lines and says how many', () => {
    const q = new LogQueue({ maxQueued: 13, perFrame: 1000 });
    for (const l of ['one', 'two', 'three', 'four']) q.push(l);
    const text = q.take()!;
    assert.match(text, /2 lines skipped/);
    assert.ok(text.endsWith('three\r\nfour\r\n'), text);
    assert.equal(q.pending, 0);
  });

  it('keeps the newest line even when it alone is over the bound', () => {
    const q = new LogQueue({ maxQueued: 4 });
    q.push('ab');
    q.push('a much longer line');
    const text = q.take()!;
    assert.match(text, /1 line skipped/);
    assert.ok(text.endsWith('a much longer line\r\n'));
  });

  it('forgets everything on clear (the terminal is reset before a replay)', () => {
    const q = new LogQueue({ maxQueued: 4 });
    for (const l of ['a', 'b', 'c']) q.push(l);
    q.clear();
    assert.equal(q.take(), null);
    q.push('d');
    assert.equal(q.take(), 'd\r\n', 'no marker for lines dropped before the reset');
  });
});
