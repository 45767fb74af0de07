// The desktop settings against a real store file: conf is electron-store's
// base class with the same API, which runs in plain Node (electron-store
// itself imports Electron at load).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Conf from 'conf';
import { AUTOSTART_FILE, autostartEntry, desktopExecArg, loginItem, xdgAutostartDir, type LoginItemApp } from '../../main/login-item.js';
import { DEFAULT_SETTINGS, DesktopSettings, keychainOnly, type DocumentStore, type SettingsEffects } from '../../main/settings.js';
import { FakeSafeStorage } from './fake-electron.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-settings-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const openStore = (): DocumentStore => new Conf<Record<string, unknown>>({ cwd: dir, configName: 'settings' });
const file = () => join(dir, 'settings.json');
const onDisk = () => readFileSync(file(), 'utf8');
const noEffects: SettingsEffects = { launchAtLogin: () => {} };

describe('desktop settings: schema', () => {
  it('a first start writes the defaults, versioned', () => {
    const s = new DesktopSettings(openStore(), new FakeSafeStorage(), noEffects);
    assert.deepEqual(s.values(), DEFAULT_SETTINGS);
    assert.deepEqual(JSON.parse(onDisk()), { version: 1, ...DEFAULT_SETTINGS, hfTokenEncrypted: null });
  });

  it('a valid change is saved and read back by the next start', () => {
    const s = new DesktopSettings(openStore(), new FakeSafeStorage(), noEffects);
    const answer = s.update({ daemonPort: 8800, keepRunningOnQuit: true, vllmPython: '/home/me/venvs/vllm/bin/python', defaultMode: 'container' });
    assert.equal(answer.ok, true);
    const again = new DesktopSettings(openStore(), new FakeSafeStorage(), noEffects);
    assert.deepEqual(again.values(), {
      ...DEFAULT_SETTINGS,
      daemonPort: 8800,
      keepRunningOnQuit: true,
      vllmPython: '/home/me/venvs/vllm/bin/python',
      defaultMode: 'container',
    });
  });

  it('an invalid value is refused naming the field, and nothing is written', () => {
    const s = new DesktopSettings(openStore(), new FakeSafeStorage(), noEffects);
    const before = onDisk();
    const cases: [unknown, string, string][] = [
      [{ daemonPort: 70000 }, 'daemonPort', 'invalid_value'],
      [{ daemonPort: 'http' }, 'daemonPort', 'invalid_value'],
      [{ launchAtLogin: 'yes' }, 'launchAtLogin', 'invalid_value'],
      [{ vllmPython: '/usr/bin/python\n--evil' }, 'vllmPython', 'invalid_value'],
      [{ sglangPython: '' }, 'sglangPython', 'invalid_value'],
      [{ defaultMode: 'kubernetes' }, 'defaultMode', 'invalid_value'],
      [{ hfTokenEncrypted: 'AAAA' }, 'hfTokenEncrypted', 'unknown_field'],
      [{ port: 1 }, 'port', 'unknown_field'],
    ];
    for (const [patch, field, code] of cases) {
      const answer = s.update(patch);
      assert.equal(answer.ok, false, JSON.stringify(patch));
      if (!answer.ok) {
        assert.equal(answer.error.field, field, JSON.stringify(patch));
        assert.equal(answer.error.code, code, JSON.stringify(patch));
      }
    }
    assert.equal(s.update('not an object').ok, false);
    assert.equal(onDisk(), before);
  });

  it('null puts a Python path back to the daemon default', () => {
    const s = new DesktopSettings(openStore(), new FakeSafeStorage(), noEffects);
    s.update({ sglangPython: '/opt/sglang/bin/python' });
    assert.equal(s.update({ sglangPython: null }).ok, true);
    assert.equal(s.values().sglangPython, null);
  });

  it('a hand-edited field that fails its schema falls back to its default, with a warning naming it', () => {
    writeFileSync(file(), JSON.stringify({ version: 1, daemonPort: -4, keepRunningOnQuit: true, defaultMode: 'vm' }));
    const s = new DesktopSettings(openStore(), new FakeSafeStorage(), noEffects);
    assert.equal(s.values().daemonPort, 7788);
    assert.equal(s.values().defaultMode, 'process');
    assert.equal(s.values().keepRunningOnQuit, true);
    assert.equal(s.warnings.length, 2);
    assert.match(s.warnings.join('\n'), /daemonPort -4 is invalid/);
    assert.match(s.warnings.join('\n'), /defaultMode "vm" is invalid/);
  });

  it('launch at login is applied through the OS before it is saved; a failure refuses the change', () => {
    const applied: boolean[] = [];
    let fail = false;
    const s = new DesktopSettings(openStore(), new FakeSafeStorage(), {
      launchAtLogin: (on) => {
        if (fail) throw new Error('read-only autostart folder');
        applied.push(on);
      },
    });
    assert.equal(s.update({ launchAtLogin: true }).ok, true);
    assert.deepEqual(applied, [true]);
    assert.equal(s.update({ daemonPort: 7799 }).ok, true);
    assert.deepEqual(applied, [true], 'an unrelated change does not touch the login item');
    fail = true;
    const answer = s.update({ launchAtLogin: false });
    assert.equal(answer.ok, false);
    if (!answer.ok) {
      assert.equal(answer.error.field, 'launchAtLogin');
      assert.match(answer.error.message, /read-only autostart folder/);
    }
    assert.equal(new DesktopSettings(openStore(), new FakeSafeStorage(), noEffects).values().launchAtLogin, true);
  });

  it('lists the saved changes that wait for the daemon to be started again', () => {
    const s = new DesktopSettings(openStore(), new FakeSafeStorage(), noEffects);
    assert.deepEqual(s.view().pendingRestart, [], 'nothing is pending before a daemon was started');
    s.markLaunched();
    s.update({ vllmPython: '/venv/bin/python', keepRunningOnQuit: true });
    s.setHfToken('hf_abcdefghijklmnop');
    assert.deepEqual(s.view().pendingRestart, ['vllmPython', 'hfToken']);
    s.markLaunched();
    assert.deepEqual(s.view().pendingRestart, []);
  });
});

