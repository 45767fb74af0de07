import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RotatingFile } from '../../daemon/logs/rotating-file.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-rotate-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const read = (p: string) => readFileSync(p, 'utf8');

describe('RotatingFile', () => {
  test('appends in order and creates missing directories', async () => {
    const path = join(dir, 'a', 'b', 'x.log');
    const f = new RotatingFile({ path });
    for (let i = 0; i < 100; i++) f.write(`line ${i}\n`);
    await f.close();
    assert.equal(read(path), Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(''));
  });

  test('appends to what a previous run left', async () => {
    const path = join(dir, 'again.log');
    await writeFile(path, 'old\n');
    const f = new RotatingFile({ path });
    f.write('new\n');
    await f.close();
    assert.equal(read(path), 'old\nnew\n');
  });

  test('rotates at maxBytes and keeps x.log, x.log.1, x.log.2', async () => {
    const path = join(dir, 'r.log');
    const f = new RotatingFile({ path, maxBytes: 20, keep: 3 });
    // Each write is flushed on its own so every one is a separate batch.
    for (let i = 0; i < 6; i++) {
      f.write(`${'#'.repeat(14)} ${i}\n`); // 17 bytes: one per file
      await f.flush();
    }
    await f.close();
    assert.equal(read(path), '############## 5\n');
    assert.equal(read(`${path}.1`), '############## 4\n');
    assert.equal(read(`${path}.2`), '############## 3\n');
    assert.equal(existsSync(`${path}.3`), false);
  });

  test('keep = 1 starts the one file over', async () => {
    const path = join(dir, 'one.log');
    const f = new RotatingFile({ path, maxBytes: 10, keep: 1 });
    f.write('12345678\n');
    await f.flush();
    f.write('abcdefgh\n');
    await f.close();
    assert.equal(read(path), 'abcdefgh\n');
    assert.equal(existsSync(`${path}.1`), false);
  });

  test('never throws into the caller; reports an error once per run of failures', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, '');
    const errors: Error[] = [];
    const f = new RotatingFile({ path: join(blocker, 'x.log'), onError: (e) => errors.push(e) });
    for (let i = 0; i < 3; i++) {
      assert.doesNotThrow(() => f.write('lost\n'));
      await f.flush();
    }
    await f.close();
    assert.equal(errors.length, 1);
    assert.match((errors[0] as NodeJS.ErrnoException).code ?? '', /ENOTDIR|EEXIST/);
  });

  test('drops output beyond maxPendingBytes and marks the spot in the file', async () => {
    const path = join(dir, 'slow.log');
    const f = new RotatingFile({ path, maxPendingBytes: 10, delayMs: 0 });
    f.write('line-0001\n'); // taken by the writer at once
    f.write('line-0002\n'); // queued: the queue is full
    f.write('dropped\n'); // over the limit
    await f.flush();
    f.write('after\n');
    await f.close();
    assert.equal(
      read(path),
      'line-0001\nline-0002\n[berth] 8 characters of engine output were dropped here: the log file could not keep up\nafter\n',
    );
  });

  test('lines wait for the delay, and flush() writes them without waiting', async () => {
    const path = join(dir, 'delayed.log');
    const f = new RotatingFile({ path, delayMs: 60_000 });
    f.write('one\n');
    f.write('two\n');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(path), false, 'nothing written before the delay');
    await f.flush();
    assert.equal(read(path), 'one\ntwo\n');
    await f.close();
  });

  test('close() is idempotent and later writes are ignored', async () => {
    const path = join(dir, 'closed.log');
    const f = new RotatingFile({ path });
    f.write('a\n');
    await Promise.all([f.close(), f.close()]);
    f.write('b\n');
    await f.flush();
    assert.equal(read(path), 'a\n');
  });
});
