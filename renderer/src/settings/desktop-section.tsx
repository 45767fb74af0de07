// The desktop app's own settings, shown only in its window (where the preload
// bridge exists): port, login item, quit behaviour, engine Pythons, default
// mode, and the Hugging Face token, which goes to main and is never read back.
import { useEffect, useState } from 'preact/hooks';
import type { BerthDesktop, DesktopSettingKey, DesktopSettingsView, SettingsAnswer } from '../desktop-bridge.js';
import { Field } from '../form/field.js';
import { errorText } from '../use-action.js';
import {
  answerErrors,
  APPLIES_NOTE,
  checkToken,
  DESKTOP_FIELDS,
  desktopDraftOf,
  desktopPatch,
  pendingNote,
  savedMessage,
  tokenState,
  type DesktopDraft,
  type DesktopErrors,
  type DesktopField,
} from './desktop-model.js';

function Hint({ f, view }: { f: DesktopField; view: DesktopSettingsView }) {
  const applies = APPLIES_NOTE[f.applies];
  const pending = pendingNote(view, f.key);
  return (
    <>
      {f.hint}
      {applies && ` ${applies}`}
      {pending && <span class="badge warn"> Saved: {pending}.</span>}
    </>
  );
}

function CheckField({ f, view, checked, onChange }: { f: DesktopField; view: DesktopSettingsView; checked: boolean; onChange: (v: boolean) => void }) {
  const id = `d-${f.key}`;
  return (
    <div class="field">
      <label class="check">
        <input id={id} type="checkbox" checked={checked} aria-describedby={`${id}-hint`} onChange={(e) => onChange(e.currentTarget.checked)} /> {f.label}
      </label>
      <small id={`${id}-hint`} class="hint">
        <Hint f={f} view={view} />
      </small>
    </div>
  );
}

function TokenField({ view, onAnswer, bridge }: { view: DesktopSettingsView; onAnswer: (a: SettingsAnswer) => void; bridge: BerthDesktop }) {
  const [raw, setRaw] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const state = tokenState(view);
  const pending = pendingNote(view, 'hfToken');

  async function send(token: string | null) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const answer = await bridge.setHfToken(token);
      if (answer.ok) {
        // The input is emptied at once: the token leaves the page with this call.
        setRaw('');
        setDone(token === null ? 'Token removed.' : 'Token saved in the OS keychain.');
        onAnswer(answer);
      } else {
        const { fields, form } = answerErrors(answer);
        setError(fields.hfToken ?? form);
      }
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  function save(e: Event) {
    e.preventDefault();
    const checked = checkToken(raw);
    if ('error' in checked) setError(checked.error);
    else void send(checked.token);
  }

  return (
    <form class="card settings-group" onSubmit={save} noValidate aria-label="Hugging Face token">
      <Field
        id="d-hfToken"
        label="Hugging Face token"
        error={error ?? undefined}
        hint={
          <>
            <span data-testid="hf-token-status">{state.status}</span> Gated and private models need it. It is kept encrypted by the OS keychain and reaches
            the engines as HF_TOKEN; this page never shows it. {APPLIES_NOTE['spawned-daemon']}
            {pending && <span class="badge warn"> Saved: {pending}.</span>}
          </>
        }
      >
        {(aria) => (
          <div class="setting-control">
            <input
              {...aria}
              type="password"
              class="mono"
              value={raw}
              placeholder={state.canStore ? (view.hfTokenSet ? 'enter a new token to replace it' : 'hf_...') : 'cannot be stored here'}
              disabled={!state.canStore || busy}
              autocomplete="off"
              spellcheck={false}
              onInput={(e) => {
                setRaw(e.currentTarget.value);
                setError(null);
                setDone(null);
              }}
            />
            <button class="btn small" type="submit" disabled={!state.canStore || busy || !raw.trim()}>
              Save token
            </button>
            <button class="btn small" type="button" disabled={!state.canClear || busy} onClick={() => void send(null)}>
              Clear token
            </button>
          </div>
        )}
      </Field>
      {state.blocked && (
        <p class="error" role="alert">
          {state.blocked}
        </p>
      )}
      {done && <span role="status">{done}</span>}
    </form>
  );
}

