// The user's operations on a deployment: create, update, start, stop,
// restart, remove, and restoring one from the state file. Each runs under the
// deployment's op lock (op-queue.ts), so a stop or a delete that arrives
// during a cold start waits for the launch to hand its replicas over, then
// stops them: no engine outlives the intent to stop it.
import type { DeploymentStatus } from '../contract/api.js';
import type { Deployment, Lora } from '../contract/deployment.js';
import { keepRedactedSecrets, mergePatch, normalizeDeployment } from '../config/deployment.js';
import { badRequest, conflict, HttpError, notFound } from '../http/errors.js';
import { DeploymentRuntime } from './deployment.js';
import { DEPLOYMENT_STATES, type DeploymentState } from './deployment-states.js';
import type { Publish, SupervisorDeps } from './deps.js';
import type { OpQueue } from './op-queue.js';
import type { DeploymentRegistry } from './registry.js';
import { removedWhileStarting, type ReplicaControl } from './replica-control.js';
import { deploymentStatus } from './status.js';
import { assertPathExists } from './loras.js';

const REMOVABLE = DEPLOYMENT_STATES.filter((s) => s !== 'removing');

export class Lifecycle {
  constructor(
    private readonly deps: SupervisorDeps,
    private readonly registry: DeploymentRegistry,
    private readonly ops: OpQueue,
    private readonly control: ReplicaControl,
    private readonly publish: Publish,
  ) {}

  /** Brings back a deployment from the state file: launches it if it should run. */
  async restore(c: DeploymentRuntime): Promise<void> {
    this.registry.add(c);
    if (!c.phase.is('running')) return;
    await this.locked(c, () => this.control.launch(c, c.spec.scale.min));
  }

  async create(input: unknown, opts: { start?: boolean } = {}): Promise<DeploymentStatus> {
    const spec = normalizeDeployment(input);
    await assertLoraPaths(spec, []);
    if (this.registry.has(spec.name)) throw conflict(`deployment ${spec.name} already exists`, 'deployment_exists', 'name');
    const now = new Date().toISOString();
    // scale.min 0 deploys asleep: the first request starts it.
    const initial: DeploymentState = opts.start === false ? 'stopped' : spec.scale.min === 0 ? 'sleeping' : 'running';
    const c = new DeploymentRuntime(spec, initial, now, now);
    // Registered before the launch so that requests wait for it and a delete
    // can find it; the launch itself queues behind any op on this name (a
    // delete of an older deployment of the same name).
    this.registry.add(c);
    return this.ops.run(spec.name, async () => {
      let published = false;
      const announce = () => {
        published = true;
        this.publish({ type: 'deployment.created', name: spec.name });
      };
      try {
        if (c.removing) throw removedWhileStarting(spec.name);
        // The deployment is announced before its replicas announce their states.
        if (initial === 'running') await this.control.launch(c, spec.scale.min, announce);
      } catch (err) {
        // A 409 leaves nothing behind, not even a request waiting for it.
        this.discard(c);
        throw err;
      }
      if (!published) announce();
      await this.persist(c);
      return deploymentStatus(c);
    });
  }

  async update(name: string, patch: unknown): Promise<DeploymentStatus> {
    this.registry.runtime(name);
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('expected a JSON object');
    if ('name' in patch && (patch as { name: unknown }).name !== name) throw badRequest('name cannot be changed', 'name');
    const { status } = await this.revise(
      name,
      async (spec) => {
        const next = normalizeDeployment(mergePatch(spec, keepRedactedSecrets(patch, spec)));
        await assertLoraPaths(next, spec.loras);
        return next;
      },
      { restart: true },
    );
    return status;
  }

  /**
   * Changes a deployment's spec under its lock. `next` gets the current spec
   * and returns the new one; it may also do what makes the change true in
   * running engines (load an adapter), throwing to change nothing. The spec
   * is stored and announced; running engines restart when `restart` says
   * the engine takes the change only at launch.
   */
  async revise(
    name: string,
    next: (spec: Deployment, c: DeploymentRuntime) => Deployment | Promise<Deployment>,
    opts: { restart: boolean },
  ): Promise<{ status: DeploymentStatus; restarted: boolean }> {
    const c = this.registry.runtime(name);
    return this.locked(c, async () => {
      c.spec = await next(c.spec, c);
      c.updatedAt = new Date().toISOString();
      await this.persist(c);
      this.publish({ type: 'deployment.updated', name });
      const restarted = opts.restart && c.phase.is('running');
      if (restarted) await this.restartLocked(c);
      return { status: deploymentStatus(c), restarted };
    });
  }

