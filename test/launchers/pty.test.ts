import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { toExitInfo } from '../../daemon/launchers/pty.js';
import { LaunchError } from '../../daemon/launchers/types.js';
import { parseStat, readStartTime } from '../../daemon/state/proc.js';
import { killAllStarted, launcher, start, TEST_ENV } from './helpers.js';

const NODE = process.execPath;

after(killAllStarted);

// Each test runs its own processes: they can run side by side.
describe('pty launcher', { concurrency: true }, () => {
  test('delivers output and maps the exit code', async () => {
    const s = await start(['bash', '-c', 'echo "hello from $0"; exit 3']);
    const exit = await s.proc.exited;
    assert.deepEqual(exit, { code: 3, signal: null });
    // argv[0] arrives resolved to its absolute path; the pty turns \n into \r\n.
    assert.match(s.output, /hello from \/\S*\/bash\r\n/);
  });

  test('maps a death by signal to its name', async () => {
    const s = await start([NODE, '-e', 'process.kill(process.pid, "SIGSEGV")']);
    assert.deepEqual(await s.proc.exited, { code: null, signal: 'SIGSEGV' });
  });

  test('toExitInfo: signal 0 means a normal exit', () => {
    assert.deepEqual(toExitInfo(0, 0), { code: 0, signal: null });
    assert.deepEqual(toExitInfo(0, 9), { code: null, signal: 'SIGKILL' });
    assert.deepEqual(toExitInfo(1, undefined), { code: 1, signal: null });
  });

  test('the child leads its own session and process group, and startTime is its /proc start time', async () => {
    const s = await start(['bash', '-c', 'echo ready; sleep 5']);
    await s.waitFor(/ready/);
    const stat = readFileSync(`/proc/${s.proc.pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    assert.equal(Number(rest[2]), s.proc.pid, 'pgrp == pid');
    assert.equal(Number(rest[3]), s.proc.pid, 'session == pid');
    assert.equal(parseStat(stat)?.startTime, s.proc.startTime);
    assert.equal(readStartTime(s.proc.pid), s.proc.startTime);
    s.proc.signal('SIGKILL');
    assert.equal((await s.proc.exited).signal, 'SIGKILL');
  });

  test('passes the environment exactly: nothing inherited, no TERM or PWD added', async () => {
    const env = { PATH: TEST_ENV.PATH!, BERTH_X: 'a b=c', EMPTY: '' };
    const s = await start([NODE, '-e', 'console.log("ENV=" + JSON.stringify(process.env))'], { env });
    await s.proc.exited;
    const m = /ENV=(\{.*\})/.exec(s.output);
    assert.ok(m, s.output);
    assert.deepEqual(JSON.parse(m[1]!), env);
  });

  test('keeps a TERM and PWD the caller did give', async () => {
    const env = { PATH: TEST_ENV.PATH!, TERM: 'dumb', PWD: '/caller/said/so' };
    const s = await start([NODE, '-e', 'console.log("ENV=" + JSON.stringify(process.env))'], { env, cwd: tmpdir() });
    await s.proc.exited;
    assert.deepEqual(JSON.parse(/ENV=(\{.*\})/.exec(s.output)![1]!), env);
  });

  test('runs in cwd with the requested terminal size', async () => {
    const s = await start(['bash', '-c', 'echo "cwd=$(pwd) size=$(stty size)"'], { cwd: '/', cols: 123, rows: 45 });
    await s.proc.exited;
    assert.match(s.output, /cwd=\/ size=45 123/);
  });

  test('exited resolves only after all output is drained, even for a burst right before exit', async () => {
    // A pty master still holds output when the engine exits; without the
    // held slave fd, libuv stops reading at the hang-up (see pty.ts). Several
    // bursts at once make the race show up reliably.
    const bursts = await Promise.all(
      Array.from({ length: 6 }, () => start(['bash', '-c', 'for i in $(seq 1 3000); do echo "line $i"; done'])),
    );
    for (const s of bursts) {
      await s.proc.exited;
      assert.equal(s.output.split('\r\n').length - 1, 3000);
      assert.match(s.output, /line 3000\r\n$/);
    }
  });

  test('output written before the first subscriber is replayed to it', async () => {
    const proc = await launcher.start({ argv: ['bash', '-c', 'echo early bird'], env: TEST_ENV });
    await proc.exited; // nobody listened while it ran
    let seen = '';
    proc.onData((chunk) => (seen += chunk));
    await new Promise((r) => setImmediate(r));
    assert.match(seen, /early bird/);
  });

  test('unsubscribe stops delivery', async () => {
    // "two" is printed only on SIGUSR1, sent after unsubscribing.
    const s = await start(['bash', '-c', 'trap "echo two; exit 0" USR1; echo one; while :; do sleep 0.05; done']);
    let seen = '';
    const off = s.proc.onData((chunk) => (seen += chunk));
    await s.waitFor(/one/);
    off();
    s.proc.signal('SIGUSR1');
    await s.proc.exited;
    assert.match(seen, /one/);
    assert.doesNotMatch(seen, /two/);
    assert.match(s.output, /two/, 'the other subscriber still got it');
  });

  describe('refuses what cannot be executed, with a code', () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'berth-launch-'));
      await writeFile(join(dir, 'not-executable'), '#!/bin/sh\necho hi\n');
      await writeFile(join(dir, 'moved-venv-script'), '#!/nonexistent/venv/bin/python\nprint("hi")\n');
      await chmod(join(dir, 'moved-venv-script'), 0o755);
      await writeFile(join(dir, 'env-script'), '#!/usr/bin/env berth-no-such-python\nprint("hi")\n');
      await chmod(join(dir, 'env-script'), 0o755);
    });
    after(() => rm(dir, { recursive: true, force: true }));

    const cases: [string, () => string[], LaunchError['code'], Partial<{ cwd: string }>?][] = [
      ['a missing absolute path', () => ['/nonexistent/bin/vllm', 'serve'], 'ENOENT'],
      ['a name not found in PATH', () => ['berth-no-such-command'], 'ENOENT'],
      ['a file without the execute bit', () => [join(dir, 'not-executable')], 'EACCES'],
      ['a directory', () => [dir], 'EACCES'],
      ['a script whose #! interpreter is gone', () => [join(dir, 'moved-venv-script')], 'ENOENT'],
      ['a script whose env interpreter is not in PATH', () => [join(dir, 'env-script')], 'ENOENT'],
      ['an empty argv', () => [], 'EINVAL'],
      ['a missing cwd', () => ['bash', '-c', 'true'], 'ENOENT', { cwd: '/nonexistent/dir' }],
    ];
    for (const [what, argv, code, extra] of cases) {
      test(what, async () => {
        await assert.rejects(launcher.start({ argv: argv(), env: TEST_ENV, ...extra }), (err: unknown) => {
          assert.ok(err instanceof LaunchError, String(err));
          assert.equal(err.code, code, err.message);
          return true;
        });
      });
    }

    test('looks the program up in the CHILD PATH, not the daemon PATH', async () => {
      await assert.rejects(launcher.start({ argv: ['bash', '-c', 'true'], env: { PATH: dir } }), { code: 'ENOENT' });
    });
  });
});
