// The scaling loop: once per scaleIntervalMs, idle deployments scale down
// (to zero, asleep, when scale.min is 0) and loaded ones scale up within
// scale.max. The decisions are scheduler/autoscale.ts's; this carries them out.
import type { Logger } from 'pino';
import { decideByTtft, decideReplicas } from '../scheduler/autoscale.js';
import type { DeploymentRuntime } from './deployment.js';
import type { Publish } from './deps.js';
import type { OpQueue } from './op-queue.js';
import type { DeploymentRegistry } from './registry.js';
import type { ReplicaControl } from './replica-control.js';
import { AllocationError } from './resources.js';

export class ScalingLoop {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly registry: DeploymentRegistry,
    private readonly ops: OpQueue,
    private readonly control: ReplicaControl,
    private readonly publish: Publish,
    private readonly log: Logger,
  ) {}

  start(intervalMs: number): void {
    this.timer ??= setInterval(() => this.tick(), intervalMs).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const now = Date.now();
    for (const c of this.registry.all()) {
      if (c.desired !== 'running') continue;
      c.sampleConcurrency(now);
      // One decision at a time per deployment, taken under its op lock: a
      // launch awaits the inventory, and a second tick meanwhile would count
      // the same replicas and overshoot; a stop meanwhile would be undone.
      if (c.scaling) continue;
      c.scaling = true;
      void this.ops
        .run(c.name, () => this.scaleOne(c))
        .catch((err: unknown) => this.log.warn({ deployment: c.name, err }, 'scaling failed'))
        .finally(() => {
          c.scaling = false;
        });
    }
  }

  private async scaleOne(c: DeploymentRuntime): Promise<void> {
    // The lock may have been held by a stop or a delete: decide on what is true now.
    if (c.desired !== 'running') return;
    const now = Date.now();
    const active = c.active();
    const busy = c.inFlight() > 0 || c.queued > 0 || c.wakeTask !== null;
    if (!busy && active.length > c.spec.scale.min && now >= c.idleDeadline && now - c.lastRequestAt >= 0) {
      // Idle: everything above the floor goes; with min 0 the GPUs are freed.
      const excess = active.slice(c.spec.scale.min);
      await Promise.all(excess.map((r) => r.stop()));
      if (c.active().length === 0 && c.phase.is('running')) {
        c.phase.transition('running', 'sleeping');
        this.publish({ type: 'deployment.sleep', name: c.name, reason: 'idle' });
      }
      return;
    }
    if (c.sleeping || active.length === 0) return;
    const desired = this.desired(c, now, active.length);
    if (desired > active.length) {
      try {
        await this.control.launch(c, active.length + 1);
        c.scaledAt = Date.now();
        this.publish({ type: 'deployment.scale', name: c.name, from: active.length, to: active.length + 1 });
      } catch (err) {
        // Only while free GPUs fit another replica: no eviction for scale-up.
        if (!(err instanceof AllocationError)) throw err;
      }
    } else if (desired < active.length) {
      const idle = [...c.ready()].reverse().find((r) => r.inFlight === 0);
      if (idle) {
        await idle.stop();
        c.scaledAt = Date.now();
        this.publish({ type: 'deployment.scale', name: c.name, from: active.length, to: active.length - 1 });
      }
    }
  }

  /** Replicas wanted now: by time to first token when scale.ttft is set, else by rps and in-flight targets. */
  private desired(c: DeploymentRuntime, now: number, current: number): number {
    const { scale } = c.spec;
    const min = Math.max(scale.min, 1);
    if (scale.ttft) {
      const { upper, lower, windowSec } = scale.ttft;
      return decideByTtft({ now, samples: c.ttftSamples, since: c.scaledAt, windowMs: windowSec * 1000, current, min, max: scale.max, upper, lower });
    }
    const decision = decideReplicas({
      now,
      arrivals: c.recentArrivals(),
      concurrency: c.concurrency,
      current,
      min,
      max: scale.max,
      rpsValue: scale.rpsValue,
      inFlightValue: scale.inFlightValue,
      panicUntil: c.panicUntil,
    });
    c.panicUntil = decision.panicUntil;
    return decision.desired;
  }
}
