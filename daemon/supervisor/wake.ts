// Scale from zero: a request for a sleeping deployment starts one replica,
// evicting idle deployments when its GPUs are held, and the request waits for
// it. Concurrent requests share the one wake.
import { gpusPerReplica } from '../contract/deployment.js';
import { HttpError, notFound } from '../http/errors.js';
import { pickEviction } from '../scheduler/eviction.js';
import type { DeploymentRuntime } from './deployment.js';
import type { Publish, SupervisorDeps } from './deps.js';
import type { OpQueue } from './op-queue.js';
import type { DeploymentRegistry } from './registry.js';
import type { ReplicaControl } from './replica-control.js';
import { ReplicaFailedError } from './replica.js';
import { AllocationError } from './resources.js';

export const modelStopped = (name: string) => new HttpError(503, 'model_stopped', `${name} is stopped; start it with: berth start ${name}`);
export const modelRemoved = (name: string) => notFound(`deployment ${name} was removed`, 'model_not_found');

export class Waker {
  constructor(
    private readonly deps: SupervisorDeps,
    private readonly registry: DeploymentRegistry,
    private readonly ops: OpQueue,
    private readonly control: ReplicaControl,
    private readonly publish: Publish,
  ) {}

  /**
   * Starts one replica and waits for it. The wait is bounded by the wait
   * limit rather than by any one client, so a client that leaves does not
   * cancel the start for the others.
   */
  wake(c: DeploymentRuntime): Promise<void> {
    c.wakeTask ??= this.run(c, AbortSignal.timeout(this.deps.settings.requestWaitMs)).finally(() => {
      c.wakeTask = null;
    });
    return c.wakeTask;
  }

  private async run(c: DeploymentRuntime, signal: AbortSignal): Promise<void> {
    // A running deployment with no live replica (one failed, scale.min 0) is
    // woken too; only a sleeping one changes state for it.
    if (c.phase.is('sleeping')) c.phase.transition('sleeping', 'waking');
    try {
      await this.wakeNow(c, signal);
    } finally {
      // Gave up before a replica launched (timeout, no GPUs): asleep again.
      if (c.phase.is('waking')) c.phase.transition('waking', 'sleeping');
    }
  }

  private async wakeNow(c: DeploymentRuntime, signal: AbortSignal): Promise<void> {
    const t0 = performance.now();
    const evicted: string[] = [];
    for (;;) {
      signal.throwIfAborted();
      try {
        await this.ops.run(c.name, () => this.launchOne(c));
        break;
      } catch (err) {
        if (!(err instanceof AllocationError)) throw err;
        c.waitReason = err.message;
        const victim = pickEviction(
          [...this.registry.all()].map((d) => ({
            name: d.name,
            min: d.spec.scale.min,
            inFlight: d.inFlight(),
            queued: d.queued,
            active: d.active().length,
            gpus: gpusPerReplica(d.spec),
            lastRequestAt: d.lastRequestAt,
          })),
          c.name,
        );
        const v = victim ? this.registry.get(victim.name) : undefined;
        if (v && (await this.ops.run(v.name, () => this.evict(v, c.name)))) {
          evicted.push(v.name);
          continue;
        }
        // Nothing may be evicted now: wait for a change anywhere, then try again until the caller gives up.
        await this.anyChange(c, signal, 500);
        if (signal.aborted) {
          throw new HttpError(503, 'gpus_busy', `${c.name} is waiting for GPUs: ${err.message}`, undefined, { 'retry-after': '5' });
        }
      }
    }
    c.waitReason = null;
    c.idleDeadline = Date.now() + c.spec.scale.idleTime * 1000;
    const replica = c.active().at(-1);
    if (!replica) return;
    try {
      await replica.waitReady(signal);
    } catch (err) {
      if (signal.aborted) throw err;
      // Stopped or deleted while it started: say so, not "failed".
      if (c.removing) throw modelRemoved(c.name);
      if (c.desired === 'stopped') throw modelStopped(c.name);
      if (err instanceof ReplicaFailedError) throw new HttpError(503, 'model_failed', `${c.name} failed to start: ${err.message}`);
      throw err;
    }
    const seconds = (performance.now() - t0) / 1000;
    this.deps.observer?.coldStart?.(c.name, seconds);
    if (evicted.length) this.deps.observer?.swap?.(c.name, evicted, seconds);
    this.publish({ type: 'deployment.wake', name: c.name, evicted, seconds });
  }

  /** Under c's op lock: one replica, unless a stop or delete came first. */
  private async launchOne(c: DeploymentRuntime): Promise<void> {
    if (c.removing) throw modelRemoved(c.name);
    if (c.desired === 'stopped') throw modelStopped(c.name);
    await this.control.launch(c, 1);
    // An idle or eviction op may have put it to sleep while this waited its turn.
    if (c.phase.is('sleeping', 'waking')) c.phase.transition(['sleeping', 'waking'], 'running');
  }

  /** Under v's op lock: puts `v` to sleep to free its GPUs, unless it changed since it was picked. */
  private async evict(v: DeploymentRuntime, forName: string): Promise<boolean> {
    if (!v.phase.is('running') || v.inFlight() > 0 || v.queued > 0) return false;
    this.deps.log.info({ deployment: forName, evicted: v.name }, 'evicting an idle deployment to free its GPUs');
    v.phase.transition('running', 'sleeping');
    await this.control.halt(v);
    this.publish({ type: 'deployment.sleep', name: v.name, reason: 'evicted' });
    return true;
  }

  /** Any change to `c` or any other deployment, at most `maxMs` from now. */
  private anyChange(c: DeploymentRuntime, signal: AbortSignal, maxMs: number): Promise<void> {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), maxMs);
    const onAbort = () => ctl.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    return Promise.race([c, ...this.registry.all()].map((d) => d.changed(ctl.signal))).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      ctl.abort();
    });
  }
}
