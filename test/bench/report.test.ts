// The benchmark's own arithmetic: a wrong /proc reading or verdict would
// mislead whoever reads the figures, with no test of the gateway failing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuSeconds } from '../../scripts/bench/cpu.js';
import { render, verdict, type LoadRow, type Report } from '../../scripts/bench/report.js';

describe('bench: CPU readings', () => {
  it('counts this process CPU, and says null for a process that does not exist', { skip: process.platform !== 'linux' ? 'reads /proc, Linux only' : false }, () => {
    const t = cpuSeconds([process.pid]);
    assert.ok(t !== null && t > 0);
    assert.equal(cpuSeconds([process.pid, 2 ** 22 + 1]), null);
    assert.equal(cpuSeconds([]), null, 'no process, no figure: direct has no proxy');
  });
});

const row = (target: LoadRow['target'], rps: number, engineBusy: number, proxyUs: number | null): LoadRow => ({
  target,
  mode: 'json',
  connections: 64,
  rps,
  ok: rps * 3,
  failures: [],
  p50: 1,
  p99: 2,
  cpu: { proxyUs, engineUs: 100, engineBusy },
});

const report = (rows: LoadRow[]): Report => ({ meta: {}, skipped: {}, load: rows, ttfb: [], minReads: 4 });

describe('bench: verdict', () => {
  it('says when a point is engine-bound, and shows CPU per request beside req/s', () => {
    const rep = report([row('direct', 8000, 0.97, null), row('nginx', 7900, 0.95, 15), row('gateway', 7950, 0.96, 45)]);
    const notes = verdict(rep).notes;
    assert.ok(notes.some((n) => n === 'target (gateway req/s >= nginx at every point): met'));
    assert.ok(notes.some((n) => n.startsWith('json c=64: the engine alone uses 97% of a core')), notes.join('\n'));
    const text = render(rep);
    assert.match(text, /proxy CPU µs\/req/);
    assert.match(text, /gateway\s+json\s+64\s+7950\s.*\s45\s+100\s+96%/);
  });

  it('says nothing of the engine where it had a core to spare, and names a missed point', () => {
    const rep = report([row('direct', 4000, 0.6, null), row('nginx', 3000, 0.5, 20), row('gateway', 2400, 0.45, 90)]);
    const notes = verdict(rep).notes;
    assert.ok(!notes.some((n) => n.includes('engine-bound')));
    assert.ok(notes.includes('target (gateway req/s >= nginx at every point): MISSED at json c=64 0.80x'), notes.join('\n'));
  });
});
