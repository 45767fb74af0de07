// What a deployment looks like from outside: the DeploymentStatus the API,
// the CLI and the UI show. A projection of the runtime, no decisions.
import type { DeploymentStatus, ReplicaState } from '../contract/api.js';
import { redactSecrets } from '../contract/deployment.js';
import type { DeploymentRuntime } from './deployment.js';

// When no replica is ready, the deployment shows its most telling replica state.
const STATE_RANK: Record<ReplicaState, number> = { ready: 7, starting: 6, pulling: 5, pending: 4, stopping: 3, failed: 2, stopped: 1 };

export function deploymentStatus(c: DeploymentRuntime): DeploymentStatus {
  const replicas = c.replicas.map((r) => r.status());
  let state: ReplicaState = c.desired === 'running' && !c.sleeping ? 'pending' : 'stopped';
  let reason: string | null = c.sleeping ? 'sleeping: the next request starts it' : null;
  const best = [...replicas].sort((a, b) => STATE_RANK[b.state] - STATE_RANK[a.state])[0];
  if (best && !(c.sleeping && best.state === 'stopped')) {
    state = best.state;
    reason = best.reason ?? replicas.find((r) => r.reason)?.reason ?? null;
  }
  return {
    name: c.name,
    // Secrets never leave the daemon (state file aside): answers show REDACTED.
    spec: redactSecrets(c.spec),
    desired: c.desired,
    state,
    reason,
    sleeping: c.sleeping,
    queued: c.queued,
    lastRequestAt: c.lastRequestAt ? new Date(c.lastRequestAt).toISOString() : null,
    replicas,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}
