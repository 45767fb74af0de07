// Request admission: a slot on a ready replica, now (tryAcquire) or after
// waiting in the deployment's fair queue, a cold start or a wake (acquire).
// STYLE example 2: callers ask; this decides to lease, wait, wake or refuse.
import { HttpError } from '../http/errors.js';
import type { DeploymentRuntime, Lease } from './deployment.js';
import type { DeploymentRegistry } from './registry.js';
import { modelRemoved, modelStopped, type Waker } from './wake.js';

const NO_EXCLUSIONS: ReadonlySet<string> = new Set();

export class Leasing {
  constructor(
    private readonly registry: DeploymentRegistry,
    private readonly waker: Waker,
    private readonly maxQueue: number,
  ) {}

  /**
   * The fast path of acquire(): a slot on a ready replica right now, without
   * waiting, or null (then call acquire()). Never overtakes queued requests.
   */
  tryAcquire(name: string): Lease | null {
    const c = this.registry.get(name);
    if (!c || c.desired !== 'running' || c.queued > 0) return null;
    const lease = c.tryLease(NO_EXCLUSIONS);
    if (lease) c.recordArrival(Date.now());
    return lease;
  }

  /**
   * A slot on a ready replica of `name`. Wakes a sleeping deployment,
   * evicting idle ones if its GPUs are held; waits while replicas start or
   * every replica is at inFlightValue; gives up when `signal` aborts (the
   * caller's wait limit or a client that left).
   */
  async acquire(name: string, opts: { signal: AbortSignal; exclude?: ReadonlySet<string> }): Promise<Lease> {
    const c = this.registry.runtime(name);
    c.recordArrival(Date.now());
    try {
      return await this.acquireLoop(c, opts.signal, opts.exclude ?? new Set<string>());
    } catch (err) {
      if (opts.signal.aborted && !(err instanceof HttpError)) {
        const waited = c.waitReason ? `: ${c.waitReason}` : '';
        throw new HttpError(503, 'model_not_ready', `no replica of ${name} became ready in time${waited}`, undefined, {
          'retry-after': '5',
        });
      }
      throw err;
    }
  }

  private async acquireLoop(c: DeploymentRuntime, signal: AbortSignal, exclude: ReadonlySet<string>): Promise<Lease> {
    const name = c.name;
    for (;;) {
      signal.throwIfAborted();
      if (c.removing) throw modelRemoved(name);
      if (c.desired === 'stopped') throw modelStopped(name);
      // Newcomers queue behind earlier waiters instead of overtaking them.
      if (c.queued === 0) {
        const lease = c.tryLease(exclude);
        if (lease) return lease;
      }
      if (c.ready(exclude).length > 0) return c.enqueue(signal, exclude, this.maxQueue);
      const coming = c.active().filter((r) => !exclude.has(r.id));
      if (coming.length > 0) {
        await this.waitForAnyReplica(c, signal, exclude);
        continue;
      }
      if (exclude.size > 0 && c.active().length > 0) {
        throw new HttpError(503, 'no_other_replica', `${name} has no other ready replica to retry on`);
      }
      const failed = c.replicas.find((r) => r.state === 'failed');
      if (failed && c.spec.scale.min > 0 && !c.sleeping) {
        throw new HttpError(503, 'model_failed', `${name} failed: ${failed.status().reason ?? 'unknown reason'}`);
      }
      await raceAbort(this.waker.wake(c), signal);
    }
  }

  private async waitForAnyReplica(c: DeploymentRuntime, signal: AbortSignal, exclude: ReadonlySet<string>): Promise<void> {
    const pending = c.active().filter((r) => !exclude.has(r.id));
    if (pending.length === 0) return;
    // Whichever comes first: a replica ready (or failed), or any other change.
    await Promise.race([...pending.map((r) => r.waitReady(signal).catch(() => undefined)), c.changed(signal)]);
    signal.throwIfAborted();
    const failed = pending.find((r) => r.state === 'failed');
    if (failed && c.active().length === 0) {
      throw new HttpError(503, 'model_failed', `${c.name} failed to start: ${failed.status().reason ?? 'unknown reason'}`);
    }
  }
}

/** `p`, or a rejection with the signal's reason when `signal` aborts first. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}
