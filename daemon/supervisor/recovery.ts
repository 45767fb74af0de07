// After a daemon restart: kill the engines the previous daemon left (by pid
// and start time, so never a recycled pid), and read back the deployments and
// their intent from the state file.
import type { Logger } from 'pino';
import type { Deployment } from '../contract/deployment.js';
import { normalizeDeployment } from '../config/deployment.js';
import { killGroupByPid } from '../launchers/process-group.js';
import type { StateStore } from '../state/store.js';
import { DeploymentRuntime } from './deployment.js';

/** Kills every recorded engine group still alive and forgets them all; returns how many it killed. */
export async function reapLeftovers(store: StateStore, graceMs: number, log: Logger): Promise<number> {
  let reaped = 0;
  for (const p of store.listProcesses()) {
    const killed = await killGroupByPid(p.pid, p.startTime, graceMs).catch(() => false);
    if (killed) {
      reaped++;
      log.warn({ pid: p.pid, replica: p.replica }, 'killed an engine left by a previous daemon');
    }
    await store.forgetProcess(p.replica);
  }
  return reaped;
}

/**
 * The deployments in the state file, in the state their intent asks for
 * (nothing launched yet). A spec the current rules reject is skipped with a
 * warning rather than failing the daemon.
 */
export function storedDeployments(store: StateStore, warnings: string[]): DeploymentRuntime[] {
  const out: DeploymentRuntime[] = [];
  for (const d of store.listDeployments()) {
    let spec: Deployment;
    try {
      spec = normalizeDeployment(d.spec);
    } catch (err) {
      warnings.push(`deployment ${d.spec.name} in the state file is no longer valid: ${(err as Error).message}`);
      continue;
    }
    const state = d.desired === 'stopped' ? 'stopped' : spec.scale.min === 0 ? 'sleeping' : 'running';
    out.push(new DeploymentRuntime(spec, state, d.createdAt, d.updatedAt));
  }
  return out;
}
