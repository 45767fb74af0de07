// A Berth deployment as ScaleGenAI's GET answers it: the create body as it
// was given (hf_token only as set or not), what Berth runs, and every field
// that does not apply on one machine.
import type { DeploymentStatus } from '../../contract/api.js';
import { REDACTED } from '../../contract/deployment.js';

export function scaleGenAiInference(d: DeploymentStatus) {
  const { spec } = d;
  const src = spec.source;
  return {
    ...(src?.kept ?? {}),
    inf_id: src?.id ?? '',
    // The token itself never leaves the daemon.
    hf_token: spec.secretEnv?.HF_TOKEN !== undefined ? REDACTED : null,
    status: d.sleeping ? 'sleeping' : d.state,
    reason: d.reason,
    berth: {
      deployment: spec.name,
      servedName: spec.servedName,
      modelId: spec.modelId,
      backend: spec.backend,
      backendVersion: spec.backendVersion,
      backendArgs: spec.backendArgs,
      resource: spec.resource,
      scale: spec.scale,
      replicas: d.replicas.map((r) => ({ id: r.id, state: r.state, gpus: r.gpus, port: r.port })),
    },
    not_applicable: src?.ignored ?? [],
    created_at: d.createdAt,
  };
}
