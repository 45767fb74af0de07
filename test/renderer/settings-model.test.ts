// The settings page's rules: what each field shows, what a save sends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settingsSchema } from '../../daemon/config/settings.js';
import type { EditableSettings, SettingsView } from '../../daemon/contract/settings.js';
import { draftOf, readable, SETTING_FIELDS, settingsPatch } from '../../renderer/src/settings/settings-model.js';

// The daemon's own defaults, so the page is tested against what a fresh daemon reports.
const { apiKey: _key, readinessIntervalMs: _r, scaleIntervalMs: _s, ...effective } = settingsSchema.parse({});
const view = (patch: Partial<SettingsView> = {}): SettingsView => ({
  effective: effective as EditableSettings,
  file: {},
  overridden: [],
  pendingRestart: [],
  apiKeySet: false,
  home: '/home/me/.config/berth',
  ...patch,
});

describe('settings page', () => {
  it('has a field for every editable setting, and only those', () => {
    assert.deepEqual(SETTING_FIELDS.map((f) => f.key).sort(), Object.keys(effective).sort());
  });

  it('an untouched form saves nothing', () => {
    const v = view();
    assert.deepEqual(settingsPatch(v, draftOf(v), new Set()), { patch: {}, errors: {} });
  });

  it('shows the value the next start will use: the file, where it differs from what runs', () => {
    const v = view({ file: { port: 7789 }, pendingRestart: ['port'] });
    assert.equal(draftOf(v).port, '7789');
    assert.deepEqual(settingsPatch(v, draftOf(v), new Set()).patch, {});
  });

  it('sends what changed, typed, and null for a reset', () => {
    const v = view({ file: { maxQueue: 10 } });
    const draft = { ...draftOf(v), port: '7790', allowedOrigins: 'https://a.example\n\n  http://b:*  ', logLevel: 'debug' };
    const { patch, errors } = settingsPatch(v, draft, new Set(['maxQueue']));
    assert.deepEqual(errors, {});
    assert.deepEqual(patch, { port: 7790, allowedOrigins: ['https://a.example', 'http://b:*'], logLevel: 'debug', maxQueue: null });
    // The daemon's schema accepts what the page sends.
    const { maxQueue: _m, ...set } = patch;
    assert.doesNotThrow(() => settingsSchema.parse(set));
  });

  it('names what is wrong with a field', () => {
    const v = view();
    const { errors, patch } = settingsPatch(v, { ...draftOf(v), port: '70000', maxQueue: '-1', vllmPython: '  ', stopGraceMs: '0' }, new Set());
    assert.deepEqual(errors, { port: 'at most 65535', maxQueue: 'expected a whole number', vllmPython: 'required', stopGraceMs: 'at least 1' });
    assert.deepEqual(patch, {});
  });

  it('reads long numbers at a glance', () => {
    const field = (k: string) => SETTING_FIELDS.find((f) => f.key === k)!;
    assert.equal(readable(field('startTimeoutMs'), '1200000'), '20 min');
    assert.equal(readable(field('stopGraceMs'), '15000'), '15 s');
    assert.equal(readable(field('maxBodyBytes'), String(32 * 1024 * 1024)), '32 MiB');
    assert.equal(readable(field('port'), '7788'), null);
  });
});
