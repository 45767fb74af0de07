// The window's locks: its options, and the guards on navigation, window.open,
// permissions and requests, driven through a fake WebContents and Session
// the way Electron fires them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrowserWindowConstructorOptions } from 'electron';
import {
  MainWindow,
  childWindowOptions,
  daemonOrigin,
  guardContents,
  guardSession,
  navigationVerdict,
  requestAllowed,
  statusPageUrl,
  windowOptions,
  type WindowHandle,
} from '../../main/window.js';
import { FakeSession, FakeWebContents, navEvent } from './fake-electron.js';

const ORIGIN = daemonOrigin(7788);

describe('window options', () => {
  it('isolate the page: context isolation, sandbox, no Node, web security, the preload', () => {
    const o = windowOptions({ preload: '/app/dist/main/preload.cjs', appVersion: '0.1.0' });
    const p = o.webPreferences!;
    assert.equal(p.contextIsolation, true);
    assert.equal(p.sandbox, true);
    assert.equal(p.nodeIntegration, false);
    assert.equal(p.nodeIntegrationInWorker, false);
    assert.equal(p.nodeIntegrationInSubFrames, false);
    assert.equal(p.webSecurity, true);
    assert.equal(p.allowRunningInsecureContent, false);
    assert.equal(p.webviewTag, false);
    assert.equal(p.navigateOnDragDrop, false);
    assert.equal(p.preload, '/app/dist/main/preload.cjs');
    assert.deepEqual(p.additionalArguments, ['--berth-app-version=0.1.0']);
  });

  it('a child window keeps every lock and gets no preload', () => {
    const p = childWindowOptions({ appVersion: '0.1.0' }).webPreferences!;
    assert.equal(p.preload, undefined);
    assert.equal(p.contextIsolation, true);
    assert.equal(p.sandbox, true);
    assert.equal(p.nodeIntegration, false);
  });
});

describe('navigation and window.open', () => {
  const external: string[] = [];
  const contents = new FakeWebContents();
  const childOptions: BrowserWindowConstructorOptions = childWindowOptions({ appVersion: '0.1.0' });
  guardContents(contents.handle, { origin: ORIGIN, openExternal: (url) => external.push(url), childOptions });

  it('a link within the daemon origin navigates', () => {
    const e = navEvent('http://127.0.0.1:7788/deployments/qwen');
    contents.emit('will-frame-navigate', e);
    assert.equal(e.prevented, false);
  });

  it('an external web link is blocked in the window and opened in the browser', () => {
    external.length = 0;
    const e = navEvent('https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct');
    contents.emit('will-frame-navigate', e);
    assert.equal(e.prevented, true);
    assert.deepEqual(external, ['https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct']);
  });

  it('file:, javascript: and another port of the same host are blocked and open nothing', () => {
    external.length = 0;
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'berth://x', 'http://127.0.0.1:30000/']) {
      const e = navEvent(url);
      contents.emit('will-frame-navigate', e);
      assert.equal(e.prevented, true, url);
    }
    // Another port is a web URL: it goes to the browser, never into the window.
    assert.deepEqual(external, ['http://127.0.0.1:30000/']);
  });

  it('an iframe navigating away is stopped without opening anything', () => {
    external.length = 0;
    const e = navEvent('https://example.com/', false);
    contents.emit('will-frame-navigate', e);
    assert.equal(e.prevented, true);
    assert.deepEqual(external, []);
  });

  it('a redirect off the daemon origin is stopped, and opens nothing', () => {
    external.length = 0;
    const off = navEvent('https://evil.example/');
    contents.emit('will-redirect', off);
    assert.equal(off.prevented, true);
    const on = navEvent('http://127.0.0.1:7788/login');
    contents.emit('will-redirect', on);
    assert.equal(on.prevented, false);
    assert.deepEqual(external, []);
  });

  it('userinfo tricks do not pass for the daemon origin', () => {
    assert.equal(navigationVerdict('http://127.0.0.1:7788@evil.example/', ORIGIN), 'external');
    assert.equal(navigationVerdict('http://localhost:7788/', ORIGIN), 'external');
    assert.equal(navigationVerdict('not a url', ORIGIN), 'deny');
  });

  it('window.open: external links go to the browser, the daemon origin gets a locked child window, the rest nothing', () => {
    external.length = 0;
    assert.deepEqual(contents.openHandler!({ url: 'https://github.com/vllm-project/vllm' }), { action: 'deny' });
    assert.deepEqual(external, ['https://github.com/vllm-project/vllm']);
    assert.deepEqual(contents.openHandler!({ url: 'http://127.0.0.1:7788/deployments/qwen' }), { action: 'allow', overrideBrowserWindowOptions: childOptions });
    assert.deepEqual(contents.openHandler!({ url: 'file:///tmp/x.html' }), { action: 'deny' });
    assert.equal(external.length, 1);
  });

  it('a child window the page opens gets the same guards', () => {
    const child = new FakeWebContents();
    contents.emit('did-create-window', { webContents: child.handle });
    const e = navEvent('https://example.com/');
    child.emit('will-frame-navigate', e);
    assert.equal(e.prevented, true);
    assert.ok(child.openHandler);
  });

  it('webviews are never attached', () => {
    let prevented = false;
    contents.emit('will-attach-webview', { preventDefault: () => (prevented = true) });
    assert.equal(prevented, true);
  });
});

