// The UI as the desktop window shows it: a real daemon serving the bundle,
// Debian's Chromium, and `window.berthDesktop` installed before the page's
// scripts run, as the preload does. Only the preload's transport is stood in
// for: its calls cross to this process (page.exposeFunction, where the real
// one crosses Electron's IPC) and reach main's own IPC handlers (ipc.ts, with
// their origin check) and settings module (settings.ts, a real store file, a
// fake keychain). Every call is recorded on this side.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Conf from 'conf';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHANNELS } from '../../main/bridge.js';
import { registerIpc, type IpcHost, type IpcSender } from '../../main/ipc.js';
import { DesktopSettings } from '../../main/settings.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { SAFETY_MS } from '../helpers/limits.js';
import { FakeSafeStorage } from '../main/fake-electron.js';
import { chromiumMissing, launchChromium, screenshot } from './browser.js';

const missing = chromiumMissing();
const TOKEN = 'hf_DesktopE2eTokenValue0123456789';

interface Call {
  channel: string;
  args: unknown[];
}

/** A desktop window: a fresh browser context whose page gets the bridge, answered by main's handlers over `settings`. */
async function desktopWindow(browser: Browser, url: string, settings: DesktopSettings): Promise<{ context: BrowserContext; page: Page; calls: Call[] }> {
  const handlers = new Map<string, (event: IpcSender, ...args: unknown[]) => unknown>();
  const ipc: IpcHost = { handle: (channel, fn) => void handlers.set(channel, fn as never) };
  const origin = new URL(url).origin;
  registerIpc(ipc, { settings, openExternal: async () => {}, origin });
  const calls: Call[] = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(SAFETY_MS);
  await page.exposeFunction('__berthIpc', async (channel: string, args: unknown[]) => {
    calls.push({ channel, args });
    const fn = handlers.get(channel);
    if (!fn) throw new Error(`no handler for ${channel}`);
    // The sender is the page's main frame, as Electron reports it.
    return fn({ senderFrame: { url: page.url() } } as IpcSender, ...args);
  });
  // What preload.ts exposes (createDesktopApi), over the binding instead of
  // ipcRenderer.invoke. Given as source text: a function would be serialised
  // with the helpers tsx compiles into it, which the page does not have.
  await page.addInitScript({
    content: `(() => {
      const ch = ${JSON.stringify(CHANNELS)};
      const invoke = (channel, ...args) => globalThis.__berthIpc(channel, args);
      globalThis.berthDesktop = Object.freeze({
        version: '0.1.0',
        platform: 'linux',
        openExternal: (url) => invoke(ch.openExternal, url),
        getSettings: () => invoke(ch.getSettings),
        updateSettings: (patch) => invoke(ch.updateSettings, patch),
        setHfToken: (token) => invoke(ch.setHfToken, token),
      });
    })();`,
  });
  return { context, page, calls };
}

