// POST /api/v1/apply and GET /api/v1/deployments/:name/export: the serving
// platforms' manifests in and out. Reading and writing manifests is pure
// (manifests/); this adapter compares with what exists and calls the
// supervisor: create what is new, replace what changed, leave alone what did
// not, so applying the same manifest twice changes nothing.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import { normalizeDeployment } from '../config/deployment.js';
import { DNS_LABEL, type Deployment } from '../contract/deployment.js';
import { MANIFEST_FORMATS, type AppliedDeployment, type ApplyAnswer, type ManifestFormat } from '../contract/manifests.js';
import { api } from '../contract/routes.js';
import { badRequest, fromZod, HttpError, notFound, toHttpError } from '../http/errors.js';
import { exportManifest } from '../manifests/export.js';
import { readManifest } from '../manifests/manifest.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { API_PREFIX, parseQuery, type On, type QueryParser } from './mount.js';

const applyBody = z
  .object({
    manifest: z.string().min(1, 'expected the manifest\'s YAML text').max(1_000_000),
    dryRun: z.boolean().optional(),
  })
  .strict();

/** JSON with object keys in order, so two specs compare by content. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * What an apply compares: the deployment without the list of ignored fields,
 * which differs between a manifest and its export (an export writes no
 * tolerations) while nothing Berth runs does.
 */
function runs(d: Deployment): unknown {
  return d.source ? { ...d, source: { ...d.source, ignored: [] } } : d;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A merge patch (RFC 7396) that turns `from` into `to`: what the update route takes. */
function replacement(from: Record<string, unknown>, to: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(from)) if (!(k in to) || to[k] === undefined) patch[k] = null;
  for (const [k, v] of Object.entries(to)) {
    if (v === undefined) continue;
    const old = from[k];
    patch[k] = isObject(v) && isObject(old) ? replacement(old, v) : v;
  }
  return patch;
}

/**
 * A local model path that is not there: a manifest's volume or storage path
 * names a place in a cluster's pod, which on this machine must be filled by
 * hand. Null for a Hugging Face id or a path that exists.
 */
function missingModelPath(modelId: string): string | null {
  if (!/^(\/|\.\/|\.\.\/|~\/)/.test(modelId)) return null;
  const path = modelId.startsWith('~/') ? join(homedir(), modelId.slice(2)) : resolve(modelId);
  return existsSync(path) ? null : path;
}

export async function applyManifest(sup: Supervisor, body: unknown): Promise<ApplyAnswer> {
  if (body === undefined) throw badRequest('expected a JSON body {"manifest": "<YAML text>", "dryRun": false} (Content-Type: application/json)');
  const parsed = applyBody.safeParse(body);
  if (!parsed.success) throw fromZod(parsed.error);
  const dryRun = parsed.data.dryRun ?? false;
  const manifest = readManifest(parsed.data.manifest);

  // Decide and preview every deployment before changing anything.
  const steps: { applied: AppliedDeployment; input: unknown; from: Deployment | null }[] = [];
  for (const m of manifest.deployments) {
    const spec = normalizeDeployment(m.input);
    const from = sup.has(spec.name) ? sup.get(spec.name).spec : null;
    const action = !from ? 'created' : canonical(runs(from)) === canonical(runs(spec)) ? 'unchanged' : 'updated';
    const warnings = [...m.warnings];
    if (from && action === 'updated' && (from.source?.platform !== spec.source?.platform || from.source?.id !== spec.source?.id)) {
      warnings.push(`replaces the deployment ${spec.name}, which ${from.source ? `came from ${from.source.platform} ${from.source.id ?? ''}`.trim() : 'was not created from a manifest'}`);
    }
    const missing = missingModelPath(spec.modelId);
    if (missing) warnings.push(`the model path ${spec.modelId} does not exist on this machine (${missing}); the engine will not find it until the model files are there`);
    const plan = await sup.plan(m.input);
    steps.push({
      input: m.input,
      from,
      applied: { name: spec.name, action, documents: m.documents, spec, plan, ignored: spec.source?.ignored ?? [], warnings },
    });
  }
  if (!dryRun) {
    // Validation was all or nothing; starting engines cannot be (the GPUs may
    // be taken meanwhile). A failure says which deployments were applied before it.
    const done: string[] = [];
    for (const s of steps) {
      const { name, action, spec } = s.applied;
      try {
        if (action === 'created') s.applied.spec = (await sup.create(s.input)).spec;
        else if (action === 'updated') {
          const patch = replacement(s.from as unknown as Record<string, unknown>, spec as unknown as Record<string, unknown>);
          s.applied.spec = (await sup.update(name, patch)).spec;
        }
      } catch (err) {
        const e = toHttpError(err);
        const before = done.length ? ` (applied before it: ${done.join(', ')})` : '';
        throw new HttpError(e.status, e.code, `${name}: ${e.message}${before}`, e.field, e.headers);
      }
      done.push(`${name} ${action}`);
    }
  }
  const warnings = steps.length ? [] : ['the manifest describes no deployment Berth applies: nothing was done'];
  return { dryRun, deployments: steps.map((s) => s.applied), ignoredDocuments: manifest.ignoredDocuments, warnings };
}

const formatQuery: QueryParser<ManifestFormat> = (raw, field) => {
  if (typeof raw !== 'string' || !(MANIFEST_FORMATS as readonly string[]).includes(raw)) {
    throw badRequest(`${field}: expected ${MANIFEST_FORMATS.join(', ')}`, field);
  }
  return raw as ManifestFormat;
};

function exported(sup: Supervisor, name: string, format: ManifestFormat): string {
  if (!DNS_LABEL.test(name)) throw notFound(`deployment ${name} does not exist`, 'deployment_not_found');
  return exportManifest(sup.get(name).spec, format);
}

/** The export as YAML text, for a client that does not ask for JSON (curl, a browser's download). */
function exportText(sup: Supervisor): RequestHandler {
  return (req: Request, res: Response, next) => {
    if (req.accepts(['application/yaml', 'application/json']) === 'application/json') return next();
    const { format } = parseQuery({ format: formatQuery }, req);
    const name = String(req.params.name);
    res.type('application/yaml').set('content-disposition', `inline; filename="${name}.${format}.yaml"`).send(exported(sup, name, format));
  };
}

export function mountApply(r: Router, on: On, sup: Supervisor): void {
  on(api.apply, ({ body }) => applyManifest(sup, body));
  r.get(api.exportDeployment.path.slice(API_PREFIX.length), exportText(sup));
  on(api.exportDeployment, ({ params, query }) => ({ format: query.format, manifest: exported(sup, params.name, query.format) }), {
    query: { format: formatQuery },
  });
}
