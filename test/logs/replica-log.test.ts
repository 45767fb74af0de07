import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ReplicaLog } from '../../daemon/logs/replica-log.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-replica-log-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const UVICORN = '\x1b[32mINFO\x1b[0m:     Application startup complete.';

describe('ReplicaLog', () => {
  test('pty chunks become lines in the tail, plain by default or with ANSI', async () => {
    const log = new ReplicaLog({ file: null });
    log.write('first\r');
    log.write('\nLoading 10%\rLoading 100%\r\n');
    log.write(`${UVICORN}\r\npart`);
    assert.deepEqual(log.tail(), ['first', 'Loading 100%', 'INFO:     Application startup complete.']);
    assert.deepEqual(log.tail(1, { ansi: true }), [UVICORN]);
    assert.deepEqual(log.tail(2), ['Loading 100%', 'INFO:     Application startup complete.']);
    assert.equal(log.totalLines, 3);
    await log.close();
  });

  test('lastLines() ends with the line still being written (a stuck progress bar)', async () => {
    const log = new ReplicaLog({ file: null });
    log.write('a\nb\n\rCapturing batches:  50%|█████     | 2/4');
    assert.deepEqual(log.lastLines(2), ['b', 'Capturing batches:  50%|█████     | 2/4']);
    assert.deepEqual(log.lastLines(0), []);
    assert.deepEqual(log.tail(), ['a', 'b'], 'the tail holds completed lines only');
    await log.close();
  });

  test('keeps at most `capacity` lines', async () => {
    const log = new ReplicaLog({ file: null, capacity: 3 });
    for (let i = 0; i < 10; i++) log.write(`line ${i}\r\n`);
    assert.deepEqual(log.tail(), ['line 7', 'line 8', 'line 9']);
    assert.equal(log.totalLines, 10);
    await log.close();
  });

  test('subscribers get completed lines in batches; tail() + subscribe() neither miss nor repeat', async () => {
    const log = new ReplicaLog({ file: null, flushMs: 5 });
    log.write('old 1\nold 2\n');
    const history = log.tail();
    const live: string[][] = [];
    const raw: string[] = [];
    const off = log.subscribe((lines) => live.push(lines));
    log.subscribe((lines) => raw.push(...lines), { ansi: true });
    log.write(`new 1\n${UVICORN}\r\npartial`);
    // Delivery is asynchronous (a batch timer); wait for it rather than guess how long a busy machine takes.
    for (let waited = 0; live.length === 0 && waited < 2000; waited += 10) await sleep(10);
    await sleep(20);
    assert.deepEqual(history, ['old 1', 'old 2']);
    assert.deepEqual(live, [['new 1', 'INFO:     Application startup complete.']]);
    assert.deepEqual(raw, ['new 1', UVICORN]);
    off();
    log.write('\n');
    await sleep(20);
    assert.equal(live.length, 1, 'nothing after unsubscribe');
    await log.close();
  });

  test('lines written before subscribe but not yet delivered are not replayed to the newcomer', async () => {
    const log = new ReplicaLog({ file: null, flushMs: 5 });
    const first: string[] = [];
    log.subscribe((l) => first.push(...l));
    log.write('x\n'); // pending in the batch for `first`
    const second: string[] = [];
    log.subscribe((l) => second.push(...l));
    assert.deepEqual(log.tail(), ['x']);
    await sleep(20);
    assert.deepEqual(first, ['x']);
    assert.deepEqual(second, []);
    await log.close();
  });

  test('writes plain lines to the file; close() ends the partial line everywhere', async () => {
    const file = join(dir, 'replica.log');
    const log = new ReplicaLog({ file, flushMs: 1000 });
    const live: string[] = [];
    log.subscribe((l) => live.push(...l));
    log.write(`${UVICORN}\r\nTraceback (most recent call last):\r\nValueError: no`);
    await log.close();
    assert.equal(readFileSync(file, 'utf8'), 'INFO:     Application startup complete.\nTraceback (most recent call last):\nValueError: no\n');
    assert.deepEqual(live, ['INFO:     Application startup complete.', 'Traceback (most recent call last):', 'ValueError: no']);
    log.write('after close\n');
    assert.deepEqual(log.tail(1), ['ValueError: no']);
    await log.close(); // idempotent
  });

  test('a log file that cannot be written is reported, and memory still works', async () => {
    const errors: Error[] = [];
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, '');
    const log = new ReplicaLog({ file: join(blocker, 'x.log'), onError: (e) => errors.push(e) });
    log.write('still here\n');
    await log.close();
    assert.deepEqual(log.tail(), ['still here']);
    assert.equal(errors.length, 1);
  });
});
