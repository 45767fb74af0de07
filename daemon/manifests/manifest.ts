// A manifest file -> the deployments it describes. Documents are grouped by
// platform (llmaz, KServe, Knative) and read by that platform's module; a kind
// Berth does not apply is reported, not dropped. All or nothing: any document
// Berth cannot apply fails the whole manifest, naming the document and field,
// so an apply never leaves half a manifest behind.
import { normalizeDeployment } from '../config/deployment.js';
import type { Platform } from '../contract/deployment.js';
import { parseManifest, type ManifestDocument } from './documents.js';
import { ManifestError } from './errors.js';
import { KNATIVE_GROUP, readKnative } from './knative.js';
import { KSERVE_GROUP, KSERVE_KINDS, readKserve } from './kserve.js';
import { LLMAZ_KINDS, readLlmaz } from './llmaz.js';
import type { IgnoredDocument, ManifestDeployment, PlatformResult } from './types.js';

export type { IgnoredDocument, ManifestDeployment } from './types.js';

export interface ManifestResult {
  deployments: ManifestDeployment[];
  ignoredDocuments: IgnoredDocument[];
}

const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');

function platformOf(doc: ManifestDocument): Exclude<Platform, 'alaya' | 'scalegenai'> | null {
  const g = group(doc.apiVersion);
  if ((doc.kind === 'OpenModel' || doc.kind === 'Playground') && g === LLMAZ_KINDS[doc.kind]) return 'llmaz';
  if (g === KSERVE_GROUP && (KSERVE_KINDS as readonly string[]).includes(doc.kind)) return 'kserve';
  if (g === KNATIVE_GROUP && doc.kind === 'Service') return 'knative';
  return null;
}

const READERS: Record<'llmaz' | 'kserve' | 'knative', (docs: ManifestDocument[]) => PlatformResult> = {
  llmaz: readLlmaz,
  kserve: readKserve,
  knative: readKnative,
};

/** Throws ManifestError (400, field `documents[i].<path>`) for anything Berth cannot apply as written. */
export function readManifest(text: string): ManifestResult {
  const docs = parseManifest(text);
  const byPlatform = new Map<keyof typeof READERS, ManifestDocument[]>();
  const ignoredDocuments: IgnoredDocument[] = [];
  for (const doc of docs) {
    const p = platformOf(doc);
    if (p) byPlatform.set(p, [...(byPlatform.get(p) ?? []), doc]);
    else {
      ignoredDocuments.push({
        document: doc.index,
        kind: doc.kind,
        name: doc.name,
        reason: `${doc.apiVersion} ${doc.kind} is not a kind Berth applies (llmaz OpenModel and Playground, KServe InferenceService and ServingRuntime, Knative Service)`,
      });
    }
  }
  const deployments: ManifestDeployment[] = [];
  for (const [platform, list] of byPlatform) {
    const r = READERS[platform](list);
    deployments.push(...r.deployments);
    ignoredDocuments.push(...r.ignoredDocuments);
  }
  deployments.sort((a, b) => Math.max(...a.documents) - Math.max(...b.documents));
  ignoredDocuments.sort((a, b) => a.document - b.document);

  const seen = new Map<string, ManifestDeployment>();
  for (const d of deployments) {
    const at = d.documents.at(-1)!;
    const before = seen.get(d.input.name);
    if (before) {
      throw new ManifestError('invalid_manifest', `documents[${at}].metadata.name`, `documents[${at}].metadata.name: "${d.input.name}" is also the deployment of documents[${before.documents.at(-1)}]; Berth's deployment names are unique`);
    }
    seen.set(d.input.name, d);
    // The deployment's own rules (names, model ids, engine arguments), blamed on its document.
    try {
      normalizeDeployment(d.input);
    } catch (err) {
      const e = err as { status?: unknown; field?: unknown; message?: unknown };
      if (typeof e.status !== 'number' || e.status !== 400) throw err;
      const field = typeof e.field === 'string' ? e.field : 'spec';
      throw new ManifestError('invalid_manifest', `documents[${at}]`, `documents[${at}] (${d.input.source?.id ?? d.input.name}): as a Berth deployment, ${String(e.message)}${field && !String(e.message).startsWith(field) ? ` (${field})` : ''}`);
    }
  }
  return { deployments, ignoredDocuments };
}
