import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, test } from 'node:test';
import { killGroupByPid, signalGroup, stopGroup } from '../../daemon/launchers/process-group.js';
import { groupMembers, isAlive } from '../../daemon/state/proc.js';
import { killAllStarted, start } from './helpers.js';

after(killAllStarted);

const NODE = process.execPath;

describe('stopGroup', { concurrency: true }, () => {
  test('SIGTERM stops a leader and the child it spawned; nothing of the group remains', async () => {
    const s = await start(['bash', '-c', 'sleep 1000 & echo "child=$!"; wait']);
    const child = Number((await s.waitFor(/child=(\d+)/))[1]);
    assert.ok(isAlive(child));
    assert.deepEqual(groupMembers(s.proc.pid).sort(), [s.proc.pid, child].sort());

    const exit = await stopGroup(s.proc, { graceMs: 2000 });
    assert.equal(exit.signal, 'SIGTERM');
    assert.equal(isAlive(child), false);
    assert.deepEqual(groupMembers(s.proc.pid), []);
  });

  test('a grandchild that ignores SIGTERM and SIGHUP and outlives the leader is SIGKILLed after the grace period', async () => {
    // SIG_IGN survives exec, so `sleep` ignores both; SIGHUP matters because
    // the kernel sends it to the group when the session leader exits.
    // It reports its pid only once its traps are set ($BASHPID survives exec).
    const s = await start(['bash', '-c', '(trap "" TERM HUP; echo "grandchild=$BASHPID"; exec sleep 1000) & wait']);
    const grandchild = Number((await s.waitFor(/grandchild=(\d+)/))[1]);

    const t0 = performance.now();
    const exit = await stopGroup(s.proc, { graceMs: 400 });
    const took = performance.now() - t0;
    assert.equal(exit.signal, 'SIGTERM', 'the leader itself obeyed SIGTERM');
    assert.ok(took >= 350, `waited out the grace period (${took} ms)`);
    assert.equal(isAlive(grandchild), false);
    assert.deepEqual(groupMembers(s.proc.pid), []);
  });

  test('a leader that ignores SIGTERM is SIGKILLed after the grace period', async () => {
    const s = await start([NODE, '-e', 'process.on("SIGTERM", () => console.log("ignored")); console.log("armed"); setInterval(() => {}, 1000)']);
    await s.waitFor(/armed/);
    const t0 = performance.now();
    const exit = await stopGroup(s.proc, { graceMs: 300 });
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL' });
    assert.ok(performance.now() - t0 >= 250);
    assert.match(s.output, /ignored/);
    assert.deepEqual(groupMembers(s.proc.pid), []);
  });

  test('on a leader that already exited, only the leftovers are dealt with', async () => {
    // The leader exits only once the child has its SIGHUP trap (the flag file).
    const flag = join(tmpdir(), `berth-pg-${process.pid}-${Date.now()}`);
    const script = '(trap "" HUP; echo "left=$BASHPID"; : > "$1"; exec sleep 1000) & while [ ! -e "$1" ]; do sleep 0.01; done; rm -f "$1"; exit 7';
    const s = await start(['bash', '-c', script, 'bash', flag]);
    const left = Number((await s.waitFor(/left=(\d+)/))[1]);
    assert.deepEqual(await s.proc.exited, { code: 7, signal: null });
    assert.ok(isAlive(left), 'the child outlived its leader');
    assert.deepEqual(await stopGroup(s.proc, { graceMs: 1000 }), { code: 7, signal: null });
    assert.equal(isAlive(left), false);
  });

  test('signal() after the whole group is gone is a no-op', async () => {
    const s = await start(['bash', '-c', 'exit 0']);
    await s.proc.exited;
    assert.doesNotThrow(() => s.proc.signal('SIGKILL'));
    assert.doesNotThrow(() => signalGroup(s.proc.pid, 'SIGTERM'));
  });
});

describe('killGroupByPid', { concurrency: true }, () => {
  test('refuses a pid whose start time does not match (a recycled pid)', async () => {
    const s = await start(['bash', '-c', 'echo up; sleep 1000']);
    await s.waitFor(/up/);
    assert.ok(s.proc.startTime);
    const wrong = String(Number(s.proc.startTime) + 1);
    assert.equal(await killGroupByPid(s.proc.pid, wrong, 100), false);
    assert.equal(await killGroupByPid(s.proc.pid, null, 100), false);
    assert.ok(isAlive(s.proc.pid), 'left alone');
    await stopGroup(s.proc, { graceMs: 1000 });
  });

  test('kills the whole group when the start time matches', async () => {
    const s = await start(['bash', '-c', 'sleep 1000 & echo "child=$!"; wait']);
    const child = Number((await s.waitFor(/child=(\d+)/))[1]);
    assert.equal(await killGroupByPid(s.proc.pid, s.proc.startTime, 1000), true);
    assert.deepEqual(groupMembers(s.proc.pid), []);
    assert.equal(isAlive(child), false);
    await s.proc.exited;
  });

  test('false for a pid that does not exist', async () => {
    assert.equal(await killGroupByPid(2 ** 22 + 12345, '1', 100), false);
  });
});
