// GET/PATCH /api/v1/settings: the UI's settings page, against a real daemon.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { ApiError } from '../../daemon/contract/client.js';
import type { SettingsPatch } from '../../daemon/contract/settings.js';
import { deploymentWhen, EventLog, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { rejection } from '../helpers/refusal.js';

const KEY = 'sekrit-key-0123456789';

const refusal = (p: Promise<unknown>) => rejection(p, ApiError);

describe('settings API', () => {
  let d: TestDaemon;
  const logged: string[] = [];
  const file = () => JSON.parse(readFileSync(join(d.home, 'settings.json'), 'utf8')) as Record<string, unknown>;

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    d = await startTestDaemon({ machine: 'h100x8', settings: { apiKey: KEY }, log: pino({ level: 'info' }, sink) });
  });
  after(() => d.stop());

  it('shows what the daemon runs with, what overrides it, and never the key', async () => {
    const view = await d.client.settings();
    assert.equal(view.effective.nvidiaSmi, d.settings.nvidiaSmi);
    assert.equal(view.effective.logLevel, 'info');
    assert.deepEqual(view.file, {});
    // The test daemon's environment (BERTH_NVIDIA_SMI, the Pythons) and its flags (port 0...).
    for (const k of ['nvidiaSmi', 'vllmPython', 'sglangPython', 'port', 'enginePortBase', 'stopGraceMs'] as const) {
      assert.ok(view.overridden.includes(k), k);
    }
    assert.deepEqual(view.pendingRestart, []);
    assert.equal(view.apiKeySet, true);
    assert.equal(view.home, d.home);
    const raw = await fetch(`${d.url}/api/v1/settings`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.ok(!(await raw.text()).includes(KEY));
  });

  it('needs the API key like the rest of /api', async () => {
    assert.equal((await d.api('GET', '/api/v1/settings')).status, 401);
    assert.equal((await d.api('PATCH', '/api/v1/settings', { maxQueue: 1 })).status, 401);
  });

  it('saves an edit to settings.json, atomically, for the next start', async () => {
    const view = await d.client.updateSettings({ body: { maxQueue: 8, drainMs: 1000 } });
    assert.deepEqual(file(), { maxQueue: 8, drainMs: 1000 });
    assert.deepEqual(view.file, { maxQueue: 8, drainMs: 1000 });
    assert.deepEqual(view.pendingRestart, ['maxQueue', 'drainMs']);
    assert.equal(view.effective.maxQueue, 256, 'the running daemon keeps its value until it restarts');
    assert.deepEqual(readdirSync(d.home).filter((f) => f.includes('settings.json') && f !== 'settings.json'), [], 'no temporary file left');
    const removed = await d.client.updateSettings({ body: { maxQueue: null } });
    assert.deepEqual(file(), { drainMs: 1000 });
    assert.deepEqual(removed.pendingRestart, ['drainMs']);
  });

  it('refuses a bad edit, naming the field, and leaves the file as it was', async () => {
    const before = readFileSync(join(d.home, 'settings.json'), 'utf8');
    const cases: [unknown, string, RegExp][] = [
      [{ apiKey: 'another' }, 'apiKey', /cannot be changed through the API/],
      [{ port: 'abc' }, 'port', /^port: /],
      [{ allowedOrigins: ['evil'] }, 'allowedOrigins.0', /not an origin/],
      [{ readinessIntervalMs: 5 }, 'readinessIntervalMs', /not editable/],
      [{ colour: 'blue' }, 'colour', /unknown setting/],
    ];
    for (const [body, field, message] of cases) {
      const err = await refusal(d.client.updateSettings({ body: body as SettingsPatch }));
      assert.equal(err.status, 400, field);
      assert.equal(err.field, field);
      assert.match(err.message, message);
    }
    assert.equal(readFileSync(join(d.home, 'settings.json'), 'utf8'), before);
  });

  it('saves a field the environment overrides, and says the override wins', async () => {
    const view = await d.client.updateSettings({ body: { vllmPython: '/opt/vllm/bin/python' } });
    assert.equal(view.file.vllmPython, '/opt/vllm/bin/python');
    assert.ok(view.overridden.includes('vllmPython'));
    assert.ok(!view.pendingRestart.includes('vllmPython'));
    assert.equal(view.effective.vllmPython, d.settings.vllmPython);
  });

  it('keeps every one of concurrent edits', async () => {
    await Promise.all([
      d.client.updateSettings({ body: { maxQueue: 1 } }),
      d.client.updateSettings({ body: { requestWaitMs: 2000 } }),
      d.client.updateSettings({ body: { startTimeoutMs: 3000 } }),
      d.client.updateSettings({ body: { docker: '/usr/local/bin/docker' } }),
    ]);
    assert.deepEqual(file(), {
      drainMs: 1000,
      vllmPython: '/opt/vllm/bin/python',
      maxQueue: 1,
      requestWaitMs: 2000,
      startTimeoutMs: 3000,
      docker: '/usr/local/bin/docker',
    });
  });

  it('applies the log level at once, to replicas already running too', async () => {
    const events = new EventLog(d);
    await d.client.createDeployment({ body: { name: 'chatty', modelId: 'x/y', backend: 'vllm', resource: { gpu: { count: 0 } } } });
    await deploymentWhen(d, 'chatty');
    assert.ok(logged.some((l) => l.includes('"msg":"engine started"')), 'info lines are logged at first');

    const quiet = await d.client.updateSettings({ body: { logLevel: 'warn' } });
    assert.equal(quiet.effective.logLevel, 'warn');
    assert.ok(!quiet.pendingRestart.includes('logLevel'));
    const mark = logged.length;
    await d.client.restartDeployment({ params: { name: 'chatty' } });
    await events.find((e) => e.type === 'replica.state' && e.state === 'stopped' && e.replica.startsWith('chatty'), 'the old replica stopped');
    await deploymentWhen(d, 'chatty', undefined, 'chatty ready again');
    assert.deepEqual(logged.slice(mark).filter((l) => l.includes('"level":30')), [], 'no info line from the old replica or the new one');

    await d.client.updateSettings({ body: { logLevel: null } });
    const back = await d.client.settings();
    assert.equal(back.effective.logLevel, 'info', 'null is the default again, at once');
    await d.client.restartDeployment({ params: { name: 'chatty' } });
    await deploymentWhen(d, 'chatty', (s) => s.state === 'ready' && logged.slice(mark).some((l) => l.includes('"msg":"engine started"')), 'info lines again');
    assert.ok(logged.some((l) => l.includes('"msg":"settings saved"') && l.includes('"changed":["logLevel"]')));
    assert.ok(!logged.some((l) => l.includes(KEY)), 'the key is never logged');
    await d.client.deleteDeployment({ params: { name: 'chatty' } });
  });

  it('refuses to touch a settings.json someone broke by hand', async () => {
    writeFileSync(join(d.home, 'settings.json'), '{"port": 80,');
    const read = await refusal(d.client.settings());
    assert.equal(read.status, 409);
    assert.equal(read.code, 'invalid_settings_file');
    await refusal(d.client.updateSettings({ body: { maxQueue: 2 } }));
    assert.equal(readFileSync(join(d.home, 'settings.json'), 'utf8'), '{"port": 80,');
    rmSync(join(d.home, 'settings.json'));
    assert.deepEqual((await d.client.settings()).file, {});
  });
});