describe('desktop settings: the Hugging Face token', () => {
  const TOKEN = 'hf_SecretTokenValue1234567890';

  it('is written only through safeStorage: the store file holds ciphertext, never the token', () => {
    const safe = new FakeSafeStorage();
    const s = new DesktopSettings(openStore(), safe, noEffects);
    const answer = s.setHfToken(TOKEN);
    assert.equal(answer.ok, true);
    assert.deepEqual(safe.encrypted, [TOKEN]);
    assert.ok(!onDisk().includes(TOKEN), 'the plain token is not on disk');
    assert.ok(!onDisk().includes('SecretTokenValue'));
    const stored = JSON.parse(onDisk()) as { hfTokenEncrypted: string };
    assert.equal(safe.decryptString(Buffer.from(stored.hfTokenEncrypted, 'base64')), TOKEN);
    // The view says a token is set, and never carries it.
    const view = s.view();
    assert.equal(view.hfTokenSet, true);
    assert.ok(!JSON.stringify(view).includes(TOKEN));
    if (answer.ok) assert.ok(!JSON.stringify(answer).includes(TOKEN));
    // The next start decrypts it for the daemon's environment.
    assert.equal(new DesktopSettings(openStore(), safe, noEffects).hfToken(), TOKEN);
  });

  it('is refused with a clear message where there is no keychain, and nothing is written', () => {
    const safe = new FakeSafeStorage(false);
    const s = new DesktopSettings(openStore(), safe, noEffects);
    const before = onDisk();
    const answer = s.setHfToken(TOKEN);
    assert.equal(answer.ok, false);
    if (!answer.ok) {
      assert.equal(answer.error.code, 'encryption_unavailable');
      assert.equal(answer.error.field, 'hfToken');
      assert.match(answer.error.message, /keychain/);
    }
    assert.deepEqual(safe.encrypted, []);
    assert.equal(onDisk(), before);
    assert.equal(s.view().encryptionAvailable, false);
  });

  it('can be removed, and a malformed one is refused', () => {
    const s = new DesktopSettings(openStore(), new FakeSafeStorage(), noEffects);
    s.setHfToken(TOKEN);
    assert.equal(s.setHfToken(null).ok, true);
    assert.equal(s.hfToken(), null);
    assert.equal(JSON.parse(onDisk()).hfTokenEncrypted, null);
    for (const bad of ['', 'hf with spaces', 42]) {
      const answer = s.setHfToken(bad);
      assert.equal(answer.ok, false, String(bad));
      if (!answer.ok) assert.equal(answer.error.field, 'hfToken');
    }
  });

  it('Linux without a Secret Service counts as no keychain (basic_text is a hard-coded key)', () => {
    const safe = new FakeSafeStorage(true);
    safe.backend = 'basic_text';
    assert.equal(keychainOnly(safe, 'linux').isEncryptionAvailable(), false);
    safe.backend = 'gnome_libsecret';
    assert.equal(keychainOnly(safe, 'linux').isEncryptionAvailable(), true);
    safe.backend = 'basic_text';
    assert.equal(keychainOnly(safe, 'darwin').isEncryptionAvailable(), true, 'the backend question is Linux only');
    safe.available = false;
    assert.equal(keychainOnly(safe, 'win32').isEncryptionAvailable(), false);
  });
});

