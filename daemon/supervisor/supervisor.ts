// The supervisor owns every deployment's replicas: it turns desired state into
// running engines, persists intent, reaps what a previous daemon left behind,
// wakes sleeping deployments on demand (evicting idle ones when GPUs are
// short), scales replicas with load, and publishes every state change. The
// API and the gateway call it; it never imports them.
//
// This class is the one door; each job lives in a module named for it:
// lifecycle.ts (create, stop, remove...), leasing.ts (acquire, the queue),
// wake.ts (scale from zero, eviction), scaling.ts (the loop),
// recovery.ts (after a crash), replica-control.ts (launch and halt),
// status.ts (what callers see), log-follow.ts (which replica a followed log
// shows), registry.ts and op-queue.ts (who exists, one op at a time per
// deployment).
import type { DeploymentStatus, LaunchPlan } from '../contract/api.js';
import type { Deployment } from '../contract/deployment.js';
import { normalizeDeployment } from '../config/deployment.js';
import { memoryFraction } from '../engines/memory-budget.js';
import type { GpuClaim } from '../gpu/usage.js';
import { HttpError, notFound } from '../http/errors.js';
import type { DeploymentRuntime, Lease } from './deployment.js';
import { publisher, type SupervisorDeps } from './deps.js';
import { Leasing } from './leasing.js';
import { Lifecycle } from './lifecycle.js';
import { LoraSync } from './lora-sync.js';
import { LoraManager } from './loras.js';
import { followLogs, replicaToShow, type LogFollowSink } from './log-follow.js';
import { OpQueue } from './op-queue.js';
import { planContext, previewPlan } from './plan-preview.js';
import { reapLeftovers, storedDeployments } from './recovery.js';
import { DeploymentRegistry } from './registry.js';
import type { Replica } from './replica.js';
import { ReplicaControl } from './replica-control.js';
import { ScalingLoop } from './scaling.js';
import { deploymentStatus } from './status.js';
import { Waker } from './wake.js';

export type { Lease } from './deployment.js';
export type { SupervisorDeps, SupervisorObserver } from './deps.js';
export type { LogFollowSink } from './log-follow.js';

export interface RouteInfo {
  name: string;
  spec: Deployment;
  ready: boolean;
}

export class Supervisor {
  private readonly registry = new DeploymentRegistry();
  private readonly control: ReplicaControl;
  private readonly lifecycle: Lifecycle;
  private readonly leasing: Leasing;
  private readonly scaling: ScalingLoop;
  /** A deployment's LoRA adapters: list, add, remove (loras.ts). */
  readonly loras: LoraManager;

  constructor(private readonly deps: SupervisorDeps) {
    const publish = publisher(deps.events);
    const ops = new OpQueue();
    const adapters = new LoraSync(deps.log);
    this.control = new ReplicaControl(deps, publish, (c, r, signal) => adapters.prepare(c, r, signal));
    this.lifecycle = new Lifecycle(deps, this.registry, ops, this.control, publish);
    this.loras = new LoraManager(this.registry, this.lifecycle, adapters);
    const waker = new Waker(deps, this.registry, ops, this.control, publish);
    this.leasing = new Leasing(this.registry, waker, deps.settings.maxQueue);
    this.scaling = new ScalingLoop(this.registry, ops, this.control, publish, deps.log);
  }

  /** Reaps engines a previous daemon left, then starts what should be running. */
  async init(): Promise<{ reaped: number; warnings: string[] }> {
    const { store, log } = this.deps;
    const warnings = await store.load();
    for (const w of warnings) log.warn(w);
    const reaped = await reapLeftovers(store, this.deps.settings.stopGraceMs, log);
    // Containers of this state dir that no replica owns (none runs yet): a
    // previous daemon's, still holding GPUs and ports.
    const containers = (await this.deps.launcher.reapLeftovers?.()) ?? 0;
    if (containers) log.warn({ containers }, 'removed containers left by a previous daemon');
    const stored = storedDeployments(store, warnings);
    // Listed at once, launched after init returns, so the daemon listens
    // without waiting on nvidia-smi and port probes (seconds on a busy
    // machine); still one at a time, in saved order. Launches queue per
    // deployment, so a request or a stop meanwhile waits its turn. The reaping
    // above stays first: a leftover engine must release its GPUs before
    // anything launches.
    for (const c of stored) this.registry.add(c);
    void (async () => {
      for (const c of stored) {
        await this.lifecycle.restore(c).catch((err: unknown) => {
          log.warn({ deployment: c.name, err: (err as Error).message }, 'could not restore deployment');
        });
      }
    })();
    this.scaling.start(this.deps.settings.scaleIntervalMs);
    return { reaped: reaped + containers, warnings };
  }

  list(): DeploymentStatus[] {
    return [...this.registry.all()].map(deploymentStatus);
  }

  get(name: string): DeploymentStatus {
    return deploymentStatus(this.registry.runtime(name));
  }

  has(name: string): boolean {
    return this.registry.has(name);
  }

