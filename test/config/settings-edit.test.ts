// Editing settings.json: what a patch makes of the file, and what the UI is told.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editable, nextStartSettings, patchSettingsFile, settingsView } from '../../daemon/config/settings-edit.js';
import { loadSettings, SettingsError } from '../../daemon/config/settings.js';

const refused = (fn: () => unknown, field: string, message: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof SettingsError && err.field === field && message.test(err.message));

describe('patching the settings file', () => {
  it('sets, replaces and removes fields, keeping what it does not edit', () => {
    const file = { port: 9000, apiKey: 'k', readinessIntervalMs: 200, allowedHosts: ['a'] };
    assert.deepEqual(patchSettingsFile(file, { port: 9100, allowedHosts: ['b', 'c'], vllmPython: '/v/python' }), {
      port: 9100,
      apiKey: 'k',
      readinessIntervalMs: 200,
      allowedHosts: ['b', 'c'],
      vllmPython: '/v/python',
    });
    assert.deepEqual(patchSettingsFile(file, { port: null }), { apiKey: 'k', readinessIntervalMs: 200, allowedHosts: ['a'] });
    assert.deepEqual(file.port, 9000, 'the input is not changed');
  });

  it('refuses what is not an editable setting, naming it', () => {
    refused(() => patchSettingsFile({}, { apiKey: 'new' }), 'apiKey', /cannot be changed through the API/);
    refused(() => patchSettingsFile({}, { apiKey: null }), 'apiKey', /cannot be changed/);
    refused(() => patchSettingsFile({}, { readinessIntervalMs: 10 }), 'readinessIntervalMs', /not editable here/);
    refused(() => patchSettingsFile({}, { prot: 1 }), 'prot', /unknown setting/);
    refused(() => patchSettingsFile({}, ['port']), 'settings', /JSON object/);
  });

  it('refuses a value the daemon would not start with, naming the field', () => {
    refused(() => patchSettingsFile({}, { port: 70000 }), 'port', /^port: /);
    refused(() => patchSettingsFile({}, { maxQueue: -1 }), 'maxQueue', /^maxQueue: /);
    refused(() => patchSettingsFile({}, { logLevel: 'loud' }), 'logLevel', /^logLevel: /);
    refused(() => patchSettingsFile({}, { allowedOrigins: ['https://ok.example', 'evil'] }), 'allowedOrigins.1', /not an origin/);
  });
});

describe('the next start', () => {
  const running = loadSettings({ env: { BERTH_HOME: '/nonexistent', BERTH_VLLM_PYTHON: '/env/python' }, overrides: { port: 0 } });

  it('takes the file, then the overrides that set today\'s values', () => {
    const next = nextStartSettings({ port: 9000, vllmPython: '/file/python', maxQueue: 8 }, running);
    assert.equal(next.port, 0);
    assert.equal(next.vllmPython, '/env/python');
    assert.equal(next.maxQueue, 8);
  });

  it('refuses to listen beyond loopback without an API key', () => {
    refused(() => nextStartSettings({ host: '0.0.0.0' }, running), 'host', /requires an API key/);
    assert.equal(nextStartSettings({ host: '0.0.0.0', apiKey: 'k' }, running).host, '0.0.0.0');
  });

  it('reports overrides and what waits for a restart, never the key', () => {
    const withKey = { ...running, apiKey: 'sekrit' };
    const file = { maxQueue: 8, vllmPython: '/file/python', apiKey: 'sekrit' };
    const view = settingsView({ effective: editable(withKey), running: withKey, file, next: nextStartSettings(file, withKey) });
    assert.deepEqual(view.overridden, ['port', 'vllmPython']);
    assert.deepEqual(view.pendingRestart, ['maxQueue']);
    assert.deepEqual(view.file, { maxQueue: 8, vllmPython: '/file/python' });
    assert.equal(view.apiKeySet, true);
    assert.ok(!JSON.stringify(view).includes('sekrit'));
  });
});
