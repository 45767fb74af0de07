// The deployment form as data: what each field holds (text, as typed), how it
// becomes a DeploymentInput, which field an error belongs to, and the merge
// patch an edit sends. Pure, so test/renderer checks it under node:test; the
// validation is the contract's own zod schema, the same one the daemon runs.
import type { ApiError } from '../../../daemon/contract/client.js';
import {
  DEFAULT_SCALE,
  deploymentInputSchema,
  type Backend,
  type Deployment,
  type DeploymentInput,
  type Lora,
} from '../../../daemon/contract/deployment.js';

export interface EnvRow {
  key: string;
  value: string;
}

export interface FormValues {
  name: string;
  /** Comma or space separated; empty means "the deployment's name". */
  servedNames: string;
  modelId: string;
  backend: Backend;
  /** Empty means the engine's default version. */
  backendVersion: string;
  mode: 'process' | 'container' | 'auto';
  gpuCount: string;
  /** Empty means any GPU. */
  gpuType: string;
  scaleMin: string;
  scaleMax: string;
  idleTime: string;
  /** One flag per line, its value after a space. */
  backendArgs: string;
  env: EnvRow[];
  /** Comma or space separated served names. */
  fallback: string;
}

export type FieldKey = keyof FormValues | 'form';
export type FieldErrors = Partial<Record<FieldKey, string>>;

/**
 * Parts of a spec the form has no field for (workers, rpsValue,
 * inFlightValue, cpu, mem, LoRA adapters): kept from the deployment being
 * edited or copied, so saving the form never drops them.
 */
export interface Hidden {
  resource: Omit<NonNullable<DeploymentInput['resource']>, 'gpu'>;
  scale: { rpsValue?: number; inFlightValue?: number | null; ttft?: NonNullable<DeploymentInput['scale']>['ttft'] };
  /** Changed with `berth lora` or the loras API; a copy starts without them (their names would route to the original). */
  loras: Lora[];
  /** A container deployment's own image; dropped when the form switches to process mode, which runs none. */
  image?: string;
  /**
   * Kept on edit, dropped on copy: where the deployment came from (a copy is
   * not the platform's deployment) and its secrets (answers show them
   * redacted, and a copy cannot send a value it never saw).
   */
  kept: Pick<DeploymentInput, 'source' | 'secretEnv'>;
}

export interface FormState {
  values: FormValues;
  hidden: Hidden;
}

export function defaultForm(): FormState {
  return {
    values: {
      name: '',
      servedNames: '',
      modelId: '',
      backend: 'vllm',
      backendVersion: '',
      mode: 'process',
      gpuCount: '1',
      gpuType: '',
      scaleMin: String(DEFAULT_SCALE.min),
      scaleMax: String(DEFAULT_SCALE.max),
      idleTime: String(DEFAULT_SCALE.idleTime),
      backendArgs: '',
      env: [],
      fallback: '',
    },
    hidden: { resource: { workers: 1 }, scale: { rpsValue: DEFAULT_SCALE.rpsValue, inFlightValue: DEFAULT_SCALE.inFlightValue }, loras: [], kept: {} },
  };
}

// ---------- extra args: argv <-> lines ----------
const isFlag = (s: string) => /^--?[A-Za-z]/.test(s);

/** `['--max-model-len', '8192', '--enforce-eager']` → two lines, a flag and its value on one. */
export function argsToText(args: readonly string[]): string {
  const lines: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (isFlag(a) && !a.includes('=') && next !== undefined && !isFlag(next)) {
      lines.push(`${a} ${next}`);
      i++;
    } else lines.push(a);
  }
  return lines.join('\n');
}

/**
 * Lines → argv. A line that starts with a flag splits once, at the first
 * whitespace, so a value may itself hold spaces (a JSON object). `lineOf[i]`
 * is the 1-based line argv[i] came from, to put the daemon's error on it.
 */
export function textToArgs(text: string): { args: string[]; lineOf: number[] } {
  const args: string[] = [];
  const lineOf: number[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const m = isFlag(line) ? /^(\S+)\s+(.+)$/.exec(line) : null;
    for (const part of m ? [m[1]!, m[2]!] : [line]) {
      args.push(part);
      lineOf.push(i + 1);
    }
  });
  return { args, lineOf };
}

