// A Berth deployment as Alaya's GET answers it: the service as it was asked
// for (the QuickStart body's fields), what Berth made of it, and what does
// not apply on one machine.
import type { DeploymentStatus } from '../../contract/api.js';

export function alayaService(d: DeploymentStatus) {
  const { spec } = d;
  const src = spec.source;
  const kept = src?.kept ?? {};
  return {
    serviceId: src?.id ?? '',
    vksId: kept.vksId ?? null,
    namespace: src?.namespace ?? null,
    name: typeof kept.name === 'string' ? kept.name : spec.name,
    servedName: spec.servedName,
    modelId: spec.modelId,
    backend: spec.backend,
    backendVersion: spec.backendVersion,
    backendArgs: spec.backendArgs,
    resource: { workers: spec.resource.workers, gpu: spec.resource.gpu, ...(kept.resource as object | undefined) },
    scale: { max: spec.scale.max, min: spec.scale.min, idleTime: spec.scale.idleTime, rpsValue: spec.scale.rpsValue, inFlightValue: spec.scale.inFlightValue },
    /** Berth's own view: the deployment's name at /v1 and /api/v1, its state, its replicas. */
    deployment: spec.name,
    status: d.sleeping ? 'sleeping' : d.state,
    reason: d.reason,
    replicas: d.replicas.map((r) => ({ id: r.id, state: r.state, gpus: r.gpus, port: r.port })),
    notApplicable: src?.ignored ?? [],
    createdAt: d.createdAt,
  };
}
