// What the header says about the daemon, and what a GPU card's memory bar shows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryBar, overallState, shareColour, SHARE_COLOURS } from '../../renderer/src/store/derive.js';
import type { GpuUsageReport } from '../../daemon/contract/live.js';
import { deployment, gpu } from './samples.js';

const synced = { connection: 'open' as const, synced: true };

describe('overall state', () => {
  it('reads the connection first, then the deployments that should run', () => {
    assert.equal(overallState({ connection: 'unreachable', synced: true, deployments: [deployment('a')] }), 'unreachable');
    assert.equal(overallState({ connection: 'connecting', synced: false, deployments: [] }), 'connecting');
    assert.equal(overallState({ ...synced, deployments: [] }), 'idle');
    assert.equal(overallState({ ...synced, deployments: [deployment('a', 'stopped', 'stopped')] }), 'idle');
    assert.equal(overallState({ ...synced, deployments: [deployment('a', 'ready')] }), 'serving');
    assert.equal(overallState({ ...synced, deployments: [deployment('a', 'ready'), deployment('b', 'starting')] }), 'starting');
    assert.equal(overallState({ ...synced, deployments: [deployment('a', 'ready'), deployment('b', 'failed')] }), 'error');
    // A failure the user already stopped is not an error any more.
    assert.equal(overallState({ ...synced, deployments: [deployment('a', 'ready'), deployment('b', 'failed', 'stopped')] }), 'serving');
  });
});

describe('share colours', () => {
  it('gives a deployment the same colour whatever order the list comes in', () => {
    const list = [deployment('b'), deployment('a'), deployment('c')];
    assert.equal(shareColour('a', list), 1);
    assert.equal(shareColour('c', list), 3);
    assert.equal(shareColour('c', [...list].reverse()), 3);
    const many = Array.from({ length: SHARE_COLOURS + 1 }, (_, i) => deployment(`d${i}`));
    assert.equal(shareColour(`d${SHARE_COLOURS}`, many), 1);
  });
});

describe('GPU memory bar', () => {
  const usage: GpuUsageReport = {
    at: 'x',
    shares: [
      { gpuIndex: 0, gpuUuid: 'GPU-0', deployment: 'qwen', replica: 'qwen-0', allocatedMiB: 8000, usedMiB: 6000, pids: [10] },
      { gpuIndex: 0, gpuUuid: 'GPU-0', deployment: 'llama', replica: 'llama-0', allocatedMiB: null, usedMiB: 2000, pids: [11] },
      { gpuIndex: 1, gpuUuid: 'GPU-1', deployment: 'qwen', replica: 'qwen-1', allocatedMiB: 8000, usedMiB: 8000, pids: [12] },
    ],
    foreign: [{ gpuIndex: 0, pid: 99, name: 'python', usedMiB: 1000 }],
  };
  const list = [deployment('qwen'), deployment('llama')];

  it('shows each deployment on this GPU, allocated and used, then other processes and unexplained memory', () => {
    const bar = memoryBar(gpu(0, 16000, 10000), usage, list)!;
    assert.deepEqual(
      bar.segments.map((s) => [s.kind, s.label, s.allocatedMiB, s.usedMiB]),
      [
        ['share', 'llama', null, 2000],
        ['share', 'qwen', 8000, 6000],
        ['foreign', 'other processes', null, 1000],
        ['other', 'other', null, 1000],
      ],
    );
    const qwen = bar.segments[1]!;
    assert.equal(qwen.widthPct, 50);
    assert.equal(qwen.usedPctOfSegment, 75);
    assert.equal(qwen.colour, shareColour('qwen', list));
    assert.equal(bar.freeMiB, 6000);
  });

  it('sums a deployment\'s replicas and leaves other GPUs\' shares out', () => {
    const bar = memoryBar(gpu(1, 16000, 8000), usage, list)!;
    assert.deepEqual(bar.segments.map((s) => s.label), ['qwen']);
  });

  it('scales allocations that exceed the card instead of overflowing', () => {
    const over: GpuUsageReport = { ...usage, foreign: [], shares: usage.shares.map((s) => ({ ...s, gpuIndex: 0, allocatedMiB: 12000 })) };
    const bar = memoryBar(gpu(0, 16000, 16000), over, list)!;
    const total = bar.segments.reduce((a, s) => a + s.widthPct, 0);
    assert.ok(Math.abs(total - 100) < 1e-9);
  });

  it('has no bar when the driver reports no total (unified memory)', () => {
    assert.equal(memoryBar(gpu(0, null, null), usage, list), null);
  });

  it('shows an empty bar before the first usage report', () => {
    assert.deepEqual(memoryBar(gpu(0, 16000, 0), null, list)?.segments, []);
  });
});
