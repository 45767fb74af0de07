// The "Desktop app" section of the settings page as data: the desktop app's
// own settings (kept by Electron main, reached through the preload bridge),
// what each input holds, the patch a save sends, and main's refusals put on
// their fields. The checks mirror main/settings.ts, which has the last word.
// Pure: only the bridge's types come in.
import type { DesktopSettingKey, DesktopSettingsPatch, DesktopSettingsView, EngineMode, SettingsAnswer } from '../desktop-bridge.js';

/** What each input holds: text as typed, switches as they are. An empty Python means the daemon's default. */
export interface DesktopDraft {
  daemonPort: string;
  launchAtLogin: boolean;
  keepRunningOnQuit: boolean;
  vllmPython: string;
  sglangPython: string;
  defaultMode: EngineMode;
}

export type DesktopDraftKey = keyof DesktopDraft;
export type DesktopErrors = Partial<Record<DesktopSettingKey, string>>;

/**
 * When a saved value takes effect. The app reads the port when it starts, and
 * hands the Pythons and the token to the daemon it spawns as environment
 * variables: a daemon it attaches to (`berth serve`, a service) never gets them.
 */
export type Applies = 'now' | 'app-start' | 'spawned-daemon';

export interface DesktopField {
  key: DesktopDraftKey;
  label: string;
  hint: string;
  applies: Applies;
}

export const DESKTOP_FIELDS: readonly DesktopField[] = [
  {
    key: 'daemonPort',
    label: 'Daemon port',
    hint: "Where the app looks for a Berth daemon, and starts one when none answers. It wins over the daemon's own Port setting for a daemon the app starts.",
    applies: 'app-start',
  },
  { key: 'launchAtLogin', label: 'Launch at login', hint: 'Start the app in the tray when you log in.', applies: 'now' },
  {
    key: 'keepRunningOnQuit',
    label: 'Keep models running after quit',
    hint: 'Leave the daemon the app started, and its models, running when the app quits. A daemon the app did not start is never stopped.',
    applies: 'now',
  },
  {
    key: 'vllmPython',
    label: 'vLLM Python (desktop app)',
    hint: "The python of vLLM's virtualenv, passed as BERTH_VLLM_PYTHON: it wins over the daemon's own vLLM Python setting. Empty: the daemon's setting.",
    applies: 'spawned-daemon',
  },
  {
    key: 'sglangPython',
    label: 'SGLang Python (desktop app)',
    hint: "The python of SGLang's virtualenv, passed as BERTH_SGLANG_PYTHON: it wins over the daemon's own SGLang Python setting. Empty: the daemon's setting.",
    applies: 'spawned-daemon',
  },
  { key: 'defaultMode', label: 'Default mode', hint: 'What a new deployment starts with in its form.', applies: 'now' },
];

export const APPLIES_NOTE: Record<Applies, string | null> = {
  now: null,
  'app-start': 'Applies the next time the app starts.',
  'spawned-daemon': 'Applies to a daemon the app starts, not to one it attaches to (berth serve, a service).',
};

/** Said on a field saved since the running daemon started, which it does not have yet. */
export const PENDING_NOTE = 'applies when the app next starts the daemon';

export function pendingNote(view: Pick<DesktopSettingsView, 'pendingRestart'>, key: DesktopSettingKey): string | null {
  return view.pendingRestart.includes(key) ? PENDING_NOTE : null;
}

/** What a save says: which saved fields the running daemon does not have yet, by their labels. */
export function savedMessage(view: Pick<DesktopSettingsView, 'pendingRestart'>): string {
  const labels = DESKTOP_FIELDS.filter((f) => view.pendingRestart.includes(f.key)).map((f) => f.label);
  return labels.length ? `Saved. ${labels.join(', ')}: ${PENDING_NOTE}.` : 'Saved.';
}

export function desktopDraftOf(view: DesktopSettingsView): DesktopDraft {
  return {
    daemonPort: String(view.daemonPort),
    launchAtLogin: view.launchAtLogin,
    keepRunningOnQuit: view.keepRunningOnQuit,
    vllmPython: view.vllmPython ?? '',
    sglangPython: view.sglangPython ?? '',
    defaultMode: view.defaultMode,
  };
}