  create(input: unknown, opts: { start?: boolean } = {}): Promise<DeploymentStatus> {
    return this.lifecycle.create(input, opts);
  }

  update(name: string, patch: unknown): Promise<DeploymentStatus> {
    return this.lifecycle.update(name, patch);
  }

  remove(name: string): Promise<void> {
    return this.lifecycle.remove(name);
  }

  /** An explicit start brings up at least one replica, even for scale.min 0. */
  start(name: string): Promise<DeploymentStatus> {
    return this.lifecycle.start(name);
  }

  stop(name: string): Promise<DeploymentStatus> {
    return this.lifecycle.stop(name);
  }

  restart(name: string): Promise<DeploymentStatus> {
    return this.lifecycle.restart(name);
  }

  /**
   * The replica whose logs a user most likely wants: the newest one running
   * or coming up, else the newest (whose last lines say why nothing runs).
   * The same one a followed stream starts with.
   */
  replicaForLogs(name: string, replicaId?: string): Replica | null {
    const c = this.registry.runtime(name);
    return replicaId ? this.namedReplica(c, replicaId) : replicaToShow(null, c.replicas);
  }

  /**
   * A followed log stream (log-follow.ts): without `replica` it follows the
   * deployment from replica to replica until the deployment is deleted; with
   * one, that replica until it is gone for good. Checks now (404 for an
   * unknown deployment or replica); `attach` starts it, returning the stop.
   */
  followLogs(name: string, opts: { replica?: string; tail: number; ansi: boolean }): (sink: LogFollowSink) => () => void {
    const c = this.registry.runtime(name);
    const pinned = opts.replica ? this.namedReplica(c, opts.replica) : null;
    return (sink) => followLogs(c, this.deps.events, { pinned, tail: opts.tail, ansi: opts.ansi }, sink);
  }

  private namedReplica(c: DeploymentRuntime, id: string): Replica {
    const r = c.replicas.find((x) => x.id === id);
    if (!r) throw notFound(`deployment ${c.name} has no replica ${id}`);
    return r;
  }

  /**
   * What the gateway routes on, cheap enough for every request (no status
   * objects built): each deployment's spec and whether a replica is ready.
   */
  routes(): RouteInfo[] {
    const out: RouteInfo[] = [];
    for (const c of this.registry.all()) out.push({ name: c.name, spec: c.spec, ready: c.replicas.some((r) => r.state === 'ready') });
    return out;
  }

  /**
   * The fast path of acquire(): a slot on a ready replica right now, without
   * waiting, or null (then call acquire()). Never overtakes queued requests.
   */
  tryAcquire(name: string): Lease | null {
    return this.leasing.tryAcquire(name);
  }

  /**
   * A slot on a ready replica of `name` (STYLE example 2: ask, don't peek).
   * Wakes a sleeping deployment, evicting idle ones if its GPUs are held;
   * waits while replicas start or every replica is at inFlightValue; gives up
   * when `signal` aborts (the caller's wait limit or a client that left).
   */
  acquire(name: string, opts: { signal: AbortSignal; exclude?: ReadonlySet<string> }): Promise<Lease> {
    return this.leasing.acquire(name, opts);
  }

  /** Ready replicas of a deployment, for stats scraping and adapter discovery. */
  readyReplicas(name: string): Replica[] {
    return this.registry.get(name)?.ready() ?? [];
  }

  /**
   * Every replica with an engine process now, its GPUs and its memory budget:
   * what GPU accounting maps nvidia-smi's processes onto.
   */
  gpuClaims(): GpuClaim[] {
    const out: GpuClaim[] = [];
    for (const c of this.registry.all()) {
      for (const r of c.replicas) {
        const pid = r.status().pid;
        if (pid === null) continue;
        out.push({ deployment: c.name, replica: r.id, pid, gpus: r.plan.gpus, memoryFraction: memoryFraction(r.plan) });
      }
    }
    return out;
  }

  async plan(input: unknown): Promise<LaunchPlan> {
    const deployment = normalizeDeployment(input);
    return previewPlan({
      deployment,
      inventory: await this.deps.inventory(),
      held: this.control.ledger.gpuHolders(),
      reservedPorts: new Set(this.control.ledger.reservations().map((r) => r.port)),
      portBase: this.deps.settings.enginePortBase,
      isPortFree: this.deps.isPortFree,
      ctx: planContext(this.deps.settings, this.deps.baseEnv),
      modes: this.deps.modes,
    });
  }

  /** Daemon exit: stop every engine, keep desired state so the next daemon restores it. */
  async shutdown(): Promise<void> {
    // Before anything awaits: no launch may start an engine from here on.
    this.control.close();
    this.scaling.stop();
    const all = [...this.registry.all()];
    for (const c of all) c.rejectQueue(new HttpError(503, 'shutting_down', 'berth is shutting down'));
    await Promise.all(all.map((c) => this.control.halt(c)));
    await Promise.all(all.flatMap((c) => c.replicas.map((r) => r.output.close())));
    await this.deps.store.idle();
  }
}
