// GET/PATCH /api/v1/settings: the daemon's settings as the UI shows and edits
// them. Edits are written to <home>/settings.json; a field the environment or
// a command-line flag overrides is reported, since editing the file cannot
// change it until that override goes.

/** The fields a user may edit from the UI (and the CLI): the daemon validates each. */
export interface EditableSettings {
  host: string;
  port: number;
  allowedHosts: string[];
  allowedOrigins: string[];
  nvidiaSmi: string;
  vllmPython: string;
  sglangPython: string;
  docker: string;
  enginePortBase: number;
  startTimeoutMs: number;
  stopGraceMs: number;
  requestWaitMs: number;
  maxQueue: number;
  drainMs: number;
  maxBodyBytes: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export type SettingKey = keyof EditableSettings;

export interface SettingsView {
  /** What the running daemon uses now. */
  effective: EditableSettings;
  /** What <home>/settings.json holds (what the next start reads before env and flags). */
  file: Partial<EditableSettings>;
  /** Fields set by a BERTH_* variable or a flag, which win over the file. */
  overridden: SettingKey[];
  /** Fields whose file value differs from the running value: they apply at the next daemon start. */
  pendingRestart: SettingKey[];
  /** Whether an API key is set; the key itself is never sent. */
  apiKeySet: boolean;
  home: string;
}

/** Merge patch over the settings file: a value sets a field, `null` removes it (back to the default). */
export type SettingsPatch = { [K in SettingKey]?: EditableSettings[K] | null };
