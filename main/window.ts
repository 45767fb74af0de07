// The Berth window: the daemon's own UI bundle, loaded from the daemon's
// origin, in a renderer with no Node, sandboxed, that may talk to nothing but
// that origin. Every decision is a pure function (options, navigation,
// requests, permissions) so it is tested without Electron; `guardContents`
// and `guardSession` only wire them to Electron's hooks.
import type { BrowserWindow, BrowserWindowConstructorOptions, Session, WebContents } from 'electron';
import { VERSION_ARG } from './bridge.js';

/** `http://127.0.0.1:7788` for a daemon on that port: the only origin the window trusts. */
export function daemonOrigin(port: number): string {
  return `http://127.0.0.1:${port}`;
}

function originOf(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

export function windowOptions(o: { preload: string; appVersion: string; icon?: string }): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    // The UI is usable in a narrow window (issue 15); below this it is not.
    minWidth: 420,
    minHeight: 480,
    title: 'Berth',
    show: false,
    autoHideMenuBar: true,
    ...(o.icon ? { icon: o.icon } : {}),
    webPreferences: {
      preload: o.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      // A file dropped on the window would otherwise navigate to file://.
      navigateOnDragDrop: false,
      spellcheck: false,
      additionalArguments: [`${VERSION_ARG}${o.appVersion}`],
    },
  };
}

/** What a child window opened by the UI (same origin only) gets: the same locks, no preload. */
export function childWindowOptions(o: { appVersion: string }): BrowserWindowConstructorOptions {
  const { webPreferences, ...rest } = windowOptions({ preload: '', appVersion: o.appVersion });
  const { preload: _none, ...prefs } = webPreferences!;
  return { ...rest, show: true, webPreferences: prefs };
}

export type NavigationVerdict = 'allow' | 'external' | 'deny';

/**
 * A navigation or window.open target: the daemon's origin stays in the app,
 * a web link goes to the user's browser, anything else (file:, javascript:,
 * custom schemes) goes nowhere.
 */
export function navigationVerdict(target: string, origin: string): NavigationVerdict {
  const u = originOf(target);
  if (!u) return 'deny';
  if (u.origin === origin) return 'allow';
  if (u.protocol === 'http:' || u.protocol === 'https:') return 'external';
  return 'deny';
}

/**
 * A request the renderer makes (page, script, fetch, EventSource, image,
 * WebSocket): to the daemon's origin, or local-only schemes (data:, and
 * devtools: so DevTools still opens). A blob: URL's origin is its creator's.
 */
export function requestAllowed(url: string, origin: string): boolean {
  const u = originOf(url);
  if (!u) return false;
  if (u.origin === origin) return true;
  const o = new URL(origin);
  if (u.protocol === 'ws:' && u.host === o.host) return true;
  return u.protocol === 'data:' || u.protocol === 'devtools:';
}

// The one permission the UI uses: the "copy" buttons (the endpoint URL, the
// doctor's one-line fix). Camera, notifications, geolocation and the rest are
// never granted, to the daemon's page or any other.
const GRANTED = new Set<string>(['clipboard-sanitized-write']);

export function permissionAllowed(permission: string, requestingUrl: string, origin: string): boolean {
  return GRANTED.has(permission) && originOf(requestingUrl)?.origin === origin;
}

/** The hooks of a WebContents the guards use. */
export type GuardedContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/** Navigation, redirects, window.open and webviews of one WebContents, and of the windows it opens. */
export interface GuardOptions {
  origin: string;
  openExternal(url: string): void;
  childOptions: BrowserWindowConstructorOptions;
}