const list = (s: string): string[] => s.split(/[\s,]+/).filter(Boolean);

// ---------- env ----------
/** Values of these keys are masked until the user asks to see them. */
export const isSecretKey = (key: string): boolean => /TOKEN|KEY|SECRET|PASSWORD/i.test(key);

// ---------- values <-> input ----------
const WHOLE = /^\d+$/;

function whole(raw: string, field: FieldKey, errors: FieldErrors): number {
  const s = raw.trim();
  if (!WHOLE.test(s)) {
    errors[field] ??= 'expected a whole number';
    return Number.NaN;
  }
  return Number(s);
}

/**
 * The input the form describes, and the errors found before the schema runs
 * (numbers that are not numbers, duplicate env names).
 */
export function toInput(form: FormState): { input: DeploymentInput; errors: FieldErrors } {
  const v = form.values;
  const errors: FieldErrors = {};
  const env: Record<string, string> = {};
  for (const row of v.env) {
    const key = row.key.trim();
    if (!key && !row.value) continue;
    if (key in env) errors.env ??= `${key} is set twice`;
    env[key] = row.value;
  }
  const served = list(v.servedNames);
  const input: DeploymentInput = {
    name: v.name.trim(),
    ...(served.length ? { servedName: served } : {}),
    modelId: v.modelId.trim(),
    backend: v.backend,
    ...(v.backendVersion.trim() ? { backendVersion: v.backendVersion.trim() } : {}),
    backendArgs: textToArgs(v.backendArgs).args,
    mode: v.mode,
    resource: {
      ...form.hidden.resource,
      gpu: { count: whole(v.gpuCount, 'gpuCount', errors), ...(v.gpuType ? { gpuType: v.gpuType } : {}) },
    },
    scale: {
      ...form.hidden.scale,
      min: whole(v.scaleMin, 'scaleMin', errors),
      max: whole(v.scaleMax, 'scaleMax', errors),
      idleTime: whole(v.idleTime, 'idleTime', errors),
    },
    env,
    fallback: list(v.fallback),
    loras: form.hidden.loras,
    ...(form.hidden.image && v.mode !== 'process' ? { image: form.hidden.image } : {}),
    ...form.hidden.kept,
  };
  return { input, errors };
}

/** The form for an existing deployment: to edit it, or to start a new one from it. */
export const MODES: readonly FormValues['mode'][] = ['process', 'container', 'auto'];

/**
 * The desktop app's default mode (its settings, through the preload bridge)
 * on a blank new form. Edit and "copy as new" keep the deployment's own mode,
 * and a mode the user already picked stays: the setting arrives a moment
 * after the form opens. Anything but a known mode is ignored.
 */
export function applyDefaultMode(form: FormState, mode: unknown, at: { blank: boolean; modeTouched: boolean }): FormState {
  if (!at.blank || at.modeTouched) return form;
  if (!MODES.includes(mode as FormValues['mode']) || form.values.mode === mode) return form;
  return { ...form, values: { ...form.values, mode: mode as FormValues['mode'] } };
}

export function formFromDeployment(d: Deployment, purpose: 'edit' | 'copy'): FormState {
  const copy = purpose === 'copy';
  // A copy's served names would collide with the original's: let it default to its own name.
  const servedIsDefault = d.servedName.length === 1 && d.servedName[0] === d.name;
  const { gpu, ...resource } = d.resource;
  return {
    values: {
      name: copy ? copyName(d.name) : d.name,
      servedNames: copy || servedIsDefault ? '' : d.servedName.join(', '),
      modelId: d.modelId,
      backend: d.backend,
      backendVersion: d.backendVersion,
      mode: d.mode,
      gpuCount: String(gpu.count),
      gpuType: gpu.gpuType ?? '',
      scaleMin: String(d.scale.min),
      scaleMax: String(d.scale.max),
      idleTime: String(d.scale.idleTime),
      backendArgs: argsToText(d.backendArgs),
      env: Object.entries(d.env).map(([key, value]) => ({ key, value })),
      fallback: d.fallback.join(', '),
    },
    hidden: {
      resource,
      scale: { rpsValue: d.scale.rpsValue, inFlightValue: d.scale.inFlightValue, ...(d.scale.ttft ? { ttft: d.scale.ttft } : {}) },
      loras: copy ? [] : d.loras,
      ...(d.image ? { image: d.image } : {}),
      kept: copy ? {} : { ...(d.source ? { source: d.source } : {}), ...(d.secretEnv ? { secretEnv: d.secretEnv } : {}) },
    },
  };
}

