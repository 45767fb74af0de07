// The fake itself: other suites rely on it answering like nvidia-smi from any directory.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { COMPUTE_APPS_ARGV, QUERY_GPU_ARGV } from '../../daemon/gpu/nvidia-smi.js';
import { fakeNvidiaSmiEnv, fakeNvidiaSmiPath } from '../fakes/nvidia-smi/env.js';
import { fixtureText } from '../fakes/nvidia-smi/fixtures.js';
import type { GpuAppFile } from '../fakes/nvidia-smi/gpu-apps.js';

const run = (env: Record<string, string>, argv: readonly string[]) =>
  execa(fakeNvidiaSmiPath, argv, { cwd: tmpdir(), env, reject: false, stripFinalNewline: false });

test('replays a case byte for byte, by absolute path from another directory', async () => {
  const r = await run(fakeNvidiaSmiEnv('h100x8'), QUERY_GPU_ARGV);
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout, fixtureText('h100x8.query-gpu.noheader-nounits.csv'));
});

test('FAKE_NVIDIA_SMI_GPUS keeps the first N GPUs of a capture: a 4-GPU box of the same driver', async () => {
  const full = fixtureText('h100x8.query-gpu.noheader-nounits.csv').split('\n');
  const r = await run({ ...fakeNvidiaSmiEnv('h100x8'), FAKE_NVIDIA_SMI_GPUS: '4' }, QUERY_GPU_ARGV);
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout, full.slice(0, 4).join('\n') + '\n');
  const list = await run({ ...fakeNvidiaSmiEnv('h100x8'), FAKE_NVIDIA_SMI_GPUS: '4' }, ['-L']);
  assert.deepEqual(list.stdout.trim().split('\n').map((l) => l.slice(0, 5)), ['GPU 0', 'GPU 1', 'GPU 2', 'GPU 3']);
});

test('errors keep their stream and exit code', async () => {
  const r = await run(fakeNvidiaSmiEnv('no-devices'), QUERY_GPU_ARGV);
  assert.equal(r.exitCode, 6);
  assert.equal(r.stdout, 'No devices were found\n');
  assert.equal(r.stderr, '');
});

test('an argv it does not know gets the unknown-option answer', async () => {
  const r = await run(fakeNvidiaSmiEnv('h100x8'), ['--version']);
  assert.equal(r.exitCode, 2);
  assert.equal(r.stdout, "ERROR: Option --version is not recognized. Please run 'nvidia-smi -h' for help.\n\n");
});

test('compute-apps: empty for a box without a capture, or the processes given', async () => {
  const empty = await run(fakeNvidiaSmiEnv('ws-4080s-2080s'), COMPUTE_APPS_ARGV);
  assert.equal(empty.exitCode, 0);
  assert.equal(empty.stdout, '');

  const processes = [{ pid: 9, name: 'VLLM::EngineCore', gpuUuid: 'GPU-1', usedMiB: null }];
  const given = await run(fakeNvidiaSmiEnv('ws-4080s-2080s', processes), COMPUTE_APPS_ARGV);
  assert.equal(given.stdout, '9, VLLM::EngineCore, GPU-1, [N/A]\n');
});

test('an unknown machine is a loud error', async () => {
  const r = await run(fakeNvidiaSmiEnv('no-such-box'), QUERY_GPU_ARGV);
  assert.equal(r.exitCode, 255);
  assert.match(r.stderr, /FAKE_NVIDIA_SMI_MACHINE/);
});

test('compute-apps: engines recorded in FAKE_GPU_APPS_DIR, on the GPUs their CUDA_VISIBLE_DEVICES names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-gpu-apps-'));
  try {
    const record = (app: GpuAppFile) => writeFileSync(join(dir, `${app.pid}.json`), JSON.stringify(app));
    record({ pid: process.pid, name: 'python3', cudaVisibleDevices: '1,3', usedMiB: 2048 });
    record({ pid: 2 ** 22 + 12345, name: 'python3', cudaVisibleDevices: '0', usedMiB: 1 }); // dead: skipped
    const given = [{ pid: 7, name: 'jupyter', gpuUuid: 'GPU-00000005-0000-0000-0000-000000000005', usedMiB: 100 }];
    const r = await run(fakeNvidiaSmiEnv('h100x8', given, dir), COMPUTE_APPS_ARGV);
    assert.equal(r.exitCode, 0);
    assert.equal(
      r.stdout,
      '7, jupyter, GPU-00000005-0000-0000-0000-000000000005, 100\n' +
        `${process.pid}, python3, GPU-00000001-0000-0000-0000-000000000001, 2048\n` +
        `${process.pid}, python3, GPU-00000003-0000-0000-0000-000000000003, 2048\n`,
    );
    const none = await run(fakeNvidiaSmiEnv('no-devices', undefined, dir), COMPUTE_APPS_ARGV);
    assert.doesNotMatch(none.stdout, new RegExp(`^${process.pid},`, 'm'), 'a machine without GPUs lists no engine');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
