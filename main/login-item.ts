// "Launch at login". macOS and Windows have app.setLoginItemSettings; on
// Linux Electron's call does nothing, so the app writes the XDG autostart
// entry itself (Ollama's Linux build has no tray at all, let alone this).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from 'electron';

export interface LoginItem {
  isEnabled(): boolean;
  set(on: boolean): void;
}

/** The part of `app` the login item uses on macOS and Windows. */
export type LoginItemApp = Pick<App, 'setLoginItemSettings' | 'getLoginItemSettings'>;

export const AUTOSTART_FILE = 'dev.berth.app.desktop';

/** Started at login: the app goes straight to the tray, without opening its window. */
export const HIDDEN_ARG = '--hidden';

/**
 * Quotes one Exec argument as the Desktop Entry spec asks: inside double
 * quotes, `"`, `` ` ``, `$` and `\` are backslash-escaped.
 */
export function desktopExecArg(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replace(/["`$\\]/g, (c) => `\\${c}`)}"`;
}

export function autostartEntry(command: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Berth',
    'Comment=Local serving daemon for vLLM and SGLang',
    `Exec=${command.map(desktopExecArg).join(' ')}`,
    'Icon=berth',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/**
 * `command` is what starts this app: the AppImage (its path is in $APPIMAGE,
 * since the mounted squashfs path changes at every run), the installed
 * binary, or electron plus the app folder in development.
 */
export function loginItem(opts: { platform: NodeJS.Platform; app: LoginItemApp; autostartDir: string; command: readonly string[] }): LoginItem {
  if (opts.platform === 'win32') {
    // Windows matches the registry entry by path and args: query with the same args that were set.
    const args = [HIDDEN_ARG];
    return {
      isEnabled: () => opts.app.getLoginItemSettings({ args }).openAtLogin,
      set: (on) => opts.app.setLoginItemSettings({ openAtLogin: on, args }),
    };
  }
  if (opts.platform !== 'linux') {
    // macOS tells the app it was opened at login (wasOpenedAtLogin) instead of passing an argument.
    return {
      isEnabled: () => opts.app.getLoginItemSettings().openAtLogin,
      set: (on) => opts.app.setLoginItemSettings({ openAtLogin: on }),
    };
  }
  const file = join(opts.autostartDir, AUTOSTART_FILE);
  return {
    isEnabled: () => existsSync(file),
    set(on) {
      if (on) {
        mkdirSync(opts.autostartDir, { recursive: true });
        writeFileSync(file, autostartEntry([...opts.command, HIDDEN_ARG]));
      } else rmSync(file, { force: true });
    },
  };
}

/** $XDG_CONFIG_HOME/autostart, or ~/.config/autostart. */
export function xdgAutostartDir(env: NodeJS.ProcessEnv, home: string): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(home, '.config');
  return join(base, 'autostart');
}