describe('desktop settings: migration', () => {
  const v0 = { port: 8000, keepModelsRunning: true, openAtLogin: false, pythonPath: '/opt/venv/bin/python', hfToken: 'hf_PlainTextFromV0abcdef' };

  it('a version-0 file becomes version 1, its plain-text token moved into the keychain and off the disk', () => {
    writeFileSync(file(), JSON.stringify(v0));
    const safe = new FakeSafeStorage();
    const s = new DesktopSettings(openStore(), safe, noEffects);
    assert.deepEqual(s.values(), {
      daemonPort: 8000,
      launchAtLogin: false,
      keepRunningOnQuit: true,
      vllmPython: '/opt/venv/bin/python',
      sglangPython: '/opt/venv/bin/python',
      defaultMode: 'process',
    });
    assert.deepEqual(safe.encrypted, [v0.hfToken]);
    assert.equal(s.hfToken(), v0.hfToken);
    const disk = JSON.parse(onDisk()) as Record<string, unknown>;
    assert.equal(disk.version, 1);
    assert.equal('hfToken' in disk || 'port' in disk || 'pythonPath' in disk, false, 'the old fields are gone');
    assert.ok(!onDisk().includes(v0.hfToken), 'the plain token is off the disk at once, before any other change');
  });

  it('without a keychain the plain-text token is dropped, with a warning, not kept', () => {
    writeFileSync(file(), JSON.stringify(v0));
    const s = new DesktopSettings(openStore(), new FakeSafeStorage(false), noEffects);
    assert.equal(s.hfToken(), null);
    assert.equal(s.values().daemonPort, 8000);
    assert.ok(!onDisk().includes(v0.hfToken));
    assert.match(s.warnings.join('\n'), /token stored in plain text was removed/);
  });

  it('an invalid v0 value falls back to its default', () => {
    writeFileSync(file(), JSON.stringify({ port: 'eighty', keepModelsRunning: 1 }));
    const s = new DesktopSettings(openStore(), new FakeSafeStorage(), noEffects);
    assert.equal(s.values().daemonPort, 7788);
    assert.equal(s.values().keepRunningOnQuit, false);
  });
});

describe('launch at login', () => {
  it('on Linux writes an XDG autostart entry that starts the app hidden, and removes it', () => {
    const auto = join(dir, 'autostart');
    const item = loginItem({ platform: 'linux', app: {} as LoginItemApp, autostartDir: auto, command: ['/home/me/Apps/Berth 0.1.AppImage'] });
    assert.equal(item.isEnabled(), false);
    item.set(true);
    assert.equal(item.isEnabled(), true);
    const entry = readFileSync(join(auto, AUTOSTART_FILE), 'utf8');
    assert.match(entry, /^Exec="\/home\/me\/Apps\/Berth 0\.1\.AppImage" --hidden$/m);
    item.set(false);
    assert.equal(existsSync(join(auto, AUTOSTART_FILE)), false);
    item.set(false);
  });

  it('quotes Exec arguments as the Desktop Entry spec asks', () => {
    assert.equal(desktopExecArg('/usr/bin/berth'), '/usr/bin/berth');
    assert.equal(desktopExecArg('/a b/$HOME"x`\\'), '"/a b/\\$HOME\\"x\\`\\\\"');
    assert.match(autostartEntry(['/x', '--hidden']), /^Type=Application$/m);
  });

  it('uses $XDG_CONFIG_HOME when it is an absolute path', () => {
    assert.equal(xdgAutostartDir({ XDG_CONFIG_HOME: '/cfg' }, '/home/me'), '/cfg/autostart');
    assert.equal(xdgAutostartDir({ XDG_CONFIG_HOME: 'relative' }, '/home/me'), '/home/me/.config/autostart');
    assert.equal(xdgAutostartDir({}, '/home/me'), '/home/me/.config/autostart');
  });

  it('on macOS and Windows goes through app.setLoginItemSettings (Windows with the hidden flag)', () => {
    const calls: unknown[] = [];
    const app = {
      setLoginItemSettings: (s: unknown) => calls.push(s),
      getLoginItemSettings: () => ({ openAtLogin: true }),
    } as unknown as LoginItemApp;
    const mac = loginItem({ platform: 'darwin', app, autostartDir: join(dir, 'unused'), command: [] });
    mac.set(true);
    const win = loginItem({ platform: 'win32', app, autostartDir: join(dir, 'unused'), command: [] });
    win.set(false);
    assert.deepEqual(calls, [{ openAtLogin: true }, { openAtLogin: false, args: ['--hidden'] }]);
    assert.equal(mac.isEnabled(), true);
    assert.equal(existsSync(join(dir, 'unused')), false);
  });
});