describe('session: permissions and requests', () => {
  const session = new FakeSession();
  guardSession(session.handle, ORIGIN);

  it('denies every permission, except clipboard writing for the daemon page', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read', 'fullscreen', 'unknown']) {
      assert.equal(session.permission(p, 'http://127.0.0.1:7788/'), false, p);
    }
    assert.equal(session.permission('clipboard-sanitized-write', 'http://127.0.0.1:7788/'), true);
    assert.equal(session.permission('clipboard-sanitized-write', 'https://evil.example/'), false);
    assert.equal(session.checkHandler!(null, 'media', ORIGIN), false);
    assert.equal(session.checkHandler!(null, 'clipboard-sanitized-write', ORIGIN), true);
  });

  it('lets through requests to the daemon origin, its WebSocket, data: and DevTools; blocks the rest', () => {
    assert.equal(session.request('http://127.0.0.1:7788/assets/index.js'), true);
    assert.equal(session.request('http://127.0.0.1:7788/api/v1/events'), true);
    assert.equal(session.request('ws://127.0.0.1:7788/x'), true);
    assert.equal(session.request('blob:http://127.0.0.1:7788/6c1f0f3e-0000-4000-8000-000000000000'), true);
    assert.equal(session.request('data:image/png;base64,AAAA'), true);
    assert.equal(session.request('devtools://devtools/bundled/inspector.html'), true);
    for (const url of ['https://fonts.googleapis.com/css', 'http://127.0.0.1:30000/v1/models', 'http://localhost:7788/', 'file:///etc/passwd', 'ws://evil.example/', 'https://127.0.0.1:7788/']) {
      assert.equal(session.request(url), false, url);
    }
    assert.equal(requestAllowed('::garbage', ORIGIN), false);
  });
});

describe('the main window', () => {
  function fakeWindow() {
    const loaded: string[] = [];
    const contents = new FakeWebContents();
    const once = new Map<string, () => void>();
    let destroyed = false;
    const shown: string[] = [];
    const win = {
      loadURL: async (url: string) => void loaded.push(url),
      show: () => shown.push('show'),
      focus: () => shown.push('focus'),
      isMinimized: () => false,
      restore: () => {},
      isDestroyed: () => destroyed,
      once: (event: string, fn: () => void) => once.set(event, fn),
      webContents: contents.handle,
    } as unknown as WindowHandle;
    return { win, loaded, contents, shown, fire: (e: string) => once.get(e)?.(), destroy: () => (destroyed = true) };
  }

  it('shows a status page until the daemon runs, then its UI; closing destroys it, Open makes a new one', () => {
    const made: ReturnType<typeof fakeWindow>[] = [];
    const w = new MainWindow(
      {
        create: () => {
          const f = fakeWindow();
          made.push(f);
          return f.win;
        },
        options: windowOptions({ preload: '/p.cjs', appVersion: '0' }),
        guard: { origin: ORIGIN, openExternal: () => {}, childOptions: {} },
      },
      { kind: 'status', title: 'Starting Berth…', message: 'Looking for the daemon.' },
    );
    w.setTarget({ kind: 'status', title: 'x', message: 'y' });
    assert.equal(made.length, 0, 'no window before Open');
    w.open();
    assert.equal(made.length, 1);
    assert.match(made[0]!.loaded[0]!, /^data:text\/html/);
    assert.ok(decodeURIComponent(made[0]!.loaded[0]!).includes('<h1>x</h1>'));
    assert.ok(made[0]!.contents.openHandler, 'the new window is guarded');
    w.setTarget({ kind: 'daemon', url: 'http://127.0.0.1:7788/' });
    w.setTarget({ kind: 'daemon', url: 'http://127.0.0.1:7788/' });
    assert.deepEqual(made[0]!.loaded.slice(1), ['http://127.0.0.1:7788/'], 'loaded once, not reloaded for the same page');
    w.open();
    assert.deepEqual(made[0]!.shown, ['show', 'focus']);
    made[0]!.destroy();
    made[0]!.fire('closed');
    w.open();
    assert.equal(made.length, 2);
    assert.deepEqual(made[1]!.loaded, ['http://127.0.0.1:7788/']);
  });

  it('the status page escapes its text and runs no script', () => {
    const html = decodeURIComponent(statusPageUrl('<b>', '<script>alert(1)</script>').split(',')[1]!);
    assert.ok(!html.includes('<script>alert'));
    assert.ok(html.includes('&#60;script&#62;'));
    assert.match(html, /default-src 'none'/);
  });
});
