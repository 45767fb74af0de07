// DeploymentStatus values as the daemon sends them, for the tray and store tests.
import type { DeploymentStatus, ReplicaState } from '../../daemon/contract/api.js';

export function deployment(
  name: string,
  state: ReplicaState,
  opts: { desired?: 'running' | 'stopped'; reason?: string | null; sleeping?: boolean; replicas?: ReplicaState[] } = {},
): DeploymentStatus {
  const replicas = opts.replicas ?? (state === 'stopped' ? [] : [state]);
  return {
    name,
    spec: {
      name,
      servedName: [name],
      modelId: 'Qwen/Qwen2.5-0.5B-Instruct',
      backend: 'vllm',
      backendVersion: '0.9.0.1',
      backendArgs: [],
      mode: 'process',
      resource: { workers: 1, gpu: { count: 1 } },
      scale: { min: 1, max: 5, idleTime: 60, rpsValue: 100, inFlightValue: null },
      env: {},
      fallback: [],
      loras: [],
    },
    desired: opts.desired ?? (state === 'stopped' ? 'stopped' : 'running'),
    state,
    reason: opts.reason ?? null,
    sleeping: opts.sleeping ?? false,
    queued: 0,
    lastRequestAt: null,
    replicas: replicas.map((s, i) => ({
      id: `${name}-${i}`,
      state: s,
      reason: null,
      pid: 1000 + i,
      port: 30000 + i,
      gpus: [i],
      startedAt: '2025-01-01T00:00:00.000Z',
      readyAt: s === 'ready' ? '2025-01-01T00:00:05.000Z' : null,
      restarts: 0,
      inFlight: 0,
    })),
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
  };
}