function port(raw: string): { value: number } | { error: string } {
  const t = raw.trim();
  if (!/^\d+$/.test(t)) return { error: 'expected a whole number' };
  const n = Number(t);
  return n >= 1 && n <= 65535 ? { value: n } : { error: 'must be 1..65535' };
}

// The path travels in an environment variable: a NUL would cut it short, a
// line break would make it a different path than the one shown.
function python(raw: string): { value: string | null } | { error: string } {
  const t = raw.trim();
  if (!t) return { value: null };
  if (/[\0\r\n]/.test(t)) return { error: 'must not contain control characters' };
  if (t.length > 4096) return { error: 'at most 4096 characters' };
  return { value: t };
}

/** The patch a save sends: each field that differs from the saved view; errors for fields that cannot be sent. */
export function desktopPatch(view: DesktopSettingsView, draft: DesktopDraft): { patch: DesktopSettingsPatch; errors: DesktopErrors } {
  const patch: DesktopSettingsPatch = {};
  const errors: DesktopErrors = {};
  const p = port(draft.daemonPort);
  if ('error' in p) errors.daemonPort = p.error;
  else if (p.value !== view.daemonPort) patch.daemonPort = p.value;
  for (const key of ['vllmPython', 'sglangPython'] as const) {
    const r = python(draft[key]);
    if ('error' in r) errors[key] = r.error;
    else if (r.value !== view[key]) patch[key] = r.value;
  }
  if (draft.launchAtLogin !== view.launchAtLogin) patch.launchAtLogin = draft.launchAtLogin;
  if (draft.keepRunningOnQuit !== view.keepRunningOnQuit) patch.keepRunningOnQuit = draft.keepRunningOnQuit;
  if (draft.defaultMode !== view.defaultMode) patch.defaultMode = draft.defaultMode;
  return { patch, errors };
}

const SETTING_KEYS: readonly DesktopSettingKey[] = ['daemonPort', 'launchAtLogin', 'keepRunningOnQuit', 'vllmPython', 'sglangPython', 'defaultMode', 'hfToken'];
const isSettingKey = (k: string | undefined): k is DesktopSettingKey => SETTING_KEYS.includes(k as DesktopSettingKey);

/**
 * Main's refusal, on the field it names (its message without the `field: `
 * prefix the field already says), or for the whole section (`form`).
 */
export function answerErrors(answer: Extract<SettingsAnswer, { ok: false }>): { fields: DesktopErrors; form: string | null } {
  const { field, message } = answer.error;
  if (!isSettingKey(field)) return { fields: {}, form: message };
  const text = message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
  return { fields: { [field]: text }, form: null };
}

/** A token as main will take it: printable ASCII without spaces (a Hugging Face token is hf_...). */
export function checkToken(raw: string): { token: string } | { error: string } {
  const t = raw.trim();
  if (!t) return { error: 'enter a token' };
  if (t.length > 1024) return { error: 'at most 1024 characters' };
  if (!/^[\x21-\x7e]+$/.test(t)) return { error: 'printable characters without spaces only (a Hugging Face token is hf_...)' };
  return { token: t };
}

export interface TokenState {
  /** What the section says about the stored token; never the token. */
  status: string;
  canStore: boolean;
  canClear: boolean;
  /** Why a token cannot be stored here, where it cannot. */
  blocked: string | null;
}

export const NO_KEYCHAIN =
  'This system offers no keychain, so the app cannot store a token (on Linux, install and unlock a Secret Service such as GNOME Keyring or KWallet, then restart the app). Meanwhile, set HF_TOKEN in the environment the app starts from.';

export function tokenState(view: Pick<DesktopSettingsView, 'hfTokenSet' | 'encryptionAvailable'>): TokenState {
  return {
    status: view.hfTokenSet ? 'A token is stored in the OS keychain.' : 'No token stored.',
    canStore: view.encryptionAvailable,
    canClear: view.hfTokenSet,
    blocked: view.encryptionAvailable ? null : NO_KEYCHAIN,
  };
}
