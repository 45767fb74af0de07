// readGpuInventory against the fake nvidia-smi, spawned for real.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GpuInventory, GpuProcess, HostInfo } from '../../daemon/contract/api.js';
import { readGpuInventory } from '../../daemon/gpu/inventory.js';
import { fakeNvidiaSmiEnv, fakeNvidiaSmiPath } from '../fakes/nvidia-smi/env.js';

const HOST: HostInfo = { cpu: null, memory: { totalBytes: 1, freeBytes: 1 }, os: null };

// readGpuInventory runs nvidia-smi with this process's environment, so the machine is picked
// there. Tests in one file run one at a time, so setting and restoring it is safe.
async function inventory(
  machine: string,
  opts: { processes?: GpuProcess[]; timeoutMs?: number; nvidiaSmi?: string } = {},
): Promise<GpuInventory> {
  const env = fakeNvidiaSmiEnv(machine, opts.processes);
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  delete process.env.FAKE_NVIDIA_SMI_PROCESSES;
  Object.assign(process.env, env);
  try {
    return await readGpuInventory({
      nvidiaSmi: opts.nvidiaSmi ?? fakeNvidiaSmiPath,
      timeoutMs: opts.timeoutMs ?? 20_000,
      host: async () => HOST,
    });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function assertUnavailable(inv: GpuInventory, reason: RegExp | string): void {
  assert.equal(inv.available, false);
  if (typeof reason === 'string') assert.equal(inv.reason, reason);
  else assert.match(inv.reason ?? '', reason);
  assert.deepEqual(inv.gpus, []);
  assert.deepEqual(inv.host, HOST, 'host facts are reported even without GPUs');
}

test('h100x8: eight idle-or-busy H100s on 590.48.01', async () => {
  const inv = await inventory('h100x8');
  assert.equal(inv.available, true);
  assert.equal(inv.reason, null);
  assert.equal(inv.driverVersion, '590.48.01');
  assert.equal(inv.cudaVersion, null, 'this capture has neither --version nor the table');
  assert.equal(inv.gpus.length, 8);
  assert.deepEqual(
    inv.gpus.map((g) => g.memoryUsedMiB),
    [0, 0, 0, 0, 19818, 19818, 19818, 19818],
  );
  assert.ok(inv.gpus.every((g) => g.processes.length === 0 && g.name === 'NVIDIA H100 80GB HBM3'));
  assert.deepEqual(inv.lost, []);
  assert.ok(!Number.isNaN(Date.parse(inv.checkedAt)));
});

test('processes attach to their GPU by uuid', async () => {
  const engine = { pid: 4242, name: 'VLLM::EngineCore', gpuUuid: 'GPU-00000003-0000-0000-0000-000000000003', usedMiB: 70000 };
  const stranger = { pid: 7, name: null, gpuUuid: 'GPU-not-on-this-box', usedMiB: null };
  const inv = await inventory('h100x8', { processes: [engine, stranger] });
  assert.deepEqual(inv.gpus[3]?.processes, [engine]);
  assert.equal(inv.gpus.flatMap((g) => g.processes).length, 1);
});

test('CUDA version from --version when the driver has it', async () => {
  // h100 is a capture of the same 590.48.01 driver, with --version and the table.
  const inv = await inventory('h100x8,h100');
  assert.equal(inv.cudaVersion, '13.1');
  assert.equal(inv.gpus.length, 8);
});

test('CUDA version from the table when --version is unknown', async () => {
  // rtx4080s: same 595.71.05 driver, a table capture but no --version one.
  const inv = await inventory('ws-4080s-2080s,rtx4080s');
  assert.equal(inv.cudaVersion, '13.2');
  assert.equal(inv.driverVersion, '595.71.05');
});

test('ws-4080s-2080s: two different GeForce cards', async () => {
  const inv = await inventory('ws-4080s-2080s');
  assert.equal(inv.available, true);
  assert.equal(inv.driverVersion, '595.71.05');
  assert.deepEqual(
    inv.gpus.map((g) => [g.index, g.name, g.memoryTotalMiB, g.migEnabled]),
    [
      [0, 'NVIDIA GeForce RTX 4080 SUPER', 16376, null],
      [1, 'NVIDIA GeForce RTX 2080 SUPER', 8192, null],
    ],
  );
});

test('h100-mig: one physical GPU, MIG on, utilization unknown', async () => {
  const inv = await inventory('h100-mig');
  assert.equal(inv.available, true);
  assert.equal(inv.gpus.length, 1);
  assert.equal(inv.gpus[0]?.migEnabled, true);
  assert.equal(inv.gpus[0]?.utilizationPct, null);
});

test('no-devices', async () => {
  assertUnavailable(await inventory('no-devices'), 'No NVIDIA GPU found (the driver is loaded but sees no devices)');
});

test('driver-not-loaded', async () => {
  assertUnavailable(await inventory('driver-not-loaded'), /^The NVIDIA driver is not loaded/);
});

test('version-mismatch', async () => {
  assertUnavailable(await inventory('version-mismatch'), /^NVIDIA driver\/library version mismatch/);
});

test('h100x2-one-lost: the good GPU stays usable, the lost one is reported', async () => {
  const inv = await inventory('h100x2-one-lost');
  assert.equal(inv.available, true);
  assert.equal(inv.reason, null);
  assert.deepEqual(
    inv.gpus.map((g) => g.busId),
    ['0000:18:00.0'],
  );
  assert.deepEqual(inv.lost, [
    { busId: '0000:38:00.0', message: 'Unable to determine the device handle for GPU0000:38:00.0: Unknown Error' },
  ]);
});

test('no nvidia-smi on this machine', async () => {
  const inv = await inventory('h100x8', { nvidiaSmi: '/nonexistent/bin/nvidia-smi' });
  assertUnavailable(inv, 'no NVIDIA driver tools (nvidia-smi not found)');
});

test('an nvidia-smi that hangs is cut off at the timeout', async () => {
  const started = Date.now();
  const inv = await inventory('hang', { timeoutMs: 500 });
  assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  assertUnavailable(inv, 'nvidia-smi did not answer within 0.5 s');
});
