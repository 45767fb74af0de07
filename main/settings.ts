// The desktop app's settings: a versioned document in electron-store, a zod
// schema per field, migrations from older documents, and the Hugging Face
// token kept only as safeStorage ciphertext (the OS keychain's key), never as
// text on disk. The store and safeStorage are injected: production passes
// electron-store and Electron's safeStorage, tests pass `conf` (electron-store's
// base, same API, plain Node) and a recording fake.
import { z } from 'zod';
import type { SafeStorage } from 'electron';
import type { DesktopSettingKey, DesktopSettingsPatch, DesktopSettingsView, SettingsAnswer } from './bridge.js';

/** What the app needs of electron-store (and of conf, its base): the whole document, written atomically. */
export interface DocumentStore {
  store: Record<string, unknown>;
  readonly path: string;
}

/** The part of Electron's safeStorage the settings use. */
export type SecretBox = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'>;

export const SETTINGS_VERSION = 1;

// A Python path is handed to the daemon in an environment variable: a NUL
// would cut it short, a newline would make a different path than the one shown.
const pythonPath = z
  .string()
  .trim()
  .min(1, 'must not be empty (null uses the default)')
  .max(4096)
  .refine((s) => !/[\0\r\n]/.test(s), 'must not contain control characters');

const FIELDS = {
  daemonPort: z.number().int('must be a whole number').min(1, 'must be 1..65535').max(65535, 'must be 1..65535'),
  launchAtLogin: z.boolean(),
  keepRunningOnQuit: z.boolean(),
  vllmPython: pythonPath.nullable(),
  sglangPython: pythonPath.nullable(),
  defaultMode: z.enum(['process', 'container']),
};

export type SettingsValues = { [K in keyof typeof FIELDS]: z.infer<(typeof FIELDS)[K]> };

export const DEFAULT_SETTINGS: SettingsValues = {
  daemonPort: 7788,
  launchAtLogin: false,
  keepRunningOnQuit: false,
  vllmPython: null,
  sglangPython: null,
  defaultMode: 'process',
};

const CIPHERTEXT = z.string().regex(/^[A-Za-z0-9+/]+=*$/, 'must be base64');

/** The document as stored (version 1). */
export interface SettingsDocV1 extends SettingsValues {
  version: 1;
  /** safeStorage.encryptString(token), base64; null when no token is stored. */
  hfTokenEncrypted: string | null;
}

const patchSchema = z.object({
  daemonPort: FIELDS.daemonPort.optional(),
  launchAtLogin: FIELDS.launchAtLogin.optional(),
  keepRunningOnQuit: FIELDS.keepRunningOnQuit.optional(),
  vllmPython: FIELDS.vllmPython.optional(),
  sglangPython: FIELDS.sglangPython.optional(),
  defaultMode: FIELDS.defaultMode.optional(),
}).strict();

const tokenSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty (null removes the token)')
  .max(1024)
  .refine((s) => /^[\x21-\x7e]+$/.test(s), 'must be printable ASCII without spaces (a Hugging Face token is hf_...)')
  .nullable();

/** What a migration may need: the keychain, to move a plain-text secret into it. */
export interface MigrationContext {
  secrets: SecretBox;
  warn(message: string): void;
}

/**
 * Version 0: the prototype's file, before it carried a version. It kept the
 * token in plain text; migrating moves it into the keychain, or drops it where
 * there is none, since keeping it readable is what the migration exists to end.
 */
interface SettingsDocV0 {
  port?: unknown;
  keepModelsRunning?: unknown;
  openAtLogin?: unknown;
  pythonPath?: unknown;
  hfToken?: unknown;
}

type Migration = (doc: Record<string, unknown>, ctx: MigrationContext) => Record<string, unknown>;

