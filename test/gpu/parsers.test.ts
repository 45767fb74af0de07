// Rules the fixtures state but no capture shows verbatim: uncaptured placeholders, a comma
// inside a process name, and the failures that never reach stdout (missing binary, timeout).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNoValue, outputLines, parseCsv, toNumber } from '../../daemon/gpu/csv.js';
import { classifyFailure, NOT_INSTALLED, parseComputeApps, parseQueryGpu } from '../../daemon/gpu/nvidia-smi.js';

const PLACEHOLDERS = [
  '[N/A]',
  'N/A',
  '[Not Supported]',
  '[Unknown Error]',
  '[Insufficient Permissions]',
  '[Not Found]',
  '[Requested functionality has been deprecated]',
  '',
];

test('every placeholder is "no value", never 0', () => {
  for (const p of PLACEHOLDERS) {
    assert.ok(isNoValue(p), JSON.stringify(p));
    assert.equal(toNumber(p), null, JSON.stringify(p));
  }
  const line = PLACEHOLDERS.slice(0, 4).join(', ');
  const query = { fields: ['memory.total', 'memory.used', 'memory.free', 'power.draw'], header: false, units: true };
  assert.deepEqual(parseCsv([line], query).rows, [
    { 'memory.total': null, 'memory.used': null, 'memory.free': null, 'power.draw': null },
  ]);
});

test('a process name containing ", " is joined back, wherever its column is', () => {
  const stdout = '4242, python, my, "server", GPU-1, 1024\r\n4243, [Insufficient Permissions], GPU-1, [Insufficient Permissions]\n';
  assert.deepEqual(parseComputeApps(stdout), [
    { pid: 4242, name: 'python, my, "server"', gpuUuid: 'GPU-1', usedMiB: 1024 },
    { pid: 4243, name: null, gpuUuid: 'GPU-1', usedMiB: null },
  ]);
  // With the name last, as the fixture README recommends.
  const last = { fields: ['gpu_uuid', 'pid', 'used_memory', 'process_name'], header: false, units: false };
  assert.equal(parseComputeApps('GPU-1, 7, [Insufficient Permissions], a, b\n', last)[0]?.name, 'a, b');
  assert.equal(parseComputeApps('GPU-1, 7, [Insufficient Permissions], a, b\n', last)[0]?.usedMiB, null);
});

test('a line of the wrong shape is rejected, not guessed at', () => {
  const query = { fields: ['index', 'name', 'memory.total'], header: false, units: false };
  const { rows, rejected } = parseCsv(outputLines('0, NVIDIA H100, 81559\nWARNING: infoROM is corrupted at gpu 0000:0B:00.0\n'), query);
  assert.equal(rows.length, 1);
  assert.deepEqual(rejected, ['WARNING: infoROM is corrupted at gpu 0000:0B:00.0']);
});

test('lost-GPU lines are recognised in every spelling seen', () => {
  const stdout = [
    'Unable to determine the device handle for GPU 0000:0B:00.0: Unknown Error',
    'Unable to determine the device handle for gpu 0000:08:00.0: Unknown Error',
    'Unable to determine the device handle for GPU0000:3B:00.0: GPU is lost.  Reboot the system to recover this GPU',
  ].join('\n');
  assert.deepEqual(
    parseQueryGpu(stdout).lost.map((l) => l.busId),
    ['0000:0b:00.0', '0000:08:00.0', '0000:3b:00.0'],
  );
  assert.deepEqual(parseQueryGpu(stdout).gpus, []);
});

test('failures with no output: missing binary, not executable, timeout', () => {
  const none = { stdout: '', stderr: '' };
  assert.equal(classifyFailure({ ...none, exitCode: null, spawnError: { code: 'ENOENT' } }), NOT_INSTALLED);
  assert.equal(classifyFailure({ ...none, exitCode: 127 }), NOT_INSTALLED);
  assert.equal(
    classifyFailure({ ...none, exitCode: null, spawnError: { code: 'EACCES' } }),
    'nvidia-smi could not be started (EACCES)',
  );
  assert.equal(
    classifyFailure({ ...none, exitCode: null, timedOutAfterMs: 10_000 }),
    'nvidia-smi did not answer within 10 s',
  );
});

test('the exit code decides before the text does', () => {
  // 6 says "no devices" whatever the text; 0 and 14 say the output is usable.
  assert.match(classifyFailure({ exitCode: 6, stdout: 'something else\n', stderr: '' }) ?? '', /^No NVIDIA GPU found/);
  assert.equal(classifyFailure({ exitCode: 0, stdout: 'No devices were found\n', stderr: '' }), null);
  assert.equal(classifyFailure({ exitCode: 14, stdout: 'WARNING: infoROM is corrupted\n', stderr: '' }), null);
  // 255 is shared: the text tells.
  assert.match(classifyFailure({ exitCode: 255, stdout: 'No devices were found\n', stderr: '' }) ?? '', /^No NVIDIA GPU found/);
  assert.equal(classifyFailure({ exitCode: 255, stdout: '', stderr: 'boom\n' }), 'nvidia-smi failed (exit 255): boom');
});
