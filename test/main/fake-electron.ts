// A fake of the few Electron objects main/ takes as parameters: plain objects
// that record what they were asked to do. Each is cast to the narrow Electron
// type the module declares (Pick<Tray, ...>, Pick<WebContents, ...>), since
// Electron's own classes carry hundreds of overloads a fake has no use for.
import type { Menu, MenuItemConstructorOptions } from 'electron';
import type { SecretBox } from '../../main/settings.js';
import type { GuardedContents, GuardedSession } from '../../main/window.js';
import type { TrayHandle } from '../../main/tray.js';

/**
 * safeStorage: "encrypts" by flipping bits (enough that the plain text is
 * not in the ciphertext) and records every call.
 */
export class FakeSafeStorage implements SecretBox {
  readonly encrypted: string[] = [];
  backend: 'basic_text' | 'gnome_libsecret' | 'kwallet' | 'kwallet5' | 'kwallet6' | 'unknown' = 'gnome_libsecret';
  constructor(public available = true) {}
  isEncryptionAvailable(): boolean {
    return this.available;
  }
  encryptString(text: string): Buffer {
    if (!this.available) throw new Error('encryption is not available');
    this.encrypted.push(text);
    return Buffer.from(Buffer.from(text, 'utf8').map((b) => b ^ 0xa5));
  }
  decryptString(data: Buffer): string {
    return Buffer.from(data.map((b) => b ^ 0xa5)).toString('utf8');
  }
  getSelectedStorageBackend() {
    return this.backend;
  }
}

/** What Menu.buildFromTemplate got: the fake "menu" is the template itself. */
export const buildMenu = (template: MenuItemConstructorOptions[]) => template as unknown as Menu;

export class FakeTray {
  readonly calls: { method: 'setImage' | 'setToolTip' | 'setContextMenu'; arg: unknown }[] = [];
  image: string | null = null;
  tooltip: string | null = null;
  menu: MenuItemConstructorOptions[] | null = null;
  readonly handle = {
    setImage: (image: unknown) => {
      this.calls.push({ method: 'setImage', arg: image });
      this.image = String(image);
    },
    setToolTip: (text: string) => {
      this.calls.push({ method: 'setToolTip', arg: text });
      this.tooltip = text;
    },
    setContextMenu: (menu: unknown) => {
      this.calls.push({ method: 'setContextMenu', arg: menu });
      this.menu = menu as MenuItemConstructorOptions[];
    },
  } as unknown as TrayHandle;

  /** The menu's labels, submenus as "label > child". */
  labels(items = this.menu ?? []): string[] {
    return items.flatMap((i) => {
      if (i.type === 'separator') return ['---'];
      const sub = Array.isArray(i.submenu) ? this.labels(i.submenu as MenuItemConstructorOptions[]).map((l) => `${i.label} > ${l}`) : [];
      return [String(i.label), ...sub];
    });
  }

  /** Clicks the item with this label (searching submenus). */
  click(label: string, items = this.menu ?? []): void {
    for (const i of items) {
      if (i.label === label) {
        if (i.enabled === false) throw new Error(`"${label}" is disabled`);
        (i.click as () => void)();
        return;
      }
      if (Array.isArray(i.submenu)) {
        try {
          return this.click(label, i.submenu as MenuItemConstructorOptions[]);
        } catch (err) {
          if (!(err as Error).message.startsWith('no item')) throw err;
        }
      }
    }
    throw new Error(`no item "${label}" in ${JSON.stringify(this.labels(items))}`);
  }
}

export interface FakeNavEvent {
  url: string;
  isMainFrame: boolean;
  prevented: boolean;
  preventDefault(): void;
}

export function navEvent(url: string, isMainFrame = true): FakeNavEvent {
  return {
    url,
    isMainFrame,
    prevented: false,
    preventDefault() {
      this.prevented = true;
    },
  };
}

/** WebContents: the listeners and the window-open handler the guards install, to fire by hand. */
export class FakeWebContents {
  readonly listeners = new Map<string, ((...args: unknown[]) => void)[]>();
  openHandler: ((details: { url: string }) => { action: 'allow' | 'deny'; overrideBrowserWindowOptions?: unknown }) | null = null;
  readonly handle = {
    on: (event: string, fn: (...args: unknown[]) => void) => {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
      return this.handle;
    },
    setWindowOpenHandler: (fn: FakeWebContents['openHandler']) => {
      this.openHandler = fn;
    },
  } as unknown as GuardedContents;

  emit(event: string, ...args: unknown[]): void {
    for (const fn of this.listeners.get(event) ?? []) fn(...args);
  }
}

export class FakeSession {
  requestHandler: ((contents: unknown, permission: string, callback: (granted: boolean) => void, details: { requestingUrl?: string }) => void) | null = null;
  checkHandler: ((contents: unknown, permission: string, origin: string) => boolean) | null = null;
  beforeRequest: ((details: { url: string }, callback: (r: { cancel?: boolean }) => void) => void) | null = null;
  readonly handle = {
    setPermissionRequestHandler: (fn: FakeSession['requestHandler']) => (this.requestHandler = fn),
    setPermissionCheckHandler: (fn: FakeSession['checkHandler']) => (this.checkHandler = fn),
    webRequest: { onBeforeRequest: (fn: FakeSession['beforeRequest']) => (this.beforeRequest = fn) },
  } as unknown as GuardedSession;

  /** Whether the session lets a request through. */
  request(url: string): boolean {
    let cancel: boolean | undefined;
    this.beforeRequest!({ url }, (r) => (cancel = r.cancel));
    return cancel !== true;
  }

  permission(permission: string, requestingUrl: string): boolean {
    let granted: boolean | undefined;
    this.requestHandler!({ getURL: () => requestingUrl }, permission, (g) => (granted = g), { requestingUrl });
    return granted === true;
  }
}