function DesktopEditor({ initial, bridge }: { initial: DesktopSettingsView; bridge: BerthDesktop }) {
  const [view, setView] = useState(initial);
  const [draft, setDraft] = useState<DesktopDraft>(() => desktopDraftOf(initial));
  const [answerError, setAnswerError] = useState<{ fields: DesktopErrors; form: string | null }>({ fields: {}, form: null });
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  const { patch, errors } = desktopPatch(view, draft);
  const changed = Object.keys(patch).length;
  const invalid = Object.keys(errors).length > 0;

  function edit<K extends keyof DesktopDraft>(key: K, value: DesktopDraft[K]) {
    setDraft((d) => ({ ...d, [key]: value }));
    setSaved(false);
    setAnswerError((a) => {
      if (!(key in a.fields) && a.form === null) return a;
      const { [key]: _gone, ...rest } = a.fields;
      return { fields: rest, form: null };
    });
  }

  async function save(e: Event) {
    e.preventDefault();
    if (invalid || changed === 0) return;
    setSaving(true);
    setAnswerError({ fields: {}, form: null });
    try {
      const answer = await bridge.updateSettings(patch);
      if (answer.ok) {
        setView(answer.settings);
        setDraft(desktopDraftOf(answer.settings));
        setSaved(true);
      } else setAnswerError(answerErrors(answer));
    } catch (err) {
      setAnswerError({ fields: {}, form: errorText(err) });
    } finally {
      setSaving(false);
    }
  }

  const errorOf = (key: DesktopSettingKey) => errors[key] ?? answerError.fields[key];
  const field = (key: DesktopField['key']) => DESKTOP_FIELDS.find((f) => f.key === key)!;
  const text = (key: 'daemonPort' | 'vllmPython' | 'sglangPython', extra: Record<string, unknown>) => {
    const f = field(key);
    return (
      <Field id={`d-${key}`} label={f.label} error={errorOf(key)} hint={<Hint f={f} view={view} />}>
        {(aria) => <input {...aria} {...extra} value={draft[key]} onInput={(e) => edit(key, e.currentTarget.value)} autocomplete="off" spellcheck={false} />}
      </Field>
    );
  };
  return (
    <>
      <form class="card settings-group" onSubmit={save} noValidate aria-label="Desktop app settings">
        {text('daemonPort', { inputMode: 'numeric' })}
        <CheckField f={field('launchAtLogin')} view={view} checked={draft.launchAtLogin} onChange={(v) => edit('launchAtLogin', v)} />
        <CheckField f={field('keepRunningOnQuit')} view={view} checked={draft.keepRunningOnQuit} onChange={(v) => edit('keepRunningOnQuit', v)} />
        {text('vllmPython', { class: 'mono', placeholder: "the daemon's setting" })}
        {text('sglangPython', { class: 'mono', placeholder: "the daemon's setting" })}
        <Field id="d-defaultMode" label={field('defaultMode').label} error={errorOf('defaultMode')} hint={<Hint f={field('defaultMode')} view={view} />}>
          {(aria) => (
            <select {...aria} value={draft.defaultMode} onChange={(e) => edit('defaultMode', e.currentTarget.value as DesktopDraft['defaultMode'])}>
              <option value="process">process</option>
              <option value="container">container</option>
            </select>
          )}
        </Field>
        {answerError.form && (
          <p class="error" role="alert">
            {answerError.form}
          </p>
        )}
        <div class="form-actions">
          {saved && <span role="status">{savedMessage(view)}</span>}
          <button class="btn primary" type="submit" disabled={saving || changed === 0 || invalid}>
            {saving ? 'Saving…' : changed ? `Save ${changed} desktop change${changed === 1 ? '' : 's'}` : 'No changes'}
          </button>
        </div>
      </form>
      <TokenField view={view} bridge={bridge} onAnswer={(a) => a.ok && setView(a.settings)} />
    </>
  );
}

/** The section, when the page runs in the desktop window; the caller renders nothing in a browser. */
export function DesktopSection({ bridge }: { bridge: BerthDesktop }) {
  const [state, setState] = useState<{ view: DesktopSettingsView } | { error: string } | null>(null);
  useEffect(() => {
    let live = true;
    bridge.getSettings().then(
      (view) => live && setState({ view }),
      (err: unknown) => live && setState({ error: errorText(err) }),
    );
    return () => {
      live = false;
    };
  }, [bridge]);
  return (
    <section class="settings" aria-labelledby="desktop-app-title">
      <h2 id="desktop-app-title">Desktop app</h2>
      <p class="muted">
        Berth {bridge.version} on {bridge.platform}. Kept by the app, not the daemon.
      </p>
      {state === null && <p class="muted">Loading…</p>}
      {state && 'error' in state && (
        <p class="error" role="alert">
          Could not read the desktop app's settings: {state.error}
        </p>
      )}
      {state && 'view' in state && <DesktopEditor initial={state.view} bridge={bridge} />}
    </section>
  );
}