function copyName(name: string): string {
  const base = name.replace(/-copy(-\d+)?$/, '').slice(0, 63 - '-copy'.length);
  return `${base}-copy`;
}

// ---------- errors → fields ----------
/**
 * The form field a daemon or schema path belongs to: `resource.gpu.count` →
 * gpuCount, `backendArgs[1]` or `backendArgs.1` → backendArgs (with the arg's
 * index), anything the form has no field for → `form`.
 */
export function fieldOfPath(path: string): { field: FieldKey; index: number | null } {
  const parts = path.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
  const [head, second, third] = parts;
  const index = second !== undefined && /^\d+$/.test(second) ? Number(second) : null;
  switch (head) {
    case 'name':
    case 'modelId':
    case 'backend':
    case 'backendVersion':
    case 'mode':
    case 'env':
    case 'fallback':
      return { field: head, index };
    case 'servedName':
      return { field: 'servedNames', index };
    case 'backendArgs':
      return { field: 'backendArgs', index };
    case 'resource':
      if (second === 'gpu') return { field: third === 'gpuType' ? 'gpuType' : 'gpuCount', index: null };
      return { field: 'form', index: null };
    case 'scale':
      if (second === 'min') return { field: 'scaleMin', index: null };
      if (second === 'max') return { field: 'scaleMax', index: null };
      if (second === 'idleTime') return { field: 'idleTime', index: null };
      return { field: 'form', index: null };
    default:
      return { field: 'form', index: null };
  }
}

function place(errors: FieldErrors, path: string, message: string, form: FormState): void {
  const { field, index } = fieldOfPath(path);
  if (errors[field]) return;
  if (field === 'backendArgs' && index !== null) {
    const line = textToArgs(form.values.backendArgs).lineOf[index];
    errors[field] = line ? `line ${line}: ${message}` : message;
  } else errors[field] = field === 'form' && path ? `${path}: ${message}` : message;
}

/** Every error the form can find by itself: its own parsing first, then the contract's schema. */
export function validateForm(form: FormState): { input: DeploymentInput; errors: FieldErrors; valid: boolean } {
  const { input, errors } = toInput(form);
  if (!input.name) errors.name ??= 'required';
  if (!input.modelId) errors.modelId ??= 'required';
  const parsed = deploymentInputSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) place(errors, issue.path.map(String).join('.'), issue.message, form);
  }
  return { input, errors, valid: Object.keys(errors).length === 0 };
}

/** The daemon's error on its field: its own message, `backendArgs[1]` on the line it came from. */
export function apiErrorOnField(err: Pick<ApiError, 'field' | 'message'>, form: FormState): FieldErrors {
  const errors: FieldErrors = {};
  // The daemon prefixes schema messages with the field (`name: expected …`); the field already says it.
  const message = err.field && err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message;
  place(errors, err.field ?? '', message, form);
  return errors;
}

// ---------- edits ----------
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && same(a[k], b[k]));
  }
  return false;
}

/**
 * The RFC 7396 merge patch that turns `before` into `after`: changed members
 * only, objects diffed member by member, arrays whole, removed members null.
 */
export function mergePatchFor(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(after)) {
    if (v === undefined || same(before[k], v)) continue;
    const old = before[k];
    patch[k] = isObject(old) && isObject(v) ? mergePatchFor(old, v) : v;
  }
  for (const k of Object.keys(before)) if (!(k in after) || after[k] === undefined) patch[k] = null;
  return patch;
}
