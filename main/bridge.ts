// The one definition of what the desktop window's page may ask of Electron
// main: the preload builds it, main answers it (ipc.ts), and the renderer
// reads its type (`window.berthDesktop`, absent in a plain browser). It
// imports nothing, so the sandboxed preload bundle stays tiny and the
// renderer's DOM-only tsconfig can import it too.

/** Where the renderer finds the bridge: `window[BRIDGE_KEY]`, undefined outside the desktop app. */
export const BRIDGE_KEY = 'berthDesktop';

/** The IPC channels, main's handlers and the preload's calls share these names. */
export const CHANNELS = {
  openExternal: 'berth:open-external',
  getSettings: 'berth:settings:get',
  updateSettings: 'berth:settings:update',
  setHfToken: 'berth:settings:hf-token',
} as const;

/** Passed to the preload through `webPreferences.additionalArguments` (a sandboxed preload can read argv, not the app). */
export const VERSION_ARG = '--berth-app-version=';

export type EngineMode = 'process' | 'container';

/** The desktop app's own settings as the window shows them. The Hugging Face token never leaves main. */
export interface DesktopSettingsView {
  /** The port the app attaches to, or spawns the daemon on. */
  daemonPort: number;
  launchAtLogin: boolean;
  /** Leave the daemon (and its models) running when the app quits; only a daemon the app started is ever stopped. */
  keepRunningOnQuit: boolean;
  /** null: the daemon's own default (`python3`, or BERTH_VLLM_PYTHON). */
  vllmPython: string | null;
  sglangPython: string | null;
  /** What the new-deployment form pre-selects. */
  defaultMode: EngineMode;
  /** Whether a Hugging Face token is stored (in the OS keychain through safeStorage); the token itself is never sent. */
  hfTokenSet: boolean;
  /** false where the OS offers no keychain: a token cannot be stored then. */
  encryptionAvailable: boolean;
  /** Fields saved since the daemon started that apply when the app next starts it. */
  pendingRestart: DesktopSettingKey[];
}

export type DesktopSettingKey = 'daemonPort' | 'launchAtLogin' | 'keepRunningOnQuit' | 'vllmPython' | 'sglangPython' | 'defaultMode' | 'hfToken';

/** A partial update; `null` on a path resets it to the daemon's default. */
export interface DesktopSettingsPatch {
  daemonPort?: number;
  launchAtLogin?: boolean;
  keepRunningOnQuit?: boolean;
  vllmPython?: string | null;
  sglangPython?: string | null;
  defaultMode?: EngineMode;
}

/** Main's answer to a settings change: the new view, or why not, naming the field (the API's envelope). */
export type SettingsAnswer =
  | { ok: true; settings: DesktopSettingsView }
  | { ok: false; error: { code: string; message: string; field?: string } };

/** `window.berthDesktop` in the desktop window. */
export interface BerthDesktop {
  /** The desktop app's version (package.json). */
  readonly version: string;
  /** Node's platform name: 'linux', 'darwin', 'win32'. */
  readonly platform: string;
  /** Opens an http(s) URL in the user's browser; anything else is refused. */
  openExternal(url: string): Promise<void>;
  getSettings(): Promise<DesktopSettingsView>;
  updateSettings(patch: DesktopSettingsPatch): Promise<SettingsAnswer>;
  /** Stores the token through safeStorage, or removes it with null. */
  setHfToken(token: string | null): Promise<SettingsAnswer>;
}

/** Only web links leave the app; `file:`, `javascript:` and custom schemes never reach the OS. */
export function isWebUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * The bridge object the preload exposes. `invoke` is ipcRenderer.invoke;
 * taken as a parameter so this runs (and is tested) without Electron.
 */
export function createDesktopApi(invoke: (channel: string, ...args: unknown[]) => Promise<unknown>, argv: readonly string[], platform: string): BerthDesktop {
  const version = argv.find((a) => a.startsWith(VERSION_ARG))?.slice(VERSION_ARG.length) ?? 'unknown';
  return Object.freeze({
    version,
    platform,
    async openExternal(url: string) {
      // Checked here too, so a refused URL fails in the page without a round trip; main checks again.
      if (typeof url !== 'string' || !isWebUrl(url)) throw new TypeError('openExternal: only http(s) URLs');
      await invoke(CHANNELS.openExternal, url);
    },
    getSettings: () => invoke(CHANNELS.getSettings) as Promise<DesktopSettingsView>,
    updateSettings: (patch: DesktopSettingsPatch) => invoke(CHANNELS.updateSettings, patch) as Promise<SettingsAnswer>,
    setHfToken: (token: string | null) => invoke(CHANNELS.setHfToken, token) as Promise<SettingsAnswer>,
  });
}
