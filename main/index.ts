// Electron's entry: single instance, the lifecycle, and the construction of
// Electron's objects. What the app does lives in desktop.ts and the modules
// it uses, which take these objects as parameters and run under test with
// fakes; nothing here decides anything.
import { join } from 'node:path';
import { BrowserWindow, Menu, Notification, Tray, app, clipboard, ipcMain, nativeImage, safeStorage, session, shell } from 'electron';
import ElectronStore from 'electron-store';
import { DaemonProcess, daemonEnv } from './daemon-process.js';
import { Desktop } from './desktop.js';
import { registerIpc } from './ipc.js';
import { HIDDEN_ARG, loginItem, xdgAutostartDir } from './login-item.js';
import { appPaths, portFromEnv } from './paths.js';
import { DesktopSettings, keychainOnly } from './settings.js';
import { iconFile } from './tray.js';
import { childWindowOptions, daemonOrigin, guardSession, MainWindow, windowOptions } from './window.js';

if (!app.requestSingleInstanceLock()) {
  // Another Berth holds the lock; it gets 'second-instance' and shows its window.
  app.quit();
} else {
  let desktop: Desktop | null = null;
  let window: MainWindow | null = null;
  let quitReady = false;

  app.on('second-instance', () => window?.open());
  // The app lives in the tray: closing the last window must not quit it.
  app.on('window-all-closed', () => {});
  app.on('activate', () => window?.open());
  app.on('before-quit', (event) => {
    if (quitReady || !desktop) return;
    event.preventDefault();
    void desktop.beforeQuit().finally(() => {
      quitReady = true;
      app.quit();
    });
  });

  void app.whenReady().then(() => {
    const paths = appPaths(app.getAppPath());
    const login = loginItem({
      platform: process.platform,
      app,
      autostartDir: xdgAutostartDir(process.env, app.getPath('home')),
      // The AppImage's own path (the mounted one changes every run), the installed binary, or electron + the app in development.
      command: app.isPackaged ? [process.env.APPIMAGE ?? process.execPath] : [process.execPath, app.getAppPath()],
    });
    const settings = new DesktopSettings(new ElectronStore({ name: 'settings', configFileMode: 0o600 }), keychainOnly(safeStorage, process.platform), {
      launchAtLogin: (on) => login.set(on),
    });
    // The OS is the truth for login items: the user may have changed it in System Settings.
    const osLogin = login.isEnabled();
    if (osLogin !== settings.values().launchAtLogin) settings.update({ launchAtLogin: osLogin });
    for (const w of settings.warnings) console.warn(`berth: ${w}`);

    const port = portFromEnv(process.env.BERTH_PORT) ?? settings.values().daemonPort;
    const apiKey = process.env.BERTH_API_KEY || null;
    const origin = daemonOrigin(port);
    const daemon = new DaemonProcess(() => {
      const v = settings.values();
      return {
        port,
        execPath: process.execPath,
        entry: paths.daemonEntry,
        env: daemonEnv(process.env, { port, vllmPython: v.vllmPython, sglangPython: v.sglangPython }, settings.hfToken()),
        logFile: join(app.getPath('logs'), 'daemon.log'),
        apiKey,
      };
    });

    guardSession(session.defaultSession, origin);
    const openExternal = (url: string) => shell.openExternal(url);
    window = new MainWindow(
      {
        create: (options) => new BrowserWindow(options),
        options: windowOptions({ preload: paths.preload, appVersion: app.getVersion() }),
        guard: { origin, openExternal: (url) => void openExternal(url), childOptions: childWindowOptions({ appVersion: app.getVersion() }) },
      },
      { kind: 'status', title: 'Starting Berth…', message: 'Looking for the Berth daemon.' },
    );
    registerIpc(ipcMain, { settings, openExternal, origin });

    const iconPath = (icon: Parameters<typeof iconFile>[1]) => iconFile(paths.icons, icon, process.platform);
    const tray = new Tray(nativeImage.createFromPath(iconPath('starting')));
    const mainWindow = window;
    desktop = new Desktop({
      apiKey,
      settings,
      daemon,
      tray: {
        setImage: (image) => tray.setImage(typeof image === 'string' ? nativeImage.createFromPath(image) : image),
        setToolTip: (text) => tray.setToolTip(text),
        setContextMenu: (menu) => tray.setContextMenu(menu),
      },
      buildMenu: (template) => Menu.buildFromTemplate(template),
      iconPath,
      window: mainWindow,
      clipboard,
      notify: (title, body) => {
        if (Notification.isSupported()) new Notification({ title, body }).show();
        else console.warn(`berth: ${title}: ${body}`);
      },
      quit: () => app.quit(),
    });
    // macOS opens the menu on click; elsewhere a click opens the window.
    if (process.platform !== 'darwin') tray.on('click', () => mainWindow.open());

    const atLogin = process.argv.includes(HIDDEN_ARG) || (process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin);
    if (!atLogin) mainWindow.open();
    void desktop.start();
  });
}
