// Mapping nvidia-smi's compute apps to replicas: who owns a pid, and the report.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Gpu, GpuInventory, GpuProcess } from '../../daemon/contract/api.js';
import { ownerOf, usageReport, type GpuClaim, type ProcLink } from '../../daemon/gpu/usage.js';

const links = (rows: [pid: number, pgid: number, ppid: number][]) => new Map<number, ProcLink>(rows.map(([pid, pgid, ppid]) => [pid, { pgid, ppid }]));

describe('ownerOf', () => {
  const leaders = new Map([
    [100, { pid: 100, name: 'qwen' }],
    [200, { pid: 200, name: 'llama' }],
  ]);
  // A process table: 100 and 200 lead their groups; 101 is 100's EngineCore; 150 left
  // 100's group (setsid) and 151 is its child; 300 is a shell, 301 its notebook; 400 loops.
  const table = links([
    [100, 100, 1],
    [101, 100, 100],
    [150, 150, 100],
    [151, 150, 150],
    [200, 200, 1],
    [300, 300, 1],
    [301, 300, 300],
    [400, 400, 401],
    [401, 400, 400],
  ]);
  const cases: [string, number, string | null][] = [
    ['the engine itself', 100, 'qwen'],
    ['a member of its process group', 101, 'qwen'],
    ['a worker that started its own session, by its parent', 150, 'qwen'],
    ['a grandchild outside the group', 151, 'qwen'],
    ['another engine', 200, 'llama'],
    ['a process of no replica', 301, null],
    ['a pid /proc does not know (gone, or another pid namespace)', 999, null],
    ['a parent cycle ends the walk', 400, null],
  ];
  for (const [what, pid, want] of cases) {
    it(what, () => assert.equal(ownerOf(pid, leaders, table)?.name ?? null, want));
  }
  it('a group leader is found even when /proc was not read for the pid', () => {
    assert.equal(ownerOf(200, leaders, new Map())?.name, 'llama');
  });
});

function gpu(index: number, processes: GpuProcess[], totalMiB: number | null = 81559): Gpu {
  return {
    index, uuid: `GPU-${index}`, name: 'NVIDIA H100 80GB HBM3', busId: null,
    memoryTotalMiB: totalMiB, memoryUsedMiB: null, memoryFreeMiB: null, utilizationPct: null, memoryUtilizationPct: null,
    temperatureC: null, powerDrawW: null, powerLimitW: null, computeCap: null, migEnabled: null, processes,
  };
}

const inventory = (gpus: Gpu[]): GpuInventory => ({
  available: true, reason: null, driverVersion: null, cudaVersion: null, gpus, lost: [],
  host: { cpu: null, memory: null, os: null }, checkedAt: '2025-01-01T00:00:00.000Z',
});

const proc = (pid: number, gpuIndex: number, usedMiB: number | null, name = 'python3'): GpuProcess => ({ pid, name, gpuUuid: `GPU-${gpuIndex}`, usedMiB });

describe('usageReport', () => {
  const qwen: GpuClaim = { deployment: 'qwen', replica: 'qwen-1', pid: 100, gpus: [0, 1], memoryFraction: 0.9 };
  const sglang: GpuClaim = { deployment: 'sg', replica: 'sg-1', pid: 200, gpus: [2], memoryFraction: null };
  const table = links([[101, 100, 100], [300, 300, 1]]);

  it('shares per replica and GPU: allocated from the budget, used summed over its processes', () => {
    const inv = inventory([
      gpu(0, [proc(100, 0, 500), proc(101, 0, 60000, 'VLLM::EngineCore')]),
      gpu(1, [proc(101, 1, 60000)]),
      gpu(2, []),
      gpu(3, [proc(300, 3, 2048, 'jupyter')]),
    ]);
    const r = usageReport(inv, [qwen, sglang], table, 'now');
    assert.deepEqual(r.shares, [
      { gpuIndex: 0, gpuUuid: 'GPU-0', deployment: 'qwen', replica: 'qwen-1', allocatedMiB: 73403, usedMiB: 60500, pids: [100, 101] },
      { gpuIndex: 1, gpuUuid: 'GPU-1', deployment: 'qwen', replica: 'qwen-1', allocatedMiB: 73403, usedMiB: 60000, pids: [101] },
      { gpuIndex: 2, gpuUuid: 'GPU-2', deployment: 'sg', replica: 'sg-1', allocatedMiB: null, usedMiB: null, pids: [] },
    ], 'SGLang without --mem-fraction-static: budget unknown; nothing on the GPU yet: used unknown');
    assert.deepEqual(r.foreign, [{ gpuIndex: 3, pid: 300, name: 'jupyter', usedMiB: 2048 }]);
    assert.equal(r.at, 'now');
  });

  it("a replica's process on a GPU Berth did not give it: a share without allocation", () => {
    const r = usageReport(inventory([gpu(0, []), gpu(1, []), gpu(5, [proc(101, 5, 1000)])]), [qwen], table, 'now');
    assert.deepEqual(r.shares.find((s) => s.gpuIndex === 5), { gpuIndex: 5, gpuUuid: 'GPU-5', deployment: 'qwen', replica: 'qwen-1', allocatedMiB: null, usedMiB: 1000, pids: [101] });
    assert.deepEqual(r.foreign, []);
  });

  it('memory the driver hides stays null; a GPU without a total has no allocation', () => {
    const r = usageReport(inventory([gpu(0, [proc(100, 0, null)], null), gpu(1, [proc(100, 1, null), proc(101, 1, 10)])]), [qwen], table, 'now');
    assert.deepEqual(r.shares.map((s) => [s.gpuIndex, s.allocatedMiB, s.usedMiB]), [[0, null, null], [1, 73403, 10]]);
  });

  it('no claims: every process is foreign', () => {
    const r = usageReport(inventory([gpu(0, [proc(100, 0, 5)])]), [], table, 'now');
    assert.deepEqual(r.shares, []);
    assert.deepEqual(r.foreign.map((f) => f.pid), [100]);
  });
});
