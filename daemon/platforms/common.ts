// What the serving platforms' APIs share: a deployment found by the
// platform's own id, the Berth spec checked with errors named in the
// platform's fields, the files a request brings (a chat template), and the
// reason an error is shown with. Each platform keeps its own envelope.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';
import type { DeploymentStatus } from '../contract/api.js';
import type { DeploymentInput, Platform } from '../contract/deployment.js';
import { normalizeDeployment } from '../config/deployment.js';
import { HttpError, toHttpError } from '../http/errors.js';
import type { Supervisor } from '../supervisor/supervisor.js';

/** One field of a platform's body that Berth does not act on, and why. */
export interface IgnoredField {
  field: string;
  reason: string;
}

/** A file a request brings with it, written under the state dir before the engine starts. */
export interface RequestFile {
  path: string;
  content: string;
}

/** What a platform's body becomes: the Berth deployment, and the files it needs. */
export interface Translation {
  input: DeploymentInput;
  files: RequestFile[];
  /** Berth field (as normalizeDeployment and the supervisor name it) -> the platform's field. */
  fieldOf(berthField: string): string;
}

/** A 400 naming the platform's field. */
export const invalid = (field: string, message: string) => new HttpError(400, 'invalid_request', `${field}: ${message}`, field);

function valueAt(body: unknown, path: readonly string[]): unknown {
  let v: unknown = body;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** Parses a platform's body with its schema; the first problem is a 400 naming the field as the platform spells it. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('body', 'expected a JSON object');
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String);
  // An unknown key's path is its parent's: name the key itself.
  if (issue.code === 'unrecognized_keys') throw invalid([...path, issue.keys[0]!].join('.'), `not a field of ${what}`);
  throw invalid(path.join('.') || 'body', valueAt(body, path) === undefined ? 'required' : issue.message);
}

/** The deployment a platform created under `id`, or undefined (never one another door created). */
export function findBySource(sup: Supervisor, platform: Platform, id: string): DeploymentStatus | undefined {
  return sup.list().find((d) => d.spec.source?.platform === platform && d.spec.source.id === id);
}

/**
 * An error as the platform should see it: its status, and a message that
 * names the platform's field (the spec's own field names are Berth's).
 */
export function inPlatformTerms(err: unknown, fieldOf: (berthField: string) => string = (f) => f): HttpError {
  const e = toHttpError(err);
  if (!e.field) return e;
  const field = fieldOf(e.field);
  const message = e.message.startsWith(`${e.field}:`) ? `${field}:${e.message.slice(e.field.length + 1)}` : e.message.startsWith(`${field}:`) ? e.message : `${field}: ${e.message}`;
  return new HttpError(e.status, e.code, message, field, e.headers);
}

/** Checks the translated spec now, so a bad body is a 400 in the platform's terms before anything is written. */
export function checkTranslation(t: Translation): void {
  try {
    normalizeDeployment(t.input);
  } catch (err) {
    throw inPlatformTerms(err, t.fieldOf);
  }
}

/** Writes the request's files (owner-only: a template may hold a prompt someone considers private). */
export async function writeRequestFiles(files: readonly RequestFile[]): Promise<void> {
  for (const f of files) {
    await mkdir(dirname(f.path), { recursive: true, mode: 0o700 });
    await writeFile(f.path, f.content, { mode: 0o600 });
  }
}

export async function removeRequestFiles(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { force: true })));
}

/**
 * Creates and starts the deployment (as POST /api/v1/deployments does): the
 * files first, since the engine reads them at start; gone again if the
 * deployment is refused.
 */
export async function createFromPlatform(sup: Supervisor, t: Translation): Promise<DeploymentStatus> {
  checkTranslation(t);
  await writeRequestFiles(t.files);
  try {
    return await sup.create(t.input, { start: true });
  } catch (err) {
    await removeRequestFiles(t.files.map((f) => f.path));
    throw inPlatformTerms(err, t.fieldOf);
  }
}
