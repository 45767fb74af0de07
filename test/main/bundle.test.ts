// The built main process (dist/main/index.js, what `npm run app` and the
// package run) loads and wires itself up: run in plain Node with a fake
// `electron` module (test/fakes/electron) against a daemon already on the
// port, it takes the single-instance lock, locks the session, opens the
// window on the daemon, follows the stream into the tray, writes its
// settings through electron-store, and quits without touching a daemon it
// did not start. It catches what the unit tests cannot: the bundle itself
// (esbuild, electron-store inside ESM) and index.ts's wiring.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { probeDaemon } from '../../main/daemon-client.js';
import { CHANNELS } from '../../main/bridge.js';
import { REPO, waitFor } from '../helpers/daemon.js';
import { freePort } from '../helpers/process.js';

const tmp = mkdtempSync(join(tmpdir(), 'berth-bundle-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

interface Call {
  call: string;
  [k: string]: unknown;
}

describe('the built main process', () => {
  it('starts, attaches, follows the daemon in the tray, and quits leaving the daemon it did not start', async () => {
    const port = await freePort();
    const daemon = spawn(process.execPath, [join(REPO, 'test/fakes/daemon/fake-berth.mjs'), 'serve'], { env: { PATH: process.env.PATH, BERTH_PORT: String(port) }, stdio: 'ignore' });
    children.push(daemon);
    await waitFor(async () => (await probeDaemon(`http://127.0.0.1:${port}`, null)).kind === 'berth', 'the daemon');

    const userData = join(tmp, 'user');
    const app = spawn(process.execPath, ['--import', join(REPO, 'test/fakes/electron/register.mjs'), join(REPO, 'dist/main/index.js')], {
      env: { PATH: process.env.PATH, HOME: join(tmp, 'home'), BERTH_PORT: String(port), FAKE_ELECTRON_APP_PATH: REPO, FAKE_ELECTRON_USER_DATA: userData },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(app);
    const calls: Call[] = [];
    let stderr = '';
    let buf = '';
    app.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          calls.push(JSON.parse(line) as Call);
        } catch {
          stderr += `${line}\n`;
        }
      }
    });
    app.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => app.once('exit', (code) => r(code)));
    const find = (call: string) => calls.filter((c) => c.call === call);
    const until = (what: string, pred: () => unknown) => waitFor(() => pred() || (app.exitCode !== null && Promise.reject(new Error(`the app exited: ${stderr}`))), `${what} (stderr: ${stderr})`);

    await until('the tray to show the daemon', () => find('tray.setToolTip').some((c) => c.text === 'Berth: idle, no deployments'));
    assert.equal(find('app.requestSingleInstanceLock').length, 1);
    assert.deepEqual(find('new Tray').map((c) => c.image), [join(REPO, 'resources/icons/starting.png')]);
    assert.ok(find('tray.setImage').some((c) => c.image === join(REPO, 'resources/icons/idle.png')));
    assert.ok(find('tray.setContextMenu').at(-1)!.labels instanceof Array);
    assert.ok((find('tray.setContextMenu').at(-1)!.labels as string[]).includes(`Daemon on 127.0.0.1:${port} (started outside this app)`));

    // The session and the window are locked before anything loads.
    for (const c of ['session.setPermissionRequestHandler', 'session.setPermissionCheckHandler', 'session.webRequest.onBeforeRequest']) assert.equal(find(c).length, 1, c);
    const win = find('new BrowserWindow')[0]!.options as { webPreferences: Record<string, unknown> };
    assert.equal(win.webPreferences.sandbox, true);
    assert.equal(win.webPreferences.contextIsolation, true);
    assert.equal(win.webPreferences.nodeIntegration, false);
    assert.ok(existsSync(String(win.webPreferences.preload)), 'the preload the window names was built');
    assert.ok(find('webContents.setWindowOpenHandler').length >= 1);
    await until('the window on the daemon', () => find('window.loadURL').some((c) => c.url === `http://127.0.0.1:${port}/`));
    assert.deepEqual(find('ipcMain.handle').map((c) => c.channel).sort(), Object.values(CHANNELS).sort());

    // electron-store wrote the settings, versioned, where Electron keeps user data.
    const settings = JSON.parse(readFileSync(join(userData, 'userData', 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(settings.version, 1);
    assert.equal(settings.hfTokenEncrypted, null);

    app.stdin!.write('click Copy endpoint URL\n');
    await until('the endpoint copied', () => find('clipboard.writeText').some((c) => c.text === `http://127.0.0.1:${port}/v1`));
    app.stdin!.write('click Quit Berth\n');
    assert.equal(await exited, 0, stderr);
    assert.equal(find('app.exit').length, 1);
    assert.equal(daemon.exitCode, null, 'a daemon the app attached to is left running');
    assert.equal((await probeDaemon(`http://127.0.0.1:${port}`, null)).kind, 'berth');
    daemon.kill('SIGTERM');
  });
});