describe(missing ?? 'the desktop app\'s settings in the window, against a real daemon', { skip: missing ?? false }, () => {
  let d: TestDaemon;
  let browser: Browser;
  const dirs: string[] = [];
  const contexts: BrowserContext[] = [];

  function mainSettings(keychain: boolean): DesktopSettings {
    const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-desktop-'));
    dirs.push(dir);
    const s = new DesktopSettings(new Conf<Record<string, unknown>>({ cwd: dir, configName: 'settings' }), new FakeSafeStorage(keychain), { launchAtLogin: () => {} });
    // As when the app has started the daemon it shows: later changes to the port wait for the next start.
    s.markLaunched();
    return s;
  }

  async function open(settings: DesktopSettings, hash: string) {
    const w = await desktopWindow(browser, d.url, settings);
    contexts.push(w.context);
    await w.page.goto(`${d.url}/${hash}`);
    return w;
  }

  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
    browser = await launchChromium();
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await d?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the section; a port change reaches main with its value, an invalid port is flagged on its field', async () => {
    const settings = mainSettings(true);
    const { page, calls } = await open(settings, '#/settings');
    const section = page.getByRole('region', { name: 'Desktop app' });
    const form = section.getByRole('form', { name: 'Desktop app settings' });
    const port = form.getByLabel('Daemon port');
    assert.equal(await port.inputValue(), '7788');

    await port.fill('70000');
    assert.equal(await port.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#d-daemonPort-error').textContent(), 'must be 1..65535');
    assert.equal(await form.getByRole('button', { name: /^Save|No changes/ }).isDisabled(), true);
    assert.equal(calls.filter((c) => c.channel === CHANNELS.updateSettings).length, 0, 'nothing sent while a field is invalid');

    await port.fill('8800');
    assert.equal(await port.getAttribute('aria-invalid'), null);
    await form.getByRole('button', { name: 'Save 1 desktop change' }).click();
    await form.getByRole('status').filter({ hasText: 'Saved. Daemon port: applies when the app next starts the daemon.' }).waitFor();
    assert.deepEqual(
      calls.filter((c) => c.channel === CHANNELS.updateSettings).map((c) => c.args),
      [[{ daemonPort: 8800 }]],
    );
    assert.equal(settings.values().daemonPort, 8800);
    await form.getByText('Saved: applies when the app next starts the daemon.').waitFor();
    await screenshot(page, 'settings-desktop');
  });

  it('sends the token to main once and never shows it again; Clear removes it', async () => {
    const settings = mainSettings(true);
    const { page, calls } = await open(settings, '#/settings');
    const tokenForm = page.getByRole('form', { name: 'Hugging Face token' });
    const input = tokenForm.getByLabel('Hugging Face token');
    assert.equal(await input.getAttribute('type'), 'password');
    await tokenForm.getByText('No token stored.').waitFor();

    await input.fill(TOKEN);
    await tokenForm.getByRole('button', { name: 'Save token' }).click();
    await tokenForm.getByText('A token is stored in the OS keychain.').waitFor();
    assert.deepEqual(
      calls.filter((c) => c.channel === CHANNELS.setHfToken).map((c) => c.args),
      [[TOKEN]],
    );
    assert.equal(settings.hfToken(), TOKEN);
    // Gone from the page: not in any input, the markup, the text or the bridge's answers.
    assert.equal(await input.inputValue(), '');
    assert.equal((await page.content()).includes(TOKEN), false);
    assert.equal((await page.locator('body').innerText()).includes(TOKEN), false);
    const answers = await page.evaluate(() => (globalThis as unknown as { berthDesktop: { getSettings(): Promise<unknown> } }).berthDesktop.getSettings());
    assert.equal(JSON.stringify(answers).includes(TOKEN), false);

    await tokenForm.getByRole('button', { name: 'Clear token' }).click();
    await tokenForm.getByText('No token stored.').waitFor();
    assert.deepEqual(calls.filter((c) => c.channel === CHANNELS.setHfToken).at(-1)?.args, [null]);
    assert.equal(settings.hfToken(), null);
  });

  it('without a keychain, says the token cannot be stored and offers no way to type one', async () => {
    const { page, calls } = await open(mainSettings(false), '#/settings');
    const tokenForm = page.getByRole('form', { name: 'Hugging Face token' });
    await tokenForm.getByRole('alert').filter({ hasText: 'no keychain' }).waitFor();
    assert.equal(await tokenForm.getByLabel('Hugging Face token').isDisabled(), true);
    assert.equal(calls.filter((c) => c.channel === CHANNELS.setHfToken).length, 0);
    await screenshot(page, 'settings-desktop-no-keychain');
  });

  it('a new deployment\'s form starts in the default mode saved here; an edit keeps the deployment\'s own', async () => {
    const settings = mainSettings(true);
    const { page, calls } = await open(settings, '#/settings');
    const form = page.getByRole('form', { name: 'Desktop app settings' });
    await form.getByLabel('Default mode').selectOption('container');
    await form.getByRole('button', { name: 'Save 1 desktop change' }).click();
    await form.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    assert.equal(settings.values().defaultMode, 'container');

    await page.goto(`${d.url}/#/new`);
    const mode = page.getByLabel('Mode', { exact: true });
    // The setting arrives through the bridge a moment after the form opens.
    await mode.waitFor();
    const end = Date.now() + SAFETY_MS;
    while ((await mode.inputValue()) !== 'container' && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await mode.inputValue(), 'container');
    assert.ok(calls.filter((c) => c.channel === CHANNELS.getSettings).length >= 2, 'the form asked the app');

    // A deployment of its own (not started) keeps its mode in its edit form.
    await d.client.createDeployment({ body: { name: 'kept', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', mode: 'process' }, query: { start: false } });
    await page.goto(`${d.url}/#/deployments/kept/edit`);
    await page.getByRole('heading', { name: 'Edit kept' }).waitFor();
    assert.equal(await page.getByLabel('Mode', { exact: true }).inputValue(), 'process');
    await d.client.deleteDeployment({ params: { name: 'kept' } });
  });

  it('in a plain browser there is no bridge and no desktop section', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(SAFETY_MS);
    await page.goto(`${d.url}/#/settings`);
    // The daemon's settings are on the page: it has finished loading.
    await page.getByRole('form', { name: 'Daemon settings' }).waitFor();
    assert.equal(await page.getByRole('region', { name: 'Desktop app' }).count(), 0);
    assert.equal(await page.getByLabel('Daemon port').count(), 0);
    assert.equal(await page.getByRole('form', { name: 'Hugging Face token' }).count(), 0);
  });
});
