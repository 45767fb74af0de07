// The desktop app's preload bridge, where there is one. In the Electron window
// the preload puts it on `window.berthDesktop`; a plain browser has none, and
// then every desktop-only part of the UI stays hidden. Only the bridge's types
// come from main/ (a type-only import: no code of main/ reaches the bundle).
import type { BerthDesktop, BRIDGE_KEY } from '../../main/bridge.js';

export type { BerthDesktop, DesktopSettingKey, DesktopSettingsPatch, DesktopSettingsView, EngineMode, SettingsAnswer } from '../../main/bridge.js';

// Spelled out here because the renderer imports no value from main/; typed by
// main's constant, so renaming the key there fails to compile here.
const KEY: typeof BRIDGE_KEY = 'berthDesktop';

/** The bridge in the desktop window, null in a browser. */
export function desktopBridge(): BerthDesktop | null {
  const bridge = (globalThis as Record<string, unknown>)[KEY];
  return typeof bridge === 'object' && bridge !== null ? (bridge as BerthDesktop) : null;
}
