// The settings page as data: each editable field, how it is typed and
// checked, and the merge patch a save sends. The bounds mirror the daemon's
// settings schema (daemon/config/settings.ts), which has the last word: its
// errors come back naming the field. Pure.
import type { EditableSettings, SettingKey, SettingsPatch, SettingsView } from '../../../daemon/contract/settings.js';

export type SettingKind =
  | { type: 'text' }
  | { type: 'list'; placeholder: string }
  | { type: 'int'; min: number; max?: number; unit?: 'ms' | 'bytes' }
  | { type: 'select'; options: readonly string[] };

export interface SettingField {
  key: SettingKey;
  label: string;
  hint: string;
  kind: SettingKind;
  /** The variable that overrides it, where there is one. */
  env: string | null;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const SETTING_GROUPS: { title: string; fields: SettingField[] }[] = [
  {
    title: 'Network',
    fields: [
      { key: 'host', label: 'Listen address', hint: 'Any address but loopback needs an API key.', kind: { type: 'text' }, env: 'BERTH_HOST' },
      { key: 'port', label: 'Port', hint: 'The API, the UI and /v1.', kind: { type: 'int', min: 0, max: 65535 }, env: 'BERTH_PORT' },
      { key: 'allowedHosts', label: 'Allowed Host names', hint: 'Host headers accepted besides loopback (DNS-rebinding guard), one per line.', kind: { type: 'list', placeholder: 'gpu-box.lan' }, env: null },
      { key: 'allowedOrigins', label: 'Allowed browser origins', hint: 'Pages allowed to call Berth besides its own and loopback; * wildcards; one per line.', kind: { type: 'list', placeholder: 'https://*.example.com' }, env: 'BERTH_ORIGINS' },
    ],
  },
  {
    title: 'Engines',
    fields: [
      { key: 'vllmPython', label: 'vLLM Python', hint: 'The python of the virtualenv where vLLM is installed.', kind: { type: 'text' }, env: 'BERTH_VLLM_PYTHON' },
      { key: 'sglangPython', label: 'SGLang Python', hint: 'The python of the virtualenv where SGLang is installed.', kind: { type: 'text' }, env: 'BERTH_SGLANG_PYTHON' },
      { key: 'nvidiaSmi', label: 'nvidia-smi', hint: 'Path or command name.', kind: { type: 'text' }, env: 'BERTH_NVIDIA_SMI' },
      { key: 'docker', label: 'Docker', hint: 'For container mode: the Engine API socket, unix:///path. "docker" means DOCKER_HOST, else /var/run/docker.sock.', kind: { type: 'text' }, env: 'BERTH_DOCKER' },
      { key: 'enginePortBase', label: 'First engine port', hint: 'Engines take the next free port from here.', kind: { type: 'int', min: 1, max: 65535 }, env: 'BERTH_ENGINE_PORT_BASE' },
    ],
  },
  {
    title: 'Timeouts and limits',
    fields: [
      { key: 'startTimeoutMs', label: 'Start timeout (ms)', hint: 'How long an engine may take to become ready, download and load included.', kind: { type: 'int', min: 1, unit: 'ms' }, env: 'BERTH_START_TIMEOUT_MS' },
      { key: 'stopGraceMs', label: 'Stop grace (ms)', hint: 'Between SIGTERM and SIGKILL.', kind: { type: 'int', min: 1, unit: 'ms' }, env: 'BERTH_STOP_GRACE_MS' },
      { key: 'requestWaitMs', label: 'Request wait (ms)', hint: 'How long a request may wait for a replica (cold start, swap, queue).', kind: { type: 'int', min: 1, unit: 'ms' }, env: 'BERTH_REQUEST_WAIT_MS' },
      { key: 'drainMs', label: 'Drain (ms)', hint: 'How long a stop waits for requests in flight.', kind: { type: 'int', min: 0, unit: 'ms' }, env: null },
      { key: 'maxQueue', label: 'Queue per deployment', hint: 'Requests that may wait; more get 429.', kind: { type: 'int', min: 0 }, env: null },
      { key: 'maxBodyBytes', label: 'Largest request body (bytes)', hint: 'Larger bodies get 413.', kind: { type: 'int', min: 1, unit: 'bytes' }, env: null },
      { key: 'logLevel', label: 'Log level', hint: "The daemon's own log.", kind: { type: 'select', options: LOG_LEVELS }, env: 'BERTH_LOG_LEVEL' },
    ],
  },
];

export const SETTING_FIELDS: SettingField[] = SETTING_GROUPS.flatMap((g) => g.fields);

type Parsed = EditableSettings[SettingKey];

/** What each input holds: text as typed. */
export type SettingsDraft = Record<SettingKey, string>;

/**
 * What a field is set to for the next start: the file's value where the file
 * has one (it may differ from what runs now, until a restart), else what runs.
 */
export function savedValue(view: Pick<SettingsView, 'effective' | 'file'>, key: SettingKey): Parsed {
  return (view.file[key] ?? view.effective[key]) as Parsed;
}

export function draftOf(view: Pick<SettingsView, 'effective' | 'file'>): SettingsDraft {
  const d = {} as SettingsDraft;
  for (const f of SETTING_FIELDS) {
    const v = savedValue(view, f.key);
    d[f.key] = Array.isArray(v) ? v.join('\n') : String(v);
  }
  return d;
}

function parse(f: SettingField, raw: string): { value: Parsed } | { error: string } {
  switch (f.kind.type) {
    case 'text':
      return raw.trim() ? { value: raw.trim() } : { error: 'required' };
    case 'list':
      return { value: raw.split('\n').map((x) => x.trim()).filter(Boolean) };
    case 'select':
      return f.kind.options.includes(raw) ? { value: raw as Parsed } : { error: `expected one of ${f.kind.options.join(', ')}` };
    case 'int': {
      const t = raw.trim();
      if (!/^\d+$/.test(t)) return { error: 'expected a whole number' };
      const n = Number(t);
      if (n < f.kind.min) return { error: `at least ${f.kind.min}` };
      if (f.kind.max !== undefined && n > f.kind.max) return { error: `at most ${f.kind.max}` };
      return { value: n };
    }
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The patch a save sends: each field whose input differs from its saved
 * value, plus `null` for each field the user reset to its default.
 */
export function settingsPatch(
  view: Pick<SettingsView, 'effective' | 'file'>,
  draft: SettingsDraft,
  reset: ReadonlySet<SettingKey>,
): { patch: SettingsPatch; errors: Partial<Record<SettingKey, string>> } {
  const patch: Record<string, Parsed | null> = {};
  const errors: Partial<Record<SettingKey, string>> = {};
  for (const f of SETTING_FIELDS) {
    if (reset.has(f.key)) {
      patch[f.key] = null;
      continue;
    }
    const r = parse(f, draft[f.key]);
    if ('error' in r) errors[f.key] = r.error;
    else if (!same(r.value, savedValue(view, f.key))) patch[f.key] = r.value;
  }
  return { patch: patch as SettingsPatch, errors };
}

/** 1200000 ms → "20 min", to read a long number at a glance. */
export function readable(f: SettingField, raw: string): string | null {
  if (f.kind.type !== 'int' || !/^\d+$/.test(raw.trim())) return null;
  const n = Number(raw);
  if (f.kind.unit === 'ms') {
    if (n >= 60_000 && n % 60_000 === 0) return `${n / 60_000} min`;
    if (n >= 1000) return `${n / 1000} s`;
    return null;
  }
  if (f.kind.unit === 'bytes' && n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) ? 1 : 0)} MiB`;
  return null;
}
