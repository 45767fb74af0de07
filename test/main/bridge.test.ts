// The preload bridge and main's IPC handlers, joined by a fake ipcMain: what
// the page calls reaches main only from the daemon's origin and only with
// valid arguments.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Conf from 'conf';
import { BRIDGE_KEY, CHANNELS, createDesktopApi, isWebUrl } from '../../main/bridge.js';
import { registerIpc, type IpcHost, type IpcSender } from '../../main/ipc.js';
import { DesktopSettings } from '../../main/settings.js';
import { FakeSafeStorage } from './fake-electron.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-ipc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Handler = (event: IpcSender, ...args: unknown[]) => unknown;

function setup() {
  const handlers = new Map<string, Handler>();
  const ipc = { handle: (channel: string, fn: Handler) => handlers.set(channel, fn) } as unknown as IpcHost;
  const opened: string[] = [];
  const settings = new DesktopSettings(new Conf<Record<string, unknown>>({ cwd: mkdtempSync(join(dir, 's-')), configName: 'settings' }), new FakeSafeStorage(), { launchAtLogin: () => {} });
  registerIpc(ipc, { settings, openExternal: async (url) => void opened.push(url), origin: 'http://127.0.0.1:7788' });
  /** ipcRenderer.invoke from a frame at `frameUrl`, as Electron delivers it. */
  const invokeFrom = (frameUrl: string | null) => async (channel: string, ...args: unknown[]) => {
    const fn = handlers.get(channel);
    if (!fn) throw new Error(`no handler for ${channel}`);
    return fn({ senderFrame: frameUrl === null ? null : { url: frameUrl } } as IpcSender, ...args);
  };
  return { handlers, opened, settings, invokeFrom };
}

describe('the desktop bridge', () => {
  it('exposes the version, the platform and typed calls under one key', async () => {
    const { invokeFrom } = setup();
    const api = createDesktopApi(invokeFrom('http://127.0.0.1:7788/'), ['electron', '--berth-app-version=0.1.0'], 'linux');
    assert.equal(BRIDGE_KEY, 'berthDesktop');
    assert.equal(api.version, '0.1.0');
    assert.equal(api.platform, 'linux');
    assert.ok(Object.isFrozen(api));
    const view = await api.getSettings();
    assert.equal(view.daemonPort, 7788);
    assert.equal(view.hfTokenSet, false);
  });

  it('opens only http(s) URLs in the browser, checked in the page and again in main', async () => {
    const { invokeFrom, opened, handlers } = setup();
    const api = createDesktopApi(invokeFrom('http://127.0.0.1:7788/'), [], 'linux');
    await api.openExternal('https://huggingface.co/settings/tokens');
    await assert.rejects(api.openExternal('file:///etc/passwd'), /only http\(s\)/);
    await assert.rejects(api.openExternal('javascript:alert(1)'), /only http\(s\)/);
    // A page that skips the preload's check still meets main's.
    const raw = handlers.get(CHANNELS.openExternal)!;
    await assert.rejects(Promise.resolve().then(() => raw({ senderFrame: { url: 'http://127.0.0.1:7788/' } } as IpcSender, 'smb://host/share')), /only http\(s\)/);
    await assert.rejects(Promise.resolve().then(() => raw({ senderFrame: { url: 'http://127.0.0.1:7788/' } } as IpcSender, { toString: () => 'https://x' })), /only http\(s\)/);
    assert.deepEqual(opened, ['https://huggingface.co/settings/tokens']);
    assert.equal(isWebUrl('HTTPS://EXAMPLE.COM'), true);
  });

  it('settings changes are validated in main and answered in the API envelope', async () => {
    const { invokeFrom } = setup();
    const api = createDesktopApi(invokeFrom('http://127.0.0.1:7788/deployments'), [], 'linux');
    const bad = await api.updateSettings({ daemonPort: 0 });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.equal(bad.error.field, 'daemonPort');
    const good = await api.updateSettings({ keepRunningOnQuit: true, defaultMode: 'container' });
    assert.equal(good.ok, true);
    if (good.ok) assert.equal(good.settings.keepRunningOnQuit, true);
    const token = await api.setHfToken('hf_abcdefghijklmnopqrstuvwxyz');
    assert.equal(token.ok, true);
    assert.ok(!JSON.stringify(token).includes('hf_abcdefghijklmnopqrstuvwxyz'), 'the token never comes back');
    if (token.ok) assert.equal(token.settings.hfTokenSet, true);
  });

  it('a frame that is not the daemon origin gets nothing', async () => {
    const { invokeFrom, opened } = setup();
    for (const frame of ['https://evil.example/', 'http://127.0.0.1:7789/', 'data:text/html,hi', null]) {
      const api = createDesktopApi(invokeFrom(frame), [], 'linux');
      await assert.rejects(api.getSettings(), /refused/, String(frame));
      await assert.rejects(api.updateSettings({ keepRunningOnQuit: true }), /refused/);
      await assert.rejects(api.openExternal('https://example.com/'), /refused/);
    }
    assert.deepEqual(opened, []);
  });
});
