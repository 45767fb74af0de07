// The fake itself: other suites rely on it answering like nvidia-smi from any directory.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { execa } from 'execa';
import { COMPUTE_APPS_ARGV, QUERY_GPU_ARGV } from '../../daemon/gpu/nvidia-smi.js';
import { fakeNvidiaSmiEnv, fakeNvidiaSmiPath } from '../fakes/nvidia-smi/env.js';
import { fixtureText } from '../fakes/nvidia-smi/fixtures.js';

const run = (env: Record<string, string>, argv: readonly string[]) =>
  execa(fakeNvidiaSmiPath, argv, { cwd: tmpdir(), env, reject: false, stripFinalNewline: false });

test('replays a case byte for byte, by absolute path from another directory', async () => {
  const r = await run(fakeNvidiaSmiEnv('h100x8'), QUERY_GPU_ARGV);
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout, fixtureText('h100x8.query-gpu.noheader-nounits.csv'));
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
