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

const row = (target: LoadRow['target'], rps: number, engineBusy: number, proxyUs: number | null, connections = 64, p50 = 1): LoadRow => ({
  target,
  mode: 'json',
  connections,
  rps,
  ok: rps * 3,
  failures: [],
  p50,
  p99: 2,
  cpu: { proxyUs, engineUs: 100, engineBusy },
});

const report = (rows: LoadRow[]): Report => ({ meta: {}, skipped: {}, load: rows, ttfb: [], minReads: 4 });

describe('bench: verdict', () => {
  it('says when a point is engine-bound, judges no req/s there, and shows CPU per request beside req/s', () => {
    const rep = report([row('direct', 8000, 0.97, null), row('nginx', 7900, 0.95, 15), row('gateway', 3000, 0.96, 45)]);
    const notes = verdict(rep).notes;
    assert.ok(notes.includes('target (gateway req/s >= 0.5x nginx where the proxy is the bottleneck): met'), notes.join('\n'));
    assert.ok(notes.some((n) => n.startsWith('json c=64: the engine alone uses 97% of a core')), notes.join('\n'));
    const text = render(rep);
    assert.match(text, /proxy CPU µs\/req/);
    assert.match(text, /gateway\s+json\s+64\s+3000\s.*\s45\s+100\s+96%/);
  });

  it('says nothing of the engine where it had a core to spare, and names a missed point', () => {
    const rep = report([row('direct', 4000, 0.6, null), row('nginx', 3000, 0.5, 20), row('gateway', 1400, 0.45, 90)]);
    const notes = verdict(rep).notes;
    assert.ok(!notes.some((n) => n.includes('engine-bound')));
    assert.ok(notes.includes('target (gateway req/s >= 0.5x nginx where the proxy is the bottleneck): MISSED at json c=64 0.47x'), notes.join('\n'));
  });

  it('judges the latency added at one connection against what nginx adds', () => {
    const at1 = (gatewayP50: number) =>
      verdict(report([row('direct', 6000, 0.6, null, 1, 0.13), row('nginx', 4000, 0.5, 50, 1, 0.19), row('gateway', 2500, 0.4, 130, 1, gatewayP50)])).notes;
    assert.ok(at1(0.29).includes("target (p50 latency added at c=1 within 0.15 ms of nginx's): met"), at1(0.29).join('\n'));
    assert.ok(at1(0.40).includes("target (p50 latency added at c=1 within 0.15 ms of nginx's): MISSED at json c=1 +0.27 ms vs nginx +0.06 ms"), at1(0.40).join('\n'));
  });
});
