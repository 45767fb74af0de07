// New, edit and "copy as new": the deployment as a form, validated as the user
// types with the contract's schema, the exact command line beside it from the
// daemon's planner (debounced), and a submit that creates (POST) or patches
// (RFC 7396 merge patch of what changed).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { DeploymentStatus, GpuInventory } from '../../../daemon/contract/api.js';
import { BACKENDS } from '../../../daemon/contract/deployment.js';
import { ApiError, client } from '../api.js';
import { desktopBridge } from '../desktop-bridge.js';
import { backendLabel } from '../format.js';
import { href } from '../router.js';
import { navigate } from '../use-route.js';
import { errorText } from '../use-action.js';
import { EnvRows } from './env-rows.js';
import { Field } from './field.js';
import {
  apiErrorOnField,
  applyDefaultMode,
  defaultForm,
  MODES,
  formFromDeployment,
  mergePatchFor,
  validateForm,
  type FieldErrors,
  type FieldKey,
  type FormState,
  type FormValues,
} from './form-model.js';
import { lastPlan, PlanPreview, type PlanView } from './plan-preview.js';

/** How long typing must pause before the plan is asked for again. */
const PLAN_DEBOUNCE_MS = 300;

export type FormPurpose = { kind: 'new'; from: DeploymentStatus | null } | { kind: 'edit'; deployment: DeploymentStatus };

export function initialForm(p: FormPurpose): FormState {
  if (p.kind === 'edit') return formFromDeployment(p.deployment.spec, 'edit');
  return p.from ? formFromDeployment(p.from.spec, 'copy') : defaultForm();
}

