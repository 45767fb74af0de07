// Main's side of the preload bridge (bridge.ts). Every call is checked twice:
// the sender must be a frame on the daemon's origin (a page that got into the
// window some other way gets nothing), and every argument is validated here,
// whatever the preload already checked.
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { CHANNELS, isWebUrl } from './bridge.js';
import type { DesktopSettings } from './settings.js';

export type IpcHost = Pick<IpcMain, 'handle'>;

/** The frame that sent a call, as far as the check needs it. */
export type IpcSender = Pick<IpcMainInvokeEvent, 'senderFrame'>;

export function senderAllowed(event: IpcSender, origin: string): boolean {
  const url = event.senderFrame?.url;
  if (!url) return false;
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

export function registerIpc(ipc: IpcHost, deps: { settings: DesktopSettings; openExternal(url: string): Promise<void>; origin: string }): void {
  const guarded =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (event: IpcSender, ...args: unknown[]): R => {
      if (!senderAllowed(event, deps.origin)) throw new Error('refused: this page is not the Berth daemon');
      return fn(...(args as A));
    };
  ipc.handle(
    CHANNELS.openExternal,
    guarded(async (url: unknown) => {
      if (typeof url !== 'string' || !isWebUrl(url)) throw new TypeError('openExternal: only http(s) URLs');
      await deps.openExternal(url);
    }),
  );
  ipc.handle(CHANNELS.getSettings, guarded(() => deps.settings.view()));
  ipc.handle(CHANNELS.updateSettings, guarded((patch: unknown) => deps.settings.update(patch)));
  ipc.handle(CHANNELS.setHfToken, guarded((token: unknown) => deps.settings.setHfToken(token)));
}