export function guardContents(contents: GuardedContents, opts: GuardOptions): void {
  // will-frame-navigate covers the main frame and iframes; only a click in the
  // main frame sends a link to the browser, an iframe is just stopped.
  contents.on('will-frame-navigate', (event) => {
    const verdict = navigationVerdict(event.url, opts.origin);
    if (verdict === 'allow') return;
    event.preventDefault();
    if (verdict === 'external' && event.isMainFrame) opts.openExternal(event.url);
  });
  // A redirect is the server's choice, not the user's: stop it, open nothing.
  contents.on('will-redirect', (event) => {
    if (navigationVerdict(event.url, opts.origin) !== 'allow') event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    const verdict = navigationVerdict(url, opts.origin);
    if (verdict === 'allow') return { action: 'allow', overrideBrowserWindowOptions: opts.childOptions };
    if (verdict === 'external') opts.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('did-create-window', (child) => guardContents(child.webContents, opts));
}

/** The hooks of a Session the guards use. */
export type GuardedSession = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'> & {
  webRequest: Pick<Session['webRequest'], 'onBeforeRequest'>;
};

/** Permissions and requests for every page in the session. */
export function guardSession(session: GuardedSession, origin: string): void {
  session.setPermissionRequestHandler((contents, permission, callback, details) => {
    callback(permissionAllowed(permission, details.requestingUrl ?? contents.getURL(), origin));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => permissionAllowed(permission, requestingOrigin, origin));
  session.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !requestAllowed(details.url, origin) }));
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * What the window shows while there is no daemon to load the UI from
 * (starting, another service on the port, unreachable): a static page with
 * no script, as a data: URL, so it needs no origin of its own.
 */
export function statusPageUrl(title: string, message: string): string {
  const html = `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Berth</title><style>
:root{color-scheme:light dark;font-family:system-ui,sans-serif}
body{display:grid;place-items:center;min-height:90vh;margin:0}
main{max-width:36rem;padding:2rem}h1{font-size:1.25rem}p{line-height:1.5}
</style></head><body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main></body></html>`;
  return `data:text/html;charset=utf-8,${encodeURIComponent(html)}`;
}

/** The window's page for a daemon status: its UI, or a status page saying why not. */
export type WindowTarget = { kind: 'daemon'; url: string } | { kind: 'status'; title: string; message: string };

export type WindowHandle = Pick<BrowserWindow, 'loadURL' | 'show' | 'focus' | 'isMinimized' | 'restore' | 'isDestroyed' | 'once'> & {
  webContents: GuardedContents;
};

/**
 * One window at most. Closing it destroys it (the tray keeps the app; a
 * hidden Chromium page would hold memory for nothing); "Open Berth" makes a
 * new one.
 */
export class MainWindow {
  private win: WindowHandle | null = null;
  private loaded: string | null = null;
  private target: WindowTarget;

  constructor(
    private readonly deps: {
      create(options: BrowserWindowConstructorOptions): WindowHandle;
      options: BrowserWindowConstructorOptions;
      guard: GuardOptions;
    },
    initial: WindowTarget,
  ) {
    this.target = initial;
  }

  /** Show (creating if needed) and focus the window. */
  open(): void {
    if (!this.win || this.win.isDestroyed()) {
      const win = this.deps.create(this.deps.options);
      guardContents(win.webContents, this.deps.guard);
      win.once('ready-to-show', () => win.show());
      win.once('closed', () => {
        if (this.win === win) {
          this.win = null;
          this.loaded = null;
        }
      });
      this.win = win;
      this.load();
      return;
    }
    if (this.win.isMinimized()) this.win.restore();
    this.win.show();
    this.win.focus();
  }

  /** The daemon came up, moved or went away: reload only when the page must change. */
  setTarget(target: WindowTarget): void {
    this.target = target;
    if (this.win && !this.win.isDestroyed()) this.load();
  }

  private load(): void {
    const url = this.target.kind === 'daemon' ? this.target.url : statusPageUrl(this.target.title, this.target.message);
    if (url === this.loaded) return;
    this.loaded = url;
    // A failed load (the daemon went away mid-load) shows Chromium's error page; the next status change reloads.
    void this.win!.loadURL(url).catch(() => {});
  }
}
