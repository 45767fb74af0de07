// The daemon's settings: what runs now, what the settings file says, which
// fields the environment overrides and which wait for a restart.
import { useEffect, useState } from 'preact/hooks';
import type { SettingKey, SettingsView } from '../../../daemon/contract/settings.js';
import { ApiError, client } from '../api.js';
import { desktopBridge } from '../desktop-bridge.js';
import { Field } from '../form/field.js';
import { errorText } from '../use-action.js';
import { DesktopSection } from './desktop-section.js';
import { draftOf, readable, SETTING_GROUPS, settingsPatch, type SettingField, type SettingsDraft } from './settings-model.js';

function isKey(k: string | undefined): k is SettingKey {
  return SETTING_GROUPS.some((g) => g.fields.some((f) => f.key === k));
}

function SettingInput({ f, value, onInput, aria }: { f: SettingField; value: string; onInput: (v: string) => void; aria: Record<string, unknown> }) {
  const on = (e: { currentTarget: { value: string } }) => onInput(e.currentTarget.value);
  switch (f.kind.type) {
    case 'select':
      return (
        <select {...aria} value={value} onChange={on}>
          {f.kind.options.map((o) => (
            <option value={o}>{o}</option>
          ))}
        </select>
      );
    case 'list':
      return <textarea {...aria} class="mono" rows={2} value={value} placeholder={f.kind.placeholder} onInput={on} spellcheck={false} />;
    case 'int':
      return <input {...aria} inputMode="numeric" value={value} onInput={on} />;
    case 'text':
      return <input {...aria} class="mono" value={value} onInput={on} spellcheck={false} autocomplete="off" />;
  }
}

function Editor({ initial }: { initial: SettingsView }) {
  const [view, setView] = useState(initial);
  const [draft, setDraft] = useState<SettingsDraft>(() => draftOf(initial));
  const [reset, setReset] = useState<Set<SettingKey>>(new Set());
  const [serverError, setServerError] = useState<{ field: SettingKey | null; message: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  const { patch, errors } = settingsPatch(view, draft, reset);
  const changed = Object.keys(patch).length;

  const edit = (key: SettingKey, v: string) => {
    setDraft((d) => ({ ...d, [key]: v }));
    setReset((r) => {
      if (!r.has(key)) return r;
      const n = new Set(r);
      n.delete(key);
      return n;
    });
    setSaved(false);
    if (serverError?.field === key) setServerError(null);
  };

  async function save(e: Event) {
    e.preventDefault();
    if (Object.keys(errors).length || changed === 0) return;
    setSaving(true);
    setServerError(null);
    try {
      const next = await client.updateSettings({ body: patch });
      setView(next);
      setDraft(draftOf(next));
      setReset(new Set());
      setSaved(true);
    } catch (err) {
      setServerError({ field: err instanceof ApiError && isKey(err.field) ? err.field : null, message: errorText(err) });
    } finally {
      setSaving(false);
    }
  }

  return (
    <form class="settings" onSubmit={save} noValidate aria-label="Daemon settings">
      <p class="muted">
        Saved to <code>{view.home}/settings.json</code>. API key: {view.apiKeySet ? 'set' : 'not set'} (set it with <code>BERTH_API_KEY</code>; it is never
        shown here).
      </p>
      {SETTING_GROUPS.map((g) => (
        <fieldset class="card settings-group">
          <legend>{g.title}</legend>
          {g.fields.map((f) => {
            const id = `s-${f.key}`;
            const overridden = view.overridden.includes(f.key);
            const pending = view.pendingRestart.includes(f.key);
            const inFile = f.key in view.file;
            const err = errors[f.key] ?? (serverError?.field === f.key ? serverError.message : undefined);
            const nice = readable(f, draft[f.key]);
            return (
              <Field
                id={id}
                label={f.label}
                error={err}
                hint={
                  <>
                    {f.hint}
                    {nice && ` (${nice})`}
                    {overridden && (
                      <span class="badge warn">
                        {' '}
                        set by {f.env ?? 'a flag'} to {String(view.effective[f.key])}: a value saved here applies once that is gone
                      </span>
                    )}
                    {pending && !overridden && <span class="badge"> restart needed: running with {String(view.effective[f.key])}</span>}
                    {reset.has(f.key) && <span class="badge"> back to the default on save</span>}
                  </>
                }
              >
                {(aria) => (
                  <div class="setting-control">
                    <SettingInput f={f} value={draft[f.key]} onInput={(v) => edit(f.key, v)} aria={aria} />
                    {inFile && !reset.has(f.key) && (
                      <button type="button" class="btn small" aria-label={`Reset ${f.label} to the default`} onClick={() => setReset((r) => new Set(r).add(f.key))}>
                        Reset
                      </button>
                    )}
                  </div>
                )}
              </Field>
            );
          })}
        </fieldset>
      ))}
      {serverError && serverError.field === null && (
        <p class="error" role="alert">
          {serverError.message}
        </p>
      )}
      <div class="form-actions">
        {saved && view.pendingRestart.length > 0 && (
          <span role="status">Saved. Restart the daemon to apply: {view.pendingRestart.join(', ')}.</span>
        )}
        {saved && view.pendingRestart.length === 0 && <span role="status">Saved.</span>}
        <button class="btn primary" type="submit" disabled={saving || changed === 0 || Object.keys(errors).length > 0}>
          {saving ? 'Saving…' : changed ? `Save ${changed} change${changed === 1 ? '' : 's'}` : 'No changes'}
        </button>
      </div>
    </form>
  );
}

export function SettingsPage() {
  // Read once: the preload sets the bridge before any page script runs, and it never changes.
  const [bridge] = useState(desktopBridge);
  const [state, setState] = useState<{ view: SettingsView } | { error: string } | null>(null);
  useEffect(() => {
    let live = true;
    client.settings().then(
      (view) => live && setState({ view }),
      (err: unknown) => live && setState({ error: errorText(err) }),
    );
    return () => {
      live = false;
    };
  }, []);
  return (
    <div class="settings-page">
      <h1>Settings</h1>
      {bridge && <DesktopSection bridge={bridge} />}
      {bridge && <h2>Daemon</h2>}
      {state === null && <p class="muted">Loading…</p>}
      {state && 'error' in state && (
        <p class="error" role="alert">
          Could not read the settings: {state.error}
        </p>
      )}
      {state && 'view' in state && <Editor initial={state.view} />}
    </div>
  );
}
