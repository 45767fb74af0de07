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

const WHERE_THE_MODEL_IS: Record<ManifestFormat, string> = {
  llmaz: 'the OpenModel\'s source',
  kserve: 'the InferenceService\'s storageUri',
  knative: 'the container\'s --model (and mount the volume that holds it)',
};

export function exportManifest(d: Deployment, format: ManifestFormat): string {
  let header = `# Exported by Berth from deployment ${d.name} (${d.backend} ${d.backendVersion}, model ${d.modelId}).\n`;
  if (/^(\/|\.\/|\.\.\/|~\/)/.test(d.modelId)) {
    // Applying the export here works as is; a cluster has no such path.
    header += `# ${d.modelId} is a path on the machine Berth runs on: copy the model to storage the cluster reads and point ${WHERE_THE_MODEL_IS[format]} at it.\n`;
  }
  return header + EXPORTERS[format](d).map((obj) => new Document(obj).toString({ lineWidth: 0 })).join('---\n');
}
