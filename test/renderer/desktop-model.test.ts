// The "Desktop app" section's rules: what each field shows, what a save sends,
// main's refusals on their fields, and the token's state. Checked against
// main's own settings module (a real store file through conf, a fake
// keychain), so the section and main agree on every value.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Conf from 'conf';
import type { DesktopSettingsView, SettingsAnswer } from '../../main/bridge.js';
import { DesktopSettings } from '../../main/settings.js';
import {
  answerErrors,
  checkToken,
  DESKTOP_FIELDS,
  desktopDraftOf,
  desktopPatch,
  NO_KEYCHAIN,
  pendingNote,
  savedMessage,
  tokenState,
} from '../../renderer/src/settings/desktop-model.js';
import { FakeSafeStorage } from '../main/fake-electron.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Main's settings, as the window's bridge answers them. */
function mainSettings(keychain = true): DesktopSettings {
  const dir = mkdtempSync(join(tmpdir(), 'berth-desktop-model-'));
  dirs.push(dir);
  return new DesktopSettings(new Conf<Record<string, unknown>>({ cwd: dir, configName: 'settings' }), new FakeSafeStorage(keychain), { launchAtLogin: () => {} });
}

const refusal = (a: SettingsAnswer) => {
  assert.equal(a.ok, false);
  return a as Extract<SettingsAnswer, { ok: false }>;
};

describe('desktop app settings section', () => {
  it('has a field for every desktop setting but the token, which has its own', () => {
    const view = mainSettings().view();
    const settingKeys = Object.keys(view).filter((k) => !['hfTokenSet', 'encryptionAvailable', 'pendingRestart'].includes(k));
    assert.deepEqual(DESKTOP_FIELDS.map((f) => f.key).sort(), settingKeys.sort());
  });

  it('an untouched section saves nothing', () => {
    const view = mainSettings().view();
    assert.deepEqual(desktopPatch(view, desktopDraftOf(view)), { patch: {}, errors: {} });
  });

  it('sends what changed, typed, and main saves it', () => {
    const main = mainSettings();
    const view = main.view();
    const draft = { ...desktopDraftOf(view), daemonPort: ' 8800 ', keepRunningOnQuit: true, vllmPython: '  /home/me/venvs/vllm/bin/python ', defaultMode: 'container' as const };
    const { patch, errors } = desktopPatch(view, draft);
    assert.deepEqual(errors, {});
    assert.deepEqual(patch, { daemonPort: 8800, keepRunningOnQuit: true, vllmPython: '/home/me/venvs/vllm/bin/python', defaultMode: 'container' });
    const answer = main.update(patch);
    assert.equal(answer.ok, true);
    const saved = (answer as Extract<SettingsAnswer, { ok: true }>).settings;
    // The saved view makes the section clean again.
    assert.deepEqual(desktopPatch(saved, desktopDraftOf(saved)).patch, {});
  });

  it('an emptied Python goes back to the daemon\'s setting (null)', () => {
    const main = mainSettings();
    main.update({ sglangPython: '/opt/sglang/bin/python' });
    const view = main.view();
    assert.equal(desktopDraftOf(view).sglangPython, '/opt/sglang/bin/python');
    const { patch } = desktopPatch(view, { ...desktopDraftOf(view), sglangPython: '   ' });
    assert.deepEqual(patch, { sglangPython: null });
    assert.equal(main.update(patch).ok, true);
    assert.equal(main.view().sglangPython, null);
    assert.equal(desktopDraftOf(main.view()).sglangPython, '');
  });

  it('names what is wrong with a field before anything is sent', () => {
    const view = mainSettings().view();
    const draft = desktopDraftOf(view);
    assert.deepEqual(desktopPatch(view, { ...draft, daemonPort: '70000' }).errors, { daemonPort: 'must be 1..65535' });
    assert.deepEqual(desktopPatch(view, { ...draft, daemonPort: '0' }).errors, { daemonPort: 'must be 1..65535' });
    assert.deepEqual(desktopPatch(view, { ...draft, daemonPort: '77a' }).errors, { daemonPort: 'expected a whole number' });
    assert.deepEqual(desktopPatch(view, { ...draft, vllmPython: '/a\nb' }).errors, { vllmPython: 'must not contain control characters' });
    assert.deepEqual(desktopPatch(view, { ...draft, daemonPort: '70000' }).patch, {});
  });

  it('puts main\'s refusal on the field it names, without repeating the field', () => {
    const main = mainSettings();
    assert.deepEqual(answerErrors(refusal(main.update({ daemonPort: 70000 }))), { fields: { daemonPort: 'must be 1..65535' }, form: null });
    assert.match(answerErrors(refusal(main.setHfToken('has space'))).fields.hfToken ?? '', /printable ASCII/);
    // A field that is not a desktop setting is the section's error.
    assert.deepEqual(answerErrors(refusal(main.update({ port: 1 }))), { fields: {}, form: 'port is not a desktop setting' });
  });

  it('says which saved fields wait for the app to start the daemon again', () => {
    const main = mainSettings();
    main.markLaunched();
    main.update({ daemonPort: 8801, defaultMode: 'container' });
    main.setHfToken('hf_abcdefghijklmnop');
    const view = main.view();
    assert.deepEqual([...view.pendingRestart].sort(), ['daemonPort', 'hfToken']);
    assert.equal(pendingNote(view, 'daemonPort'), 'applies when the app next starts the daemon');
    assert.equal(pendingNote(view, 'defaultMode'), null);
    assert.equal(savedMessage(view), 'Saved. Daemon port: applies when the app next starts the daemon.');
    assert.equal(savedMessage(mainSettings().view()), 'Saved.');
  });

  it('checks a token as main will, and never shows one: only whether one is stored', () => {
    assert.deepEqual(checkToken('  hf_abc123  '), { token: 'hf_abc123' });
    assert.ok('error' in checkToken(''));
    assert.ok('error' in checkToken('hf_abc 123'));
    const main = mainSettings();
    for (const bad of ['hf_abc 123', 'x'.repeat(1025)]) {
      assert.ok('error' in checkToken(bad));
      assert.equal(main.setHfToken(bad).ok, false);
    }
    assert.deepEqual(tokenState(main.view()), { status: 'No token stored.', canStore: true, canClear: false, blocked: null });
    assert.equal(main.setHfToken('hf_SecretValue123').ok, true);
    const view: DesktopSettingsView = main.view();
    assert.equal(JSON.stringify(view).includes('hf_SecretValue123'), false);
    assert.deepEqual(tokenState(view), { status: 'A token is stored in the OS keychain.', canStore: true, canClear: true, blocked: null });
  });

  it('without a keychain, says the token cannot be stored and what to do instead', () => {
    const main = mainSettings(false);
    const state = tokenState(main.view());
    assert.equal(state.canStore, false);
    assert.equal(state.blocked, NO_KEYCHAIN);
    assert.match(NO_KEYCHAIN, /HF_TOKEN/);
    // Main refuses too, on the token's field.
    assert.match(answerErrors(refusal(main.setHfToken('hf_abcdefghijklmnop'))).fields.hfToken ?? '', /no keychain/);
  });
});
