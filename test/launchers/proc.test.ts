import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { groupMembers, isAlive, isSameProcess, parseStat, readCpuTicks, readProcLinks, readStartTime } from '../../daemon/state/proc.js';

// A stat line whose comm holds spaces and parentheses, as a process may name
// itself; fields after it: state R, ppid 1, pgrp 4242, ..., utime 250, stime 75, ..., starttime 987654.
const fields = ['R', '1', '4242', '4242', '0', '-1', '4194304', '0', '0', '0', '0', '250', '75', '0', '0', '20', '0', '1', '0', '987654', '0'];
const STAT = `4242 (we ird) (na) me) ${fields.join(' ')}`;

describe('proc', () => {
  test('parseStat counts fields after the LAST parenthesis', () => {
    assert.deepEqual(parseStat(STAT), { state: 'R', ppid: 1, pgrp: 4242, startTime: '987654', cpuTicks: 325 });
    assert.equal(parseStat('garbage'), null);
    assert.equal(parseStat('1 (x) R 0'), null);
  });

  test('readStartTime / isSameProcess on this very process', () => {
    const own = parseStat(readFileSync('/proc/self/stat', 'utf8'))!;
    const start = readStartTime(process.pid);
    assert.equal(start, own.startTime);
    assert.equal(isSameProcess(process.pid, start), true);
    assert.equal(isSameProcess(process.pid, String(Number(start) + 1)), false);
    assert.equal(isSameProcess(process.pid, null), false);
  });

  test('a pid that does not exist', () => {
    const pid = 2 ** 22 + 12345; // above pid_max's ceiling
    assert.equal(readStartTime(pid), null);
    assert.equal(readCpuTicks(pid), null);
    assert.equal(isAlive(pid), false);
    assert.equal(isSameProcess(pid, '1'), false);
    assert.deepEqual(groupMembers(pid), []);
  });

  test('groupMembers finds this process in its own group', () => {
    const pgrp = parseStat(readFileSync('/proc/self/stat', 'utf8'))!.pgrp;
    assert.ok(groupMembers(pgrp).includes(process.pid));
    assert.equal(isAlive(process.pid), true);
  });

  test('readProcLinks: this process, its parent chain, and nothing for a pid that is gone', () => {
    const own = parseStat(readFileSync('/proc/self/stat', 'utf8'))!;
    const links = readProcLinks([process.pid, 2 ** 22 + 12345]);
    assert.deepEqual(links.get(process.pid), { pgid: own.pgrp, ppid: process.ppid });
    assert.ok(links.has(process.ppid) || process.ppid <= 1, 'the parent is read too');
    assert.equal(links.has(2 ** 22 + 12345), false);
    assert.equal(links.has(1), false, 'init ends the walk');
  });

  test('nonsense input is refused, not thrown on', () => {
    assert.equal(readStartTime(-1), null);
    assert.equal(readStartTime(1.5), null);
    assert.deepEqual(groupMembers(0), []);
  });
});
