// The desktop app's behaviour, with Electron's objects handed in: the daemon
// process drives the window's page and the event stream; the stream and the
// settings drive the tray; tray clicks become daemon calls. index.ts only
// builds the Electron objects and forwards lifecycle events here.
import type { Clipboard, Menu, MenuItemConstructorOptions } from 'electron';
import { ApiError } from '../daemon/contract/client.js';
import { daemonClient, followDaemon } from './daemon-client.js';
import type { DaemonProcess, DaemonStatus, QuitOutcome } from './daemon-process.js';
import type { Follower } from './event-stream.js';
import { LiveStore } from './live-store.js';
import type { DesktopSettings } from './settings.js';
import { endpointUrl, trayModel, TrayPresenter, type TrayAction, type TrayHandle, type TrayIcon } from './tray.js';
import type { WindowTarget } from './window.js';

export interface DesktopDeps {
  apiKey: string | null;
  settings: DesktopSettings;
  daemon: DaemonProcess;
  tray: TrayHandle;
  buildMenu(template: MenuItemConstructorOptions[]): Menu;
  iconPath(icon: TrayIcon): string;
  window: { open(): void; setTarget(target: WindowTarget): void };
  clipboard: Pick<Clipboard, 'writeText'>;
  /** A desktop notification, for a tray action that failed (there is no window to show it in). */
  notify(title: string, body: string): void;
  /** app.quit(): before-quit comes back through beforeQuit(). */
  quit(): void;
  /** For tests: the stream's first retry delay. */
  streamRetryMs?: number;
}

/** What the window shows for a daemon status. */
export function windowTarget(status: DaemonStatus): WindowTarget {
  switch (status.kind) {
    case 'running':
      return { kind: 'daemon', url: `${status.url}/` };
    case 'checking':
    case 'starting':
      return { kind: 'status', title: 'Starting Berth…', message: `Starting the Berth daemon on 127.0.0.1:${status.port}. This page is replaced by Berth as soon as it answers.` };
    case 'error':
      return { kind: 'status', title: 'Berth cannot start', message: `${status.message} Use "Retry" in the tray menu once that is fixed.` };
    case 'stopping':
    case 'stopped':
      return { kind: 'status', title: 'Berth is stopping', message: 'Stopping the daemon and its models.' };
  }
}

export class Desktop {
  readonly store = new LiveStore();
  private follower: Follower | null = null;
  private followed: string | null = null;
  private readonly presenter: TrayPresenter;
  private quitting: Promise<QuitOutcome> | null = null;

  constructor(private readonly deps: DesktopDeps) {
    this.presenter = new TrayPresenter(deps.tray, { buildMenu: deps.buildMenu, iconPath: deps.iconPath, dispatch: (a) => void this.dispatch(a) });
    this.store.subscribe(() => this.render());
    deps.settings.onChange(() => this.render());
    deps.daemon.onStatus((s) => this.daemonChanged(s));
  }

  /** Show the first state, then attach to or spawn the daemon. */
  async start(): Promise<DaemonStatus> {
    this.render();
    return this.deps.daemon.start();
  }

  render(): boolean {
    const v = this.deps.settings.values();
    return this.presenter.render(
      trayModel({ daemon: this.deps.daemon.status, live: this.store.state, launchAtLogin: v.launchAtLogin, keepRunningOnQuit: v.keepRunningOnQuit }),
    );
  }

  async dispatch(action: TrayAction): Promise<void> {
    const status = this.deps.daemon.status;
    switch (action.type) {
      case 'open':
        return this.deps.window.open();
      case 'copy-endpoint':
        if (status.kind === 'running') this.deps.clipboard.writeText(endpointUrl(status.port));
        return;
      case 'launch-at-login': {
        const answer = this.deps.settings.update({ launchAtLogin: action.on });
        if (!answer.ok) this.deps.notify('Launch at login', answer.error.message);
        return;
      }
      case 'retry':
        await this.deps.daemon.start();
        return;
      case 'quit':
        return this.deps.quit();
      case 'start':
      case 'stop': {
        if (status.kind !== 'running') return;
        const client = daemonClient(status.url, this.deps.apiKey);
        const params = { name: action.name };
        try {
          await (action.type === 'start' ? client.startDeployment({ params }) : client.stopDeployment({ params }));
        } catch (err) {
          // A 409 (not enough free GPUs) or a daemon gone: say it where the user clicked.
          const message = err instanceof ApiError ? err.message : (err as Error).message;
          this.deps.notify(`Could not ${action.type} ${action.name}`, message);
        }
        return;
      }
    }
  }

  /** before-quit: stop following, then stop the daemon if this app owns it and the user did not ask to keep it. */
  beforeQuit(): Promise<QuitOutcome> {
    this.quitting ??= (async () => {
      this.unfollow();
      return this.deps.daemon.quit(this.deps.settings.values().keepRunningOnQuit);
    })();
    return this.quitting;
  }

  private daemonChanged(status: DaemonStatus): void {
    this.deps.window.setTarget(windowTarget(status));
    if (status.kind === 'running') {
      if (this.followed !== status.url) {
        this.unfollow();
        this.store.reset({ kind: 'connecting' });
        this.followed = status.url;
        this.follower = followDaemon({
          baseUrl: status.url,
          apiKey: this.deps.apiKey,
          store: this.store,
          ...(this.deps.streamRetryMs !== undefined ? { initialRetryMs: this.deps.streamRetryMs } : {}),
        });
      }
      if (status.owned) this.deps.settings.markLaunched();
    } else if (status.kind !== 'stopping') {
      this.unfollow();
    }
    this.render();
  }

  private unfollow(): void {
    this.follower?.close();
    this.follower = null;
    this.followed = null;
  }
}
