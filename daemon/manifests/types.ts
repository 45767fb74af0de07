// What each platform's reader gives back: deployments, and the documents that
// make none (a runtime nothing uses, a model no Playground claims).
import type { DeploymentInput } from '../contract/deployment.js';

export interface ManifestDeployment {
  /** The deployment, `source` included (platform, `Kind/name`, namespace, kept and ignored fields). */
  input: DeploymentInput & { name: string };
  /** Positions of the documents it came from. */
  documents: number[];
  warnings: string[];
}

export interface IgnoredDocument {
  document: number;
  kind: string;
  name: string | null;
  reason: string;
}

export interface PlatformResult {
  deployments: ManifestDeployment[];
  ignoredDocuments: IgnoredDocument[];
}