/** migrations[n] turns a version-n document into version n+1. */
const MIGRATIONS: Migration[] = [
  (raw, ctx) => {
    const v0 = raw as SettingsDocV0;
    let hfTokenEncrypted: string | null = null;
    if (typeof v0.hfToken === 'string' && v0.hfToken) {
      if (ctx.secrets.isEncryptionAvailable()) hfTokenEncrypted = ctx.secrets.encryptString(v0.hfToken).toString('base64');
      else ctx.warn('the Hugging Face token stored in plain text was removed: this system offers no keychain to keep it in; set it again where one is available');
    }
    // The one Python of v0 ran both engines.
    const python = typeof v0.pythonPath === 'string' && v0.pythonPath ? v0.pythonPath : null;
    return {
      version: 1,
      daemonPort: v0.port,
      launchAtLogin: v0.openAtLogin,
      keepRunningOnQuit: v0.keepModelsRunning,
      vllmPython: python,
      sglangPython: python,
      defaultMode: 'process',
      hfTokenEncrypted,
    };
  },
];

function versionOf(doc: Record<string, unknown>): number {
  const v = doc.version;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0;
}

/**
 * Any stored document → a valid version-1 document. A field that fails its
 * schema (a hand edit, a newer app's value) falls back to its default with a
 * warning naming it, rather than stopping the app from starting.
 */
export function readSettingsDoc(stored: Record<string, unknown>, ctx: MigrationContext): { doc: SettingsDocV1; migrated: boolean } {
  const isEmpty = Object.keys(stored).length === 0;
  let doc = isEmpty ? { version: SETTINGS_VERSION } : stored;
  let version = versionOf(doc);
  const migrated = version < SETTINGS_VERSION;
  while (version < SETTINGS_VERSION) {
    doc = MIGRATIONS[version]!(doc, ctx);
    version = versionOf(doc);
  }
  const out = { version: 1, hfTokenEncrypted: null } as SettingsDocV1;
  for (const key of Object.keys(FIELDS) as (keyof SettingsValues)[]) {
    const value = doc[key];
    const parsed = FIELDS[key].safeParse(value);
    if (parsed.success) (out as unknown as Record<string, unknown>)[key] = parsed.data;
    else {
      if (value !== undefined) ctx.warn(`settings: ${key} ${JSON.stringify(value)} is invalid (${parsed.error.issues[0]?.message}); using ${JSON.stringify(DEFAULT_SETTINGS[key])}`);
      (out as unknown as Record<string, unknown>)[key] = DEFAULT_SETTINGS[key];
    }
  }
  const token = CIPHERTEXT.nullable().safeParse(doc.hfTokenEncrypted ?? null);
  if (token.success) out.hfTokenEncrypted = token.data;
  else ctx.warn('settings: the stored Hugging Face token is not valid ciphertext and was ignored');
  return { doc: out, migrated: migrated || isEmpty };
}

function fieldError(err: z.ZodError): { code: string; message: string; field?: string } {
  const issue = err.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return { code: 'unknown_field', message: `${key} is not a desktop setting`, field: key };
  }
  const field = issue.path.map(String).join('.') || undefined;
  return { code: 'invalid_value', message: field ? `${field}: ${issue.message}` : issue.message, ...(field ? { field } : {}) };
}

/** Effects that must happen for a value to be true (an OS login item); a failure refuses the change. */
export interface SettingsEffects {
  launchAtLogin(on: boolean): void;
}

export class DesktopSettings {
  private doc: SettingsDocV1;
  private readonly listeners = new Set<(values: SettingsValues) => void>();
  /** What the daemon was started with, for `pendingRestart`; null until the app starts or attaches to one. */
  private launchedWith: { values: SettingsValues; hfTokenEncrypted: string | null } | null = null;
  readonly warnings: string[] = [];

  constructor(
    private readonly store: DocumentStore,
    private readonly secrets: SecretBox,
    private readonly effects: SettingsEffects,
  ) {
    const { doc, migrated } = readSettingsDoc({ ...store.store }, { secrets, warn: (m) => this.warnings.push(m) });
    this.doc = doc;
    // A migrated document is written back at once: a v0 file held the token in plain text.
    if (migrated) this.write();
  }

  values(): SettingsValues {
    const { version: _v, hfTokenEncrypted: _t, ...values } = this.doc;
    return values;
  }

  /** The decrypted token, only for the spawned daemon's environment. */
  hfToken(): string | null {
    if (!this.doc.hfTokenEncrypted) return null;
    if (!this.secrets.isEncryptionAvailable()) return null;
    try {
      return this.secrets.decryptString(Buffer.from(this.doc.hfTokenEncrypted, 'base64'));
    } catch {
      // A keychain reset (new login keyring, another machine) makes the ciphertext useless; say so, keep running.
      this.warnings.push('the stored Hugging Face token could not be decrypted (was the keychain reset?); set it again');
      return null;
    }
  }