  /**
   * Gone at once for every caller (404, its name free again), then its
   * engines stop: after whatever op was already running on it, so a launch
   * in flight either never starts an engine or hands it over to this stop.
   */
  async remove(name: string): Promise<void> {
    const c = this.registry.runtime(name);
    this.registry.delete(c);
    c.phase.transition(REMOVABLE, 'removing');
    c.rejectQueue(notFound(`deployment ${name} was removed`, 'model_not_found'));
    await this.ops.run(name, async () => {
      await this.control.halt(c);
      for (const r of c.replicas) await r.dispose();
      await this.deps.store.deleteDeployment(name);
      this.publish({ type: 'deployment.deleted', name });
    });
  }

  /** An explicit start brings up at least one replica, even for scale.min 0. */
  async start(name: string): Promise<DeploymentStatus> {
    const c = this.registry.runtime(name);
    return this.locked(c, async () => {
      if (c.active().length === 0) await this.control.launch(c, Math.max(c.spec.scale.min, 1));
      c.idleDeadline = Date.now() + c.spec.scale.idleTime * 1000;
      await this.enter(c, ['stopped', 'sleeping', 'waking'], 'running');
      return deploymentStatus(c);
    });
  }

  /** Drains and stops every replica; waiting requests get 503 model_stopped at once. */
  async stop(name: string): Promise<DeploymentStatus> {
    const c = this.registry.runtime(name);
    return this.locked(c, async () => {
      if (!c.phase.is('stopped')) {
        await this.enter(c, ['running', 'sleeping', 'waking'], 'draining');
        c.rejectQueue(new HttpError(503, 'model_stopped', `${name} was stopped`));
      }
      await this.control.halt(c);
      // A delete that came meanwhile has taken over; it stops what is left.
      if (c.phase.is('draining')) c.phase.transition('draining', 'stopped');
      return deploymentStatus(c);
    });
  }

  async restart(name: string): Promise<DeploymentStatus> {
    const c = this.registry.runtime(name);
    return this.locked(c, () => this.restartLocked(c));
  }

  private async restartLocked(c: DeploymentRuntime): Promise<DeploymentStatus> {
    await this.control.halt(c);
    await this.control.launch(c, Math.max(c.spec.scale.min, 1));
    c.idleDeadline = Date.now() + c.spec.scale.idleTime * 1000;
    await this.enter(c, ['stopped', 'sleeping', 'waking'], 'running');
    return deploymentStatus(c);
  }

  /** Runs `op` under the deployment's lock, unless it was deleted before its turn came. */
  private locked<T>(c: DeploymentRuntime, op: () => Promise<T>): Promise<T> {
    return this.ops.run(c.name, () => {
      if (c.removing) throw notFound(`deployment ${c.name} does not exist`, 'deployment_not_found');
      return op();
    });
  }

  /** Moves to `next` (nothing to do when already there) and persists a change of intent. */
  private async enter(c: DeploymentRuntime, expected: readonly DeploymentState[], next: DeploymentState): Promise<void> {
    if (c.phase.is(next)) return;
    const desired = c.desired;
    c.phase.transition(expected, next);
    if (c.desired === desired) return;
    c.updatedAt = new Date().toISOString();
    await this.persist(c);
  }

  /** A deployment whose creation failed: gone, and nothing may wake it. */
  private discard(c: DeploymentRuntime): void {
    this.registry.delete(c);
    if (!c.removing) c.phase.transition(REMOVABLE, 'removing');
    c.rejectQueue(notFound(`deployment ${c.name} could not be created`, 'model_not_found'));
  }

  private persist(c: DeploymentRuntime): Promise<void> {
    return this.deps.store.putDeployment({ spec: c.spec, desired: c.desired, createdAt: c.createdAt, updatedAt: c.updatedAt });
  }
}

/** Every adapter path `spec` adds to `before` exists (loras.ts); stored ones are not checked again. */
async function assertLoraPaths(spec: Deployment, before: readonly Lora[]): Promise<void> {
  for (const [i, l] of spec.loras.entries()) {
    if (!before.some((b) => b.name === l.name && b.path === l.path)) await assertPathExists(l.path, `loras[${i}].path`);
  }
}
