// Brings a deployment's replicas up (GPUs and port reserved, plan built,
// engine started) and down (drained, then stopped). The only place replicas
// are created; the ledger it owns is the only record of who holds which GPU.
//
// Callers hold the deployment's op lock (op-queue.ts) around launch() and
// halt(): both await, and two of them interleaved would count the same
// replicas twice or start one after a stop.
import { join } from 'node:path';
import type { LaunchPlan } from '../contract/api.js';
import { gpusPerReplica } from '../contract/deployment.js';
import { conflict, HttpError } from '../http/errors.js';
import type { DeploymentRuntime } from './deployment.js';
import type { Publish, SupervisorDeps } from './deps.js';
import { planContext, replicaPlan, type PlanContext } from './plan-preview.js';
import { Replica } from './replica.js';
import { ResourceLedger } from './resources.js';

const shuttingDown = () => new HttpError(503, 'shutting_down', 'berth is shutting down');

/** A launch found its deployment deleted under it; nothing was started. */
export const removedWhileStarting = (name: string) =>
  conflict(`deployment ${name} was deleted while it was starting`, 'deployment_removed');

export class ReplicaControl {
  readonly ledger: ResourceLedger;
  private readonly logRoot: string;
  private readonly ctx: PlanContext;
  /** Set by close(): nothing may launch after it, not even a launch already in flight. */
  private closed = false;

  constructor(
    private readonly deps: SupervisorDeps,
    private readonly publish: Publish,
    /** Every replica's `beforeReady` (replica.ts): what a fresh engine needs before it takes requests. */
    private readonly prepare?: (c: DeploymentRuntime, r: Replica, signal: AbortSignal) => Promise<void>,
  ) {
    this.ledger = new ResourceLedger(deps.settings.enginePortBase, deps.isPortFree);
    this.logRoot = join(deps.settings.home, 'logs');
    this.ctx = planContext(deps.settings, deps.baseEnv);
  }

  close(): void {
    this.closed = true;
  }

  /**
   * Brings the deployment up to `target` active replicas. Throws 409 before
   * starting anything. `beforeStart` runs once resources are reserved, before
   * any replica announces a state.
   */
  async launch(c: DeploymentRuntime, target: number, beforeStart?: () => void): Promise<void> {
    this.assertMayLaunch(c);
    const { spec } = c;
    // Replicas from an earlier run are history once we launch anew; their log files stay on disk.
    const old = c.replicas.filter((r) => r.state === 'stopped' || r.state === 'failed');
    if (target > 0 && old.length) {
      c.replicas = c.replicas.filter((r) => !old.includes(r));
      for (const r of old) void r.output.close();
    }
    if (target - c.active().length <= 0) return;
    const count = gpusPerReplica(spec);
    const inventory = count > 0 ? await this.deps.inventory() : null;
    // Once per launch: `auto` probes the engine's Python and Docker (cached a minute).
    const choice = await this.deps.modes.resolve(spec);
    this.assertMayLaunch(c);
    // Counted after the await: a replica may have failed meanwhile.
    const missing = target - c.active().length;
    const fresh: Replica[] = [];
    try {
      for (let i = 0; i < missing; i++) {
        const id = `${spec.name}-${c.seq++}`;
        const res = await this.ledger.reserve(
          spec.name,
          id,
          inventory?.gpus ?? [],
          { count, gpuType: spec.resource.gpu.gpuType },
          inventory?.reason ?? null,
        );
        let plan: LaunchPlan;
        try {
          plan = replicaPlan({ deployment: spec, gpus: res.gpus, port: res.port, replica: id, choice, ctx: this.ctx });
        } catch (err) {
          this.ledger.release(id);
          throw err;
        }
        fresh.push(this.newReplica(c, id, plan));
      }
      // The last await is behind us: from here to start() nothing can interleave.
      this.assertMayLaunch(c);
    } catch (err) {
      for (const r of fresh) {
        this.ledger.release(r.id);
        void r.output.close();
      }
      throw err;
    }
    c.replicas.push(...fresh);
    beforeStart?.();
    for (const r of fresh) r.start();
    c.notify();
  }

  /** Stops every replica, letting in-flight requests finish first (bounded by drainMs). */
  async halt(c: DeploymentRuntime): Promise<void> {
    await Promise.all(c.replicas.map((r) => this.drainThenStop(c, r)));
  }

  private assertMayLaunch(c: DeploymentRuntime): void {
    if (this.closed) throw shuttingDown();
    if (c.removing) throw removedWhileStarting(c.name);
  }

  private async drainThenStop(c: DeploymentRuntime, r: Replica): Promise<void> {
    const end = Date.now() + this.deps.settings.drainMs;
    while (r.inFlight > 0 && Date.now() < end && r.state === 'ready') {
      const ctl = new AbortController();
      const t = setTimeout(() => ctl.abort(), Math.max(0, end - Date.now()));
      await c.changed(ctl.signal);
      clearTimeout(t);
    }
    await r.stop();
  }

  private newReplica(c: DeploymentRuntime, id: string, plan: LaunchPlan): Replica {
    const { settings } = this.deps;
    return new Replica(id, c.name, plan, {
      launcher: this.deps.launcher,
      store: this.deps.store,
      timing: settings,
      log: this.deps.log.child({ replica: id }),
      baseEnv: this.deps.baseEnv,
      secretEnv: c.spec.secretEnv,
      logDir: join(this.logRoot, c.name),
      probe: this.deps.probe,
      beforeReady: this.prepare && ((replica, signal) => this.prepare!(c, replica, signal)),
      onChange: (replica, from, to, reason) => {
        // A replica that is down for good gives its GPUs and port back.
        if (to === 'failed' || to === 'stopped') this.ledger.release(replica.id);
        this.publish({ type: 'replica.state', name: c.name, replica: replica.id, from, state: to, reason });
        c.notify();
      },
      onPull: (replica, progress) => this.publish({ type: 'replica.pull', name: c.name, replica: replica.id, ...progress }),
    });
  }
}