  /** Remember what the running daemon got, so the view can say which saved changes wait for a restart. */
  markLaunched(): void {
    this.launchedWith = { values: this.values(), hfTokenEncrypted: this.doc.hfTokenEncrypted };
  }

  view(): DesktopSettingsView {
    const values = this.values();
    const pending: DesktopSettingKey[] = [];
    if (this.launchedWith) {
      for (const key of ['daemonPort', 'vllmPython', 'sglangPython'] as const) {
        if (values[key] !== this.launchedWith.values[key]) pending.push(key);
      }
      if (this.doc.hfTokenEncrypted !== this.launchedWith.hfTokenEncrypted) pending.push('hfToken');
    }
    return {
      ...values,
      hfTokenSet: this.doc.hfTokenEncrypted !== null,
      encryptionAvailable: this.secrets.isEncryptionAvailable(),
      pendingRestart: pending,
    };
  }

  update(patch: unknown): SettingsAnswer {
    const parsed = patchSchema.safeParse(patch);
    if (!parsed.success) return { ok: false, error: fieldError(parsed.error) };
    const changes = parsed.data as DesktopSettingsPatch;
    const next: SettingsDocV1 = { ...this.doc };
    for (const [k, v] of Object.entries(changes)) if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
    if (next.launchAtLogin !== this.doc.launchAtLogin) {
      try {
        this.effects.launchAtLogin(next.launchAtLogin);
      } catch (err) {
        return { ok: false, error: { code: 'launch_at_login_failed', message: `could not change launch at login: ${(err as Error).message}`, field: 'launchAtLogin' } };
      }
    }
    this.doc = next;
    this.write();
    return { ok: true, settings: this.view() };
  }

  setHfToken(token: unknown): SettingsAnswer {
    const parsed = tokenSchema.safeParse(token);
    if (!parsed.success) return { ok: false, error: { ...fieldError(parsed.error), field: 'hfToken' } };
    if (parsed.data === null) {
      this.doc = { ...this.doc, hfTokenEncrypted: null };
    } else {
      // Refuse rather than fall back to something weaker: safeStorage without
      // a keychain (Linux with no secret service) would use a hard-coded key.
      if (!this.secrets.isEncryptionAvailable()) {
        return {
          ok: false,
          error: {
            code: 'encryption_unavailable',
            message:
              'the token was not saved: this system offers no keychain for Berth to encrypt it with (on Linux, install and unlock a Secret Service such as GNOME Keyring or KWallet). Set HF_TOKEN in the environment Berth starts from instead.',
            field: 'hfToken',
          },
        };
      }
      this.doc = { ...this.doc, hfTokenEncrypted: this.secrets.encryptString(parsed.data).toString('base64') };
    }
    this.write();
    return { ok: true, settings: this.view() };
  }

  onChange(fn: (values: SettingsValues) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private write(): void {
    this.store.store = { ...this.doc };
    for (const fn of this.listeners) fn(this.values());
  }
}

/** The part of safeStorage that tells which Linux backend it picked. */
export type KeychainProbe = SecretBox & Pick<SafeStorage, 'getSelectedStorageBackend'>;

/**
 * safeStorage that counts as available only with a real keychain. On Linux
 * without a Secret Service, Electron still "encrypts" with `basic_text`, a
 * key hard-coded in Chromium: ciphertext anyone can reverse is plain text by
 * another name, so that backend is treated as no keychain at all.
 */
export function keychainOnly(safeStorage: KeychainProbe, platform: NodeJS.Platform): SecretBox {
  const real = () => {
    if (!safeStorage.isEncryptionAvailable()) return false;
    if (platform !== 'linux') return true;
    const backend = safeStorage.getSelectedStorageBackend();
    return backend !== 'basic_text' && backend !== 'unknown';
  };
  return {
    isEncryptionAvailable: real,
    encryptString: (text) => safeStorage.encryptString(text),
    decryptString: (data) => safeStorage.decryptString(data),
  };
}
