// `POST /api/v1/apply` and the export route: the serving platforms' manifests
// (llmaz, KServe, Knative) in, Berth deployments out, and back again.
import type { LaunchPlan } from './api.js';
import type { Deployment } from './deployment.js';

export const MANIFEST_FORMATS = ['llmaz', 'kserve', 'knative'] as const;
export type ManifestFormat = (typeof MANIFEST_FORMATS)[number];

export interface ApplyRequest {
  /** YAML text: one or more documents separated by `---`, as `kubectl apply -f` takes them. */
  manifest: string;
  /** Answer what would happen without creating, changing or starting anything. */
  dryRun?: boolean;
}

export interface IgnoredField {
  field: string;
  reason: string;
}

export interface AppliedDeployment {
  name: string;
  /**
   * created: new; updated: existed with another spec, replaced (and restarted
   * when running); unchanged: the same spec, left alone. Under dryRun, what
   * would happen.
   */
  action: 'created' | 'updated' | 'unchanged';
  /** The documents it came from (0-based positions in the manifest). */
  documents: number[];
  /** The deployment as Berth stores it: every default filled, `source` included. */
  spec: Deployment;
  /** The launch plan of its first replica, previewed before the apply (GPUs and port as free then). */
  plan: LaunchPlan;
  /** Every manifest field Berth does not act on, with the reason (also kept in spec.source.ignored). */
  ignored: IgnoredField[];
  warnings: string[];
}

export interface ApplyAnswer {
  dryRun: boolean;
  deployments: AppliedDeployment[];
  /** Whole documents that make no deployment (another kind, a runtime nothing uses), by position. */
  ignoredDocuments: { document: number; kind: string; name: string | null; reason: string }[];
  /** About the manifest as a whole (one that makes no deployment at all). */
  warnings: string[];
}

export interface ExportAnswer {
  format: ManifestFormat;
  /** YAML text a cluster accepts; applying it here gives back the same deployment. */
  manifest: string;
}
