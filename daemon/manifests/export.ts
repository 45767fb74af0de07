// A Berth deployment -> the manifest of a platform, as YAML a cluster accepts.
// Applying it here gives back the same deployment (the round trip is tested
// for each format). Pure.
import { Document } from 'yaml';
import type { Deployment } from '../contract/deployment.js';
import type { ManifestFormat } from '../contract/manifests.js';
import { toKnative } from './knative-export.js';
import { toKserve } from './kserve-export.js';
import { toLlmaz } from './llmaz-export.js';

const EXPORTERS: Record<ManifestFormat, (d: Deployment) => Record<string, unknown>[]> = {
  llmaz: toLlmaz,
  kserve: toKserve,
  knative: toKnative,
};

export function exportManifest(d: Deployment, format: ManifestFormat): string {
  const header = `# Exported by Berth from deployment ${d.name} (${d.backend} ${d.backendVersion}, model ${d.modelId}).\n`;
  return header + EXPORTERS[format](d).map((obj) => new Document(obj).toString({ lineWidth: 0 })).join('---\n');
}
