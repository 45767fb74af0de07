// The management API's streams and edits: events, log follow, PATCH, doctor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BerthEvent, DeploymentStatus, DoctorReport } from '../../daemon/contract/api.js';
import { deploymentWhen, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { SAFETY_MS } from '../helpers/limits.js';

/** Reads an SSE response until `done` says so, returning the data payloads. */
async function readSse(res: Response, done: (items: unknown[]) => boolean, timeoutMs = SAFETY_MS): Promise<unknown[]> {
  const items: unknown[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    while (!done(items)) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) !== -1) {
        const event = buf.slice(0, i);
        buf = buf.slice(i + 2);
        for (const line of event.split('\n')) if (line.startsWith('data: ')) items.push(JSON.parse(line.slice(6)));
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
  return items;
}

describe('management API', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
  });
  after(() => d.stop());

  it('streams state changes on /events', async () => {
    const res = await fetch(`${d.url}/api/v1/events`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reading = readSse(res, (items) => items.some((e) => (e as BerthEvent).type === 'replica.state' && (e as { state: string }).state === 'ready'));
    await d.api('POST', '/api/v1/deployments', { name: 'ev', modelId: 'x/y', backend: 'vllm' });
    const events = (await reading) as BerthEvent[];
    assert.deepEqual(
      events.filter((e) => e.type === 'replica.state').map((e) => (e as { state: string }).state),
      ['starting', 'ready'],
    );
    // A snapshot first (the stream's contract), then the deployment's own events, created first.
    assert.equal((events[0] as { type: string }).type, 'snapshot');
    const about = events.filter((e) => e.type.startsWith('deployment.') || e.type === 'replica.state');
    assert.equal(about[0]!.type, 'deployment.created');
  });

  it('follows logs live over SSE', async () => {
    await d.api('POST', '/api/v1/deployments/ev/restart');
    const res = await fetch(`${d.url}/api/v1/deployments/ev/logs?follow=1&tail=0`);
    const items = await readSse(res, (all) => all.some((l) => String(l).includes('Application startup complete.')));
    // The replica's lines come after the message naming it (event: replica).
    assert.deepEqual(items[0], { replica: 'ev-1' });
    assert.ok(items.some((l) => typeof l === 'string' && l.includes('Starting vLLM API server on http://127.0.0.1:')));
  });

  it('PATCH merges the change and restarts the engine with it', async () => {
    const before = (await d.api<DeploymentStatus>('GET', '/api/v1/deployments/ev')).body;
    await deploymentWhen(d, 'ev');
    const patched = await d.api<DeploymentStatus>('PATCH', '/api/v1/deployments/ev', { backendArgs: ['--max-model-len', '4096'], env: { FAKE_TOKENS: '3' } });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body.spec.backendArgs, ['--max-model-len', '4096']);
    assert.equal(patched.body.spec.modelId, before.spec.modelId);
    const ready = await deploymentWhen(d, 'ev', undefined, 'ev ready again');
    const state = (await (await fetch(`http://127.0.0.1:${ready.replicas[0]!.port}/fake/state`)).json()) as { argv: string[] };
    assert.ok(state.argv.includes('4096'));
    assert.ok(!state.argv.includes('--max-lora-rank'), 'user args present: Berth drops its LoRA defaults');
    const bad = await d.api<{ error: { field: string } }>('PATCH', '/api/v1/deployments/ev', { scale: { min: -1 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'scale.min');
  });

  it('DELETE stops and forgets a deployment', async () => {
    assert.equal((await d.api('DELETE', '/api/v1/deployments/ev')).status, 204);
    assert.equal((await d.api('GET', '/api/v1/deployments/ev')).status, 404);
    const { body } = await d.api<{ deployments: unknown[] }>('GET', '/api/v1/deployments');
    assert.deepEqual(body.deployments, []);
  });

  it('doctor reports nvidia-smi, the engines and docker', async () => {
    const { body } = await d.api<DoctorReport>('GET', '/api/v1/doctor');
    const check = (name: string) => body.checks.find((c) => c.name === name)!;
    assert.equal(check('gpus').ok, true);
    assert.match(check('driver').detail, /driver 590\.48\.01/);
    assert.match(check('vllm').detail, /^vllm 0\.9\.0\.1/);
    assert.match(check('sglang').detail, /^sglang 0\.4\.6/);
    assert.ok(check('docker'));
    // Nothing to fix where a check passed.
    for (const name of ['gpus', 'driver', 'vllm', 'sglang']) assert.equal(check(name).fix, null, name);
    assert.equal(body.ok, true);
  });

  it('plans without launching', async () => {
    const { status, body } = await d.api<{ argv: string[]; gpus: number[]; env: Record<string, string> }>('POST', '/api/v1/plan', {
      name: 'p', modelId: 'x/y', backend: 'sglang', resource: { workers: 2, gpu: { count: 2 } },
    });
    assert.equal(status, 200);
    assert.equal(body.gpus.length, 4);
    assert.deepEqual(body.argv.slice(-2), ['--tp-size', '4']);
    assert.equal(body.env.CUDA_VISIBLE_DEVICES!.split(',').length, 4);
    assert.equal((await d.api('GET', '/api/v1/deployments/p')).status, 404);
  });
});
