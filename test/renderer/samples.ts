// Small, realistic values of the contract types for the renderer's unit tests.
import type { DeploymentStatus, Gpu, ReplicaState } from '../../daemon/contract/api.js';
import { normalizeDeployment } from '../../daemon/config/deployment.js';
import type { LiveStats, SnapshotEvent } from '../../daemon/contract/live.js';

export function deployment(name: string, state: ReplicaState = 'ready', desired: 'running' | 'stopped' = 'running'): DeploymentStatus {
  return {
    name,
    // The daemon's own normalisation, so the spec has every default it would have.
    spec: normalizeDeployment({ name, modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm' }),
    desired,
    state,
    reason: state === 'failed' ? 'CUDA out of memory' : null,
    sleeping: false,
    queued: 0,
    lastRequestAt: null,
    replicas: [],
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
  };
}

export function gpu(index: number, totalMiB: number | null = 16376, usedMiB: number | null = 0): Gpu {
  return {
    index,
    uuid: `GPU-${index}`,
    name: 'NVIDIA GeForce RTX 4080 SUPER',
    busId: null,
    memoryTotalMiB: totalMiB,
    memoryUsedMiB: usedMiB,
    memoryFreeMiB: totalMiB === null || usedMiB === null ? null : totalMiB - usedMiB,
    utilizationPct: 0,
    memoryUtilizationPct: 0,
    temperatureC: 40,
    powerDrawW: null,
    powerLimitW: null,
    computeCap: '8.9',
    migEnabled: false,
    processes: [],
  };
}

export function stats(name: string, requestsPerS = 1): LiveStats {
  return { name, at: '2025-01-01T00:00:05.000Z', requestsPerS, tokensPerS: 10, ttftP50S: 0.1, ttftP95S: 0.2, inFlight: 0, queued: 0, kvCacheUsage: null };
}

export function snapshot(deployments: DeploymentStatus[], extra: Partial<SnapshotEvent> = {}): SnapshotEvent {
  return {
    type: 'snapshot',
    ts: '2025-01-01T00:00:00.000Z',
    daemon: { version: '0.1.0', apiVersion: 1, startedAt: '2025-01-01T00:00:00.000Z' },
    deployments,
    gpus: null,
    usage: null,
    stats: [],
    ...extra,
  };
}
