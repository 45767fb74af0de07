import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Gpu } from '../../daemon/contract/api.js';
import { allocateGpus } from '../../daemon/scheduler/gpus.js';
import { matchesGpuType } from '../../daemon/scheduler/gpu-type.js';
import { pickPort } from '../../daemon/scheduler/ports.js';

function gpu(index: number, name: string, freeMiB: number | null): Gpu {
  return {
    index, uuid: `GPU-${index}`, name, busId: null, memoryTotalMiB: 81559, memoryUsedMiB: null, memoryFreeMiB: freeMiB,
    utilizationPct: null, memoryUtilizationPct: null, temperatureC: null, powerDrawW: null, powerLimitW: null,
    computeCap: null, migEnabled: false, processes: [],
  };
}

describe('gpuType matching', () => {
  const cases: [string, string, boolean][] = [
    ['NVIDIA L40S', 'nvidia.com/gpu-l40s', true],
    ['NVIDIA L40S', 'L40S', true],
    ['NVIDIA H100 80GB HBM3', 'nvidia.com/gpu-h100', true],
    ['NVIDIA A100-SXM4-80GB', 'nvidia.com/gpu-a100-80gb', true],
    ['NVIDIA A100-SXM4-40GB', 'nvidia.com/gpu-a100-80gb', false],
    ['NVIDIA GeForce RTX 4080 SUPER', 'nvidia.com/gpu-h100', false],
    ['GeForce GTX TITAN X', 'titan-x', true],
  ];
  for (const [name, type, expected] of cases) {
    it(`${type} ${expected ? 'matches' : 'does not match'} "${name}"`, () => assert.equal(matchesGpuType(name, type), expected));
  }
});

describe('allocateGpus', () => {
  const box = [gpu(0, 'NVIDIA H100 80GB HBM3', 1000), gpu(1, 'NVIDIA H100 80GB HBM3', 80000), gpu(2, 'NVIDIA L40S', 40000), gpu(3, 'NVIDIA H100 80GB HBM3', 60000)];

  it('gives distinct GPUs with the most free memory, listed in index order', () => {
    assert.deepEqual(allocateGpus(box, new Map(), { count: 2 }), { ok: true, gpus: [1, 3] });
  });

  it('never hands out a GPU another replica holds', () => {
    const r = allocateGpus(box, new Map([[1, 'a']]), { count: 2, gpuType: 'nvidia.com/gpu-h100' });
    assert.deepEqual(r, { ok: true, gpus: [0, 3] });
  });

  it('says how many are needed, free, and who holds the rest', () => {
    const r = allocateGpus(box, new Map([[1, 'llama'], [3, 'qwen']]), { count: 2, gpuType: 'h100' });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.needed, 2);
    assert.equal(r.free, 1);
    assert.deepEqual(r.heldBy, [{ deployment: 'llama', gpus: [1] }, { deployment: 'qwen', gpus: [3] }]);
    assert.match(r.message, /needs 2 GPUs matching "h100", 1 free; held by llama \(GPU 1\), qwen \(GPU 3\)/);
  });

  it('allows a CPU-only deployment on a machine without GPUs', () => {
    assert.deepEqual(allocateGpus([], new Map(), { count: 0 }), { ok: true, gpus: [] });
  });

  it('explains a machine without NVIDIA GPUs', () => {
    const r = allocateGpus([], new Map(), { count: 1 });
    assert.ok(!r.ok && /no NVIDIA GPU detected/.test(r.message));
  });
});

describe('pickPort', () => {
  it('starts at the base and skips reserved and busy ports', async () => {
    const busy = new Set([30001]);
    const port = await pickPort(30000, new Set([30000]), async (p) => !busy.has(p));
    assert.equal(port, 30002);
  });
  it('fails with a 503 when the range is exhausted', async () => {
    await assert.rejects(pickPort(30000, new Set(), async () => false, 5), /no free engine port in 30000-30004/);
  });
});
