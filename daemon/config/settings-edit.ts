// Editing <home>/settings.json from the API, as pure decisions: which fields
// may be edited, what a merge patch makes of the file, what the next start
// would then run with, and what the UI is shown. The I/O (reading and writing
// the file, applying a field live) is api/settings.ts's.
import type { EditableSettings, SettingKey, SettingsView } from '../contract/settings.js';
import { isLoopbackHost, isPlainObject, settingsSchema, SettingsError, type SettingName, type Settings } from './settings.js';

// Every field the contract calls editable: a key missing here fails to build,
// and so does one the schema lacks or types differently (see `editable`).
const EDITABLE: Record<SettingKey, true> = {
  host: true,
  port: true,
  allowedHosts: true,
  allowedOrigins: true,
  nvidiaSmi: true,
  vllmPython: true,
  sglangPython: true,
  docker: true,
  enginePortBase: true,
  startTimeoutMs: true,
  stopGraceMs: true,
  requestWaitMs: true,
  maxQueue: true,
  drainMs: true,
  maxBodyBytes: true,
  logLevel: true,
};

export const EDITABLE_KEYS = Object.keys(EDITABLE) as SettingKey[];

const isEditable = (k: string): k is SettingKey => Object.hasOwn(EDITABLE, k);

type Output = Omit<Settings, 'home' | 'sources'>;

/** The editable fields of a full settings object. */
export function editable(s: Output): EditableSettings {
  // Typed through Pick, so a contract field the schema types differently fails here.
  const picked: Pick<Output, SettingKey> = s;
  const view: EditableSettings = picked;
  return Object.fromEntries(EDITABLE_KEYS.map((k) => [k, view[k]])) as unknown as EditableSettings;
}

/** Fields whose value the environment or a flag set: they win over the file. */
export function overriddenKeys(sources: Settings['sources']): SettingKey[] {
  return EDITABLE_KEYS.filter((k) => sources[k] === 'env' || sources[k] === 'flag');
}

/**
 * The settings file after a merge patch: a value sets a field, null removes
 * it (back to the default). Refuses, naming the field, anything that is not
 * an editable setting, and a file the daemon could not start with.
 */
export function patchSettingsFile(file: Record<string, unknown>, patch: unknown): Record<string, unknown> {
  if (!isPlainObject(patch)) throw new SettingsError('settings', 'expected a JSON object of settings to change');
  const next = { ...file };
  for (const [k, v] of Object.entries(patch)) {
    if (k === 'apiKey') {
      throw new SettingsError(
        'apiKey',
        'the API key cannot be changed through the API; set BERTH_API_KEY (or apiKey in settings.json) and restart the daemon',
      );
    }
    if (!isEditable(k)) {
      const known = Object.hasOwn(settingsSchema.shape, k);
      throw new SettingsError(k, known ? 'this setting is not editable here; edit settings.json' : 'unknown setting');
    }
    if (v === null) delete next[k];
    else next[k] = v;
  }
  const parsed = settingsSchema.safeParse(next);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SettingsError(issue.path.join('.') || 'settings', issue.message);
  }
  return next;
}

/**
 * What the next start would run with: the file, then the overrides that set
 * today's values (assuming the same environment and flags). Refuses a file
 * the daemon would refuse to start with.
 */
export function nextStartSettings(file: Record<string, unknown>, running: Settings): Output {
  const overrides = Object.fromEntries(
    Object.entries(running.sources)
      .filter(([, layer]) => layer === 'env' || layer === 'flag')
      .map(([k]) => [k, running[k as SettingName]]),
  );
  const next = settingsSchema.parse({ ...file, ...overrides });
  // The same rule as the daemon's start (http/security.ts assertSafeBind).
  if (!isLoopbackHost(next.host) && !next.apiKey) {
    throw new SettingsError('host', `listening on ${next.host} requires an API key: set BERTH_API_KEY (or apiKey in settings.json) first`);
  }
  return next;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The view the API answers with; `effective` is what the daemon runs with now (live edits included). */
export function settingsView(opts: {
  effective: EditableSettings;
  running: Settings;
  file: Record<string, unknown>;
  next: Output;
}): SettingsView {
  const next = editable(opts.next);
  const fileView = Object.fromEntries(EDITABLE_KEYS.filter((k) => Object.hasOwn(opts.file, k)).map((k) => [k, opts.file[k]]));
  return {
    effective: opts.effective,
    file: fileView as Partial<EditableSettings>,
    overridden: overriddenKeys(opts.running.sources),
    pendingRestart: EDITABLE_KEYS.filter((k) => !same(next[k], opts.effective[k])),
    apiKeySet: Boolean(opts.running.apiKey),
    home: opts.running.home,
  };
}
