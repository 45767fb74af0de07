// A fake of the `electron` module for running the built main process in
// plain Node: every object main/index.ts (and electron-store) touches, each
// call written as one JSON line to stdout ({"call": ..., ...}) so a test can
// follow what the app did. Lines on stdin drive it like a user:
//   click <label>   click the tray menu item with this label (submenus searched)
//   quit            app.quit()
// FAKE_ELECTRON_APP_PATH: app.getAppPath() (the repository); FAKE_ELECTRON_USER_DATA: app.getPath(*).
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';

const record = (call, data = {}) => process.stdout.write(`${JSON.stringify({ call, ...data })}\n`);

class FakeApp extends EventEmitter {
  isPackaged = false;
  #ready = Promise.resolve();
  requestSingleInstanceLock() {
    record('app.requestSingleInstanceLock');
    return true;
  }
  whenReady() {
    return this.#ready;
  }
  getAppPath() {
    return process.env.FAKE_ELECTRON_APP_PATH;
  }
  getPath(name) {
    return `${process.env.FAKE_ELECTRON_USER_DATA}/${name}`;
  }
  getVersion() {
    return '0.1.0';
  }
  getLoginItemSettings() {
    return { openAtLogin: false, wasOpenedAtLogin: false };
  }
  setLoginItemSettings(s) {
    record('app.setLoginItemSettings', { settings: s });
  }
  quit() {
    record('app.quit');
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (prevented) return;
    record('app.exit');
    process.exit(0);
  }
}
export const app = new FakeApp();

export const ipcMain = {
  handle: (channel) => record('ipcMain.handle', { channel }),
  on: (channel) => record('ipcMain.on', { channel }),
};

export const safeStorage = {
  isEncryptionAvailable: () => false,
  getSelectedStorageBackend: () => 'basic_text',
  encryptString: () => {
    throw new Error('no keychain in the fake');
  },
  decryptString: () => {
    throw new Error('no keychain in the fake');
  },
};

export const session = {
  defaultSession: {
    setPermissionRequestHandler: () => record('session.setPermissionRequestHandler'),
    setPermissionCheckHandler: () => record('session.setPermissionCheckHandler'),
    webRequest: { onBeforeRequest: () => record('session.webRequest.onBeforeRequest') },
  },
};

export const shell = { openExternal: async (url) => record('shell.openExternal', { url }) };
export const clipboard = { writeText: (text) => record('clipboard.writeText', { text }) };
export const nativeImage = { createFromPath: (path) => ({ path }) };

export class Notification {
  static isSupported() {
    return false;
  }
}

let lastMenu = [];
export const Menu = {
  buildFromTemplate(template) {
    lastMenu = template;
    return template;
  },
};

const labels = (items) => items.flatMap((i) => (i.type === 'separator' ? ['---'] : [String(i.label), ...(Array.isArray(i.submenu) ? labels(i.submenu).map((l) => `${i.label} > ${l}`) : [])]));

export class Tray {
  constructor(image) {
    record('new Tray', { image: image.path });
  }
  setImage(image) {
    record('tray.setImage', { image: image.path });
  }
  setToolTip(text) {
    record('tray.setToolTip', { text });
  }
  setContextMenu(menu) {
    record('tray.setContextMenu', { labels: labels(menu) });
  }
  on(event) {
    record('tray.on', { event });
  }
}

export class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    record('new BrowserWindow', { options });
    this.webContents = {
      on: (event) => record('webContents.on', { event }),
      setWindowOpenHandler: () => record('webContents.setWindowOpenHandler'),
    };
    setImmediate(() => this.emit('ready-to-show'));
  }
  async loadURL(url) {
    record('window.loadURL', { url: url.startsWith('data:') ? 'data:…' : url });
  }
  show() {
    record('window.show');
  }
  focus() {}
  isMinimized() {
    return false;
  }
  restore() {}
  isDestroyed() {
    return false;
  }
}

function click(label, items = lastMenu) {
  for (const i of items) {
    if (i.label === label && typeof i.click === 'function') return i.click(), true;
    if (Array.isArray(i.submenu) && click(label, i.submenu)) return true;
  }
  return false;
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'quit') app.quit();
  else if (line.startsWith('click ')) record('click', { label: line.slice(6), found: click(line.slice(6)) });
});

export default { app, ipcMain, safeStorage, session, shell, clipboard, nativeImage, Notification, Menu, Tray, BrowserWindow };
