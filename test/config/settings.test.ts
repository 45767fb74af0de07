import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mergePatch } from '../../daemon/config/deployment.js';
import { defaultHome } from '../../daemon/config/paths.js';
import { loadSettings } from '../../daemon/config/settings.js';
import { assertSafeBind } from '../../daemon/http/security.js';

describe('settings', () => {
  it('defaults to loopback:7788 and the user config dir', () => {
    const s = loadSettings({ env: { HOME: '/home/u' } });
    assert.equal(s.host, '127.0.0.1');
    assert.equal(s.port, 7788);
    assert.equal(s.enginePortBase, 30000);
    assert.equal(s.startTimeoutMs, 20 * 60_000);
    assert.equal(defaultHome({ XDG_CONFIG_HOME: '/x' }, 'linux'), '/x/berth');
  });

  it('layers settings.json < environment < flags', () => {
    const home = mkdtempSync(join(tmpdir(), 'berth-settings-'));
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ port: 9000, vllmPython: '/venv/bin/python', nvidiaSmi: '/x/nvidia-smi' }));
    const s = loadSettings({ env: { BERTH_HOME: home, BERTH_PORT: '9100', BERTH_NVIDIA_SMI: '/y/nvidia-smi' }, overrides: { port: 9200 } });
    assert.equal(s.home, home);
    assert.equal(s.port, 9200);
    assert.equal(s.vllmPython, '/venv/bin/python');
    assert.equal(s.nvidiaSmi, '/y/nvidia-smi');
  });

  it('remembers which layer set each field', () => {
    const home = mkdtempSync(join(tmpdir(), 'berth-settings-'));
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ port: 9000, vllmPython: '/venv/bin/python', nvidiaSmi: '/x/nvidia-smi' }));
    const s = loadSettings({ env: { BERTH_HOME: home, BERTH_NVIDIA_SMI: '/y/nvidia-smi', BERTH_LOG_LEVEL: 'debug' }, overrides: { port: 9200, host: undefined } });
    assert.deepEqual(s.sources, { port: 'flag', vllmPython: 'file', nvidiaSmi: 'env', logLevel: 'env' });
    assert.equal(s.host, '127.0.0.1', 'a flag left undefined neither sets nor erases a field');
  });

  it('names the field of a bad value', () => {
    assert.throws(() => loadSettings({ env: { BERTH_HOME: '/nonexistent', BERTH_PORT: 'abc' } }), /BERTH_PORT: expected a whole number/);
    const home = mkdtempSync(join(tmpdir(), 'berth-settings-'));
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ port: 70000 }));
    assert.throws(() => loadSettings({ env: { BERTH_HOME: home } }), /^SettingsError: port: /);
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ prot: 1 }));
    assert.throws(() => loadSettings({ env: { BERTH_HOME: home } }), /prot/);
    writeFileSync(join(home, 'settings.json'), '[1]');
    assert.throws(() => loadSettings({ env: { BERTH_HOME: home } }), /settings\.json: expected a JSON object/);
  });

  it('refuses a non-loopback bind without an API key', () => {
    assert.throws(() => assertSafeBind({ host: '0.0.0.0', apiKey: null }), /without an API key/);
    assert.doesNotThrow(() => assertSafeBind({ host: '0.0.0.0', apiKey: 'k' }));
    assert.doesNotThrow(() => assertSafeBind({ host: '127.0.0.1', apiKey: null }));
  });
});

describe('mergePatch (RFC 7396)', () => {
  it('merges objects, replaces arrays, deletes on null', () => {
    const doc = { scale: { min: 1, max: 5 }, backendArgs: ['--a'], env: { A: '1', B: '2' } };
    assert.deepEqual(mergePatch(doc, { scale: { max: 2 }, backendArgs: [], env: { B: null } }), {
      scale: { min: 1, max: 2 },
      backendArgs: [],
      env: { A: '1' },
    });
  });
});
