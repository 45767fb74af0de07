import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readHostInfo } from '../../daemon/gpu/host.js';

test('host facts from this machine; CPU and OS are read once', async () => {
  const first = await readHostInfo();
  assert.ok(first.memory && first.memory.totalBytes > 0 && first.memory.freeBytes <= first.memory.totalBytes);
  assert.ok(first.cpu && first.cpu.cores > 0);
  assert.ok(first.os && first.os.platform !== '');
  const second = await readHostInfo();
  assert.equal(second.cpu, first.cpu, 'cached object');
  assert.equal(second.os, first.os);
});