export function DeploymentForm({ purpose, inventory }: { purpose: FormPurpose; inventory: GpuInventory | null }) {
  const [form, setForm] = useState<FormState>(() => initialForm(purpose));
  const [touched, setTouched] = useState<Set<FieldKey>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [plan, setPlan] = useState<PlanView>({ kind: 'idle', why: 'Fill in a name and a model to see the command Berth would run.', last: null });
  const [saving, setSaving] = useState(false);
  const [start, setStart] = useState(true);
  const formRef = useRef<HTMLFormElement>(null);
  const modeTouched = useRef(false);

  // In the desktop window, a blank new form starts in the app's default mode.
  useEffect(() => {
    const bridge = purpose.kind === 'new' && !purpose.from ? desktopBridge() : null;
    if (!bridge) return;
    let live = true;
    bridge.getSettings().then(
      (s) => live && setForm((f) => applyDefaultMode(f, s.defaultMode, { blank: true, modeTouched: modeTouched.current })),
      // Without the app's settings the form keeps the daemon's default, which is still a valid choice.
      () => {},
    );
    return () => {
      live = false;
    };
    // The purpose never changes for a mounted form (the route remounts it).
  }, []);

  const { input, errors, valid } = useMemo(() => validateForm(form), [form]);
  const inputKey = JSON.stringify(input);

  // The plan follows the form, one request per pause in typing; a newer form aborts the older request.
  useEffect(() => {
    if (!valid) {
      setPlan((p) => ({ kind: 'idle', why: 'Fix the fields marked in red to see the command line.', last: lastPlan(p) }));
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(async () => {
      setPlan((p) => ({ kind: 'loading', last: lastPlan(p) }));
      try {
        const answer = await client.plan({ body: input, signal: abort.signal });
        setServerErrors({});
        setPlan({ kind: 'ready', plan: answer });
      } catch (err) {
        if (abort.signal.aborted) return;
        if (err instanceof ApiError && err.field) {
          setServerErrors(apiErrorOnField(err, form));
          setPlan((p) => {
            const last = lastPlan(p);
            return { kind: 'idle', why: `The daemon refused a field (marked in red)${last ? '; the last command it accepted:' : '.'}`, last };
          });
        } else setPlan((p) => ({ kind: 'error', message: errorText(err), last: lastPlan(p) }));
      }
    }, PLAN_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
    // inputKey stands for input and form: the plan depends on nothing else.
  }, [inputKey, valid]);

  const shown = (k: FieldKey): string | undefined => serverErrors[k] ?? (submitted || touched.has(k) ? errors[k] : undefined);

  function set<K extends keyof FormValues>(key: K, value: FormValues[K]) {
    if (key === 'mode') modeTouched.current = true;
    setForm((f) => ({ ...f, values: { ...f.values, [key]: value } }));
    setTouched((t) => (t.has(key) ? t : new Set(t).add(key)));
    setServerErrors((e) => {
      if (!(key in e)) return e;
      const { [key]: _gone, ...rest } = e;
      return rest;
    });
  }
  const text = (key: Exclude<keyof FormValues, 'env' | 'backend' | 'mode'>) => ({
    value: form.values[key],
    onInput: (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement }) => set(key, e.currentTarget.value),
  });

  const editing = purpose.kind === 'edit';
  const gpuNames = [...new Set((inventory?.gpus ?? []).map((g) => g.name))];
  if (form.values.gpuType && !gpuNames.includes(form.values.gpuType)) gpuNames.push(form.values.gpuType);

  async function submit(e: Event) {
    e.preventDefault();
    setSubmitted(true);
    if (!valid) {
      requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    setSaving(true);
    try {
      if (purpose.kind === 'edit') {
        const patch = mergePatchFor(purpose.deployment.spec, input);
        if (Object.keys(patch).length > 0) await client.updateDeployment({ params: { name: purpose.deployment.name }, body: patch });
      } else {
        await client.createDeployment({ body: input, query: { start } });
      }
      navigate(href.deployment(input.name));
    } catch (err) {
      setServerErrors(err instanceof ApiError && err.field ? apiErrorOnField(err, form) : { form: errorText(err) });
    } finally {
      setSaving(false);
    }
  }

  const title = editing ? `Edit ${purpose.deployment.name}` : purpose.from ? `New deployment from ${purpose.from.name}` : 'New deployment';
  return (
    <div class="form-page">
      <h1>{title}</h1>
      <div class="form-layout">
        <form ref={formRef} class="card deployment-form" onSubmit={submit} noValidate aria-label={title}>
          <Field id="f-name" label="Name" error={shown('name')} hint={editing ? 'A deployment keeps its name.' : 'Lower-case letters, digits and -: it appears in URLs and logs.'}>
            {(a) => <input {...a} {...text('name')} disabled={editing} autocomplete="off" spellcheck={false} />}
          </Field>
          <Field id="f-model" label="Model" error={shown('modelId')} hint="A Hugging Face repo id (owner/name) or a local path.">
            {(a) => <input {...a} {...text('modelId')} class="mono" placeholder="Qwen/Qwen2.5-0.5B-Instruct" autocomplete="off" spellcheck={false} />}
          </Field>
          <Field id="f-served" label="Served names" error={shown('servedNames')} hint="The model names clients ask for; empty means the deployment's name.">
            {(a) => <input {...a} {...text('servedNames')} placeholder={form.values.name ? `${form.values.name} (the name)` : 'the name'} autocomplete="off" spellcheck={false} />}
          </Field>
          <Field id="f-backend" label="Backend" error={shown('backend')}>
            {(a) => (
              <select {...a} value={form.values.backend} onChange={(e) => set('backend', e.currentTarget.value as FormValues['backend'])}>
                {BACKENDS.map((b) => (
                  <option value={b}>{backendLabel(b)}</option>
                ))}
              </select>
            )}
          </Field>
          <Field id="f-version" label="Version" error={shown('backendVersion')} hint="Empty: the engine's default recipe.">
            {(a) => <input {...a} {...text('backendVersion')} class="mono" placeholder="default" autocomplete="off" spellcheck={false} />}
          </Field>
          <Field id="f-mode" label="Mode" error={shown('mode')}>
            {(a) => (
              <select {...a} value={form.values.mode} onChange={(e) => set('mode', e.currentTarget.value as FormValues['mode'])}>
                {MODES.map((m) => (
                  <option value={m}>{m}</option>
                ))}
              </select>
            )}
          </Field>
          <Field id="f-gpus" label="GPU count" error={shown('gpuCount')} hint="Per replica; 0 runs without a GPU.">
            {(a) => <input {...a} {...text('gpuCount')} inputMode="numeric" />}
          </Field>
          <Field id="f-gputype" label="GPU type" error={shown('gpuType')}>
            {(a) => (
              <select {...a} {...text('gpuType')}>
                <option value="">Any GPU</option>
                {gpuNames.map((n) => (
                  <option value={n}>{n}</option>
                ))}
              </select>
            )}
          </Field>
          <fieldset class="wide scale">
            <legend>Scale</legend>
            <Field id="f-min" label="Min replicas" error={shown('scaleMin')} hint="0 sleeps until a request comes.">
              {(a) => <input {...a} {...text('scaleMin')} inputMode="numeric" />}
            </Field>
            <Field id="f-max" label="Max replicas" error={shown('scaleMax')}>
              {(a) => <input {...a} {...text('scaleMax')} inputMode="numeric" />}
            </Field>
            <Field id="f-idle" label="Idle time (s)" error={shown('idleTime')} hint="Without a request, replicas above min stop.">
              {(a) => <input {...a} {...text('idleTime')} inputMode="numeric" />}
            </Field>
          </fieldset>
          <Field
            id="f-args"
            label="Extra args"
            wide
            error={shown('backendArgs')}
            hint={
              <>
                One flag per line, its value after a space: <code>--max-model-len 8192</code>. Checked against the engine's own rules.
              </>
            }
          >
            {(a) => <textarea {...a} {...text('backendArgs')} class="mono" rows={4} spellcheck={false} />}
          </Field>
          <EnvRows rows={form.values.env} error={shown('env')} onChange={(rows) => set('env', rows)} />
          <Field id="f-fallback" label="Fallback" wide error={shown('fallback')} hint="Served names to try, in order, when this deployment fails.">
            {(a) => <input {...a} {...text('fallback')} autocomplete="off" spellcheck={false} />}
          </Field>
          {serverErrors.form && (
            <p class="error wide" role="alert">
              {serverErrors.form}
            </p>
          )}
          {!serverErrors.form && submitted && errors.form && (
            <p class="error wide" role="alert">
              {errors.form}
            </p>
          )}
          <div class="form-actions wide">
            {!editing && (
              <label class="check">
                <input type="checkbox" checked={start} onChange={(e) => setStart(e.currentTarget.checked)} /> Start it now
              </label>
            )}
            <a class="btn" href={editing ? href.deployment(purpose.deployment.name) : href.dashboard()}>
              Cancel
            </a>
            <button class="btn primary" type="submit" disabled={saving}>
              {saving ? 'Saving…' : editing ? 'Save changes' : 'Create deployment'}
            </button>
          </div>
        </form>
        <PlanPreview view={plan} />
      </div>
    </div>
  );
}

/** The route's wrapper: waits for the store before building the form from a deployment. */
export function DeploymentFormRoute({
  route,
  deployments,
  synced,
  inventory,
}: {
  route: { page: 'new'; from: string | null } | { page: 'edit'; name: string };
  deployments: DeploymentStatus[];
  synced: boolean;
  inventory: GpuInventory | null;
}) {
  const wanted = route.page === 'edit' ? route.name : route.from;
  const source = wanted === null ? null : deployments.find((d) => d.name === wanted);
  if (wanted !== null && !source) {
    if (!synced) return <p class="muted">Loading {wanted}…</p>;
    return (
      <div class="card empty">
        <h1>No deployment named {wanted}</h1>
        <p>
          <a href={href.dashboard()}>Back to the dashboard</a> or <a href={href.newDeployment()}>start a new deployment</a>.
        </p>
      </div>
    );
  }
  const purpose: FormPurpose = route.page === 'edit' ? { kind: 'edit', deployment: source! } : { kind: 'new', from: source ?? null };
  // A different route (or source) is a different form: remount rather than carry state over.
  return <DeploymentForm key={`${route.page}:${wanted ?? ''}`} purpose={purpose} inventory={inventory} />;
}
