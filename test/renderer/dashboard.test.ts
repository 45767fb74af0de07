// The dashboard's small decisions: which buttons a deployment gets, what its
// row says, which doctor checks show, and how numbers print.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicaStatus } from '../../daemon/contract/api.js';
import { failingChecks } from '../../renderer/src/dashboard/doctor-fix.js';
import { mib, rate, seconds, shellLine } from '../../renderer/src/format.js';
import { lifecycleActions, replicaSummary, stateLabel } from '../../renderer/src/store/derive.js';
import { deployment } from './samples.js';

const replica = (id: string, state: ReplicaStatus['state'], gpus: number[], port: number | null): ReplicaStatus => ({
  id,
  state,
  reason: null,
  pid: null,
  port,
  gpus,
  startedAt: null,
  readyAt: null,
  restarts: 0,
  inFlight: 0,
});

describe('deployment row', () => {
  it('offers only the lifecycle actions that mean something', () => {
    assert.deepEqual(lifecycleActions(deployment('a', 'ready')), { start: false, stop: true, restart: true });
    assert.deepEqual(lifecycleActions(deployment('a', 'stopped', 'stopped')), { start: true, stop: false, restart: false });
    assert.deepEqual(lifecycleActions(deployment('a', 'failed')), { start: true, stop: true, restart: true });
    assert.deepEqual(lifecycleActions(deployment('a', 'stopping')), { start: false, stop: true, restart: false });
  });

  it('counts ready replicas of those not stopped, with their GPUs and ports', () => {
    const d = { replicas: [replica('a-0', 'ready', [1, 2], 30001), replica('a-1', 'starting', [3, 4], 30002), replica('a-2', 'stopped', [5], null)] };
    assert.deepEqual(replicaSummary(d), { ready: 1, wanted: 2, gpus: [1, 2, 3, 4], ports: [30001, 30002] });
  });

  it('says sleeping for a deployment scaled to zero on purpose', () => {
    assert.equal(stateLabel({ ...deployment('a', 'stopped'), sleeping: true }), 'sleeping');
    assert.equal(stateLabel(deployment('a', 'failed', 'stopped')), 'failed (stopped)');
    assert.equal(stateLabel(deployment('a', 'ready')), 'ready');
  });
});

describe('doctor panel', () => {
  it('lists the failing checks, docker only when a container is used', () => {
    const fix = { command: 'python3 -m venv /home/u/venvs/vllm && /home/u/venvs/vllm/bin/python -m pip install vllm==0.9.0.1', note: 'then point Berth at it' };
    const checks = [
      { name: 'vllm', ok: false, detail: 'python3 not found', fix },
      { name: 'sglang', ok: true, detail: 'sglang 0.4.6', fix: null },
      { name: 'docker', ok: false, detail: 'docker not available', fix: { command: null, note: 'Only container mode needs it' } },
    ];
    assert.deepEqual(failingChecks(checks, false).map((c) => c.name), ['vllm']);
    assert.deepEqual(failingChecks(checks, true).map((c) => c.name), ['vllm', 'docker']);
    // The daemon's fix reaches the panel as it was sent.
    assert.equal(failingChecks(checks, false)[0]!.fix, fix);
  });
});

describe('numbers and commands as printed', () => {
  it('formats memory, rates and latencies', () => {
    assert.equal(mib(16376), '16.0 GiB');
    assert.equal(mib(900), '900 MiB');
    assert.equal(mib(null), '—');
    assert.equal(rate(3.44), '3.4');
    assert.equal(rate(412.2), '412');
    assert.equal(seconds(0.084), '84 ms');
    assert.equal(seconds(1.4), '1.40 s');
  });

  it('quotes an argv so it pastes into a shell unchanged', () => {
    assert.equal(shellLine(['python', '-m', 'vllm', '--x', '{"a": 1}', "it's", '']), `python -m vllm --x '{"a": 1}' 'it'\\''s' ''`);
  });
});
