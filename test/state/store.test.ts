import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { normalizeDeployment } from '../../daemon/config/deployment.js';
import { StateStore } from '../../daemon/state/store.js';

const spec = () => normalizeDeployment({ name: 'qwen', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm' });

describe('StateStore', () => {
  it('persists deployments and process records across instances, leaving no temp files', async () => {
    const home = mkdtempSync(join(tmpdir(), 'berth-store-'));
    const a = new StateStore(home);
    await a.load();
    const now = new Date().toISOString();
    await Promise.all([
      a.putDeployment({ spec: spec(), desired: 'running', createdAt: now, updatedAt: now }),
      a.recordProcess({ deployment: 'qwen', replica: 'qwen-0', pid: 1234, startTime: '99', port: 30000, gpus: [0] }),
    ]);
    const b = new StateStore(home);
    assert.deepEqual(await b.load(), []);
    assert.equal(b.getDeployment('qwen')?.desired, 'running');
    assert.deepEqual(b.listProcesses().map((p) => p.pid), [1234]);
    assert.deepEqual(readdirSync(home).sort(), ['deployments.json', 'processes.json']);
  });

  it('keeps the last of overlapping writes', async () => {
    const home = mkdtempSync(join(tmpdir(), 'berth-store-'));
    const s = new StateStore(home);
    await s.load();
    const now = new Date().toISOString();
    await Promise.all(
      ['running', 'stopped', 'running', 'stopped'].map((desired) =>
        s.putDeployment({ spec: spec(), desired: desired as 'running' | 'stopped', createdAt: now, updatedAt: now }),
      ),
    );
    const onDisk = JSON.parse(readFileSync(join(home, 'deployments.json'), 'utf8')) as { deployments: { desired: string }[] };
    assert.equal(onDisk.deployments[0]?.desired, 'stopped');
  });

  it('moves a corrupt file aside and says so instead of crashing', async () => {
    const home = mkdtempSync(join(tmpdir(), 'berth-store-'));
    writeFileSync(join(home, 'deployments.json'), '{"version":1,"deployments":[{"spec":');
    const s = new StateStore(home);
    const warnings = await s.load();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /not valid and was moved to .*deployments\.json\.corrupt-/);
    assert.deepEqual(s.listDeployments(), []);
  });
});
