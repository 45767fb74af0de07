// The supervisor owns every deployment's replicas: it turns desired state into
// running engines, persists intent, reaps what a previous daemon left behind,
// wakes sleeping deployments on demand (evicting idle ones when GPUs are
// short), scales replicas with load, and publishes every state change. The
// API and the gateway call it; it never imports them.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BerthEvent, DeploymentStatus, DesiredState, GpuInventory, LaunchPlan, ReplicaState } from '../contract/api.js';
import { gpusPerReplica, type Deployment } from '../contract/deployment.js';
import { mergePatch, normalizeDeployment } from '../config/deployment.js';
import type { Settings } from '../config/settings.js';
import { buildPlan } from '../engines/plan.js';
import type { EventBus } from '../events/bus.js';
import { badRequest, conflict, HttpError, notFound } from '../http/errors.js';
import { killGroupByPid } from '../launchers/process-group.js';
import type { Launcher } from '../launchers/types.js';
import { decideReplicas } from '../scheduler/autoscale.js';
import { pickEviction } from '../scheduler/eviction.js';
import type { PortProbe } from '../scheduler/ports.js';
import type { StateStore } from '../state/store.js';
import { DeploymentRuntime, type Lease } from './deployment.js';
import { interpreterFor, previewPlan } from './plan-preview.js';
import type { HttpProbe } from './readiness.js';
import { Replica, ReplicaFailedError } from './replica.js';
import { AllocationError, ResourceLedger } from './resources.js';

export type { Lease } from './deployment.js';

export interface RouteInfo {
  name: string;
  spec: Deployment;
  ready: boolean;
}

const NO_EXCLUSIONS: ReadonlySet<string> = new Set();

/** Hooks for the gateway's metrics; the supervisor does not know prom-client. */
export interface SupervisorObserver {
  coldStart?(deployment: string, seconds: number): void;
  swap?(deployment: string, evicted: string[], seconds: number): void;
}

export interface SupervisorDeps {
  settings: Settings;
  store: StateStore;
  launcher: Launcher;
  events: EventBus;
  log: Logger;
  inventory: () => Promise<GpuInventory>;
  isPortFree: PortProbe;
  probe?: HttpProbe;
  /** Environment every engine inherits (the daemon's, minus Berth's secrets). */
  baseEnv: Record<string, string>;
  observer?: SupervisorObserver;
}

// When no replica is ready, the deployment shows its most telling replica state.
const STATE_RANK: Record<ReplicaState, number> = { ready: 6, starting: 5, pending: 4, stopping: 3, failed: 2, stopped: 1 };

type PublishedEvent = BerthEvent extends infer E ? (E extends BerthEvent ? Omit<E, 'ts'> : never) : never;

export class Supervisor {
  private readonly deployments = new Map<string, DeploymentRuntime>();
  private readonly ledger: ResourceLedger;
  private readonly logRoot: string;
  private timers: NodeJS.Timeout[] = [];
  /** Set by shutdown(): nothing may launch after it, not even a wake already in flight. */
  private closed = false;

  constructor(private readonly deps: SupervisorDeps) {
    this.ledger = new ResourceLedger(deps.settings.enginePortBase, deps.isPortFree);
    this.logRoot = join(deps.settings.home, 'logs');
  }

  /** Reaps engines a previous daemon left, then starts what should be running. */
  async init(): Promise<{ reaped: number; warnings: string[] }> {
    const { store, log } = this.deps;
    const warnings = await store.load();
    for (const w of warnings) log.warn(w);
    let reaped = 0;
    for (const p of store.listProcesses()) {
      const killed = await killGroupByPid(p.pid, p.startTime, this.deps.settings.stopGraceMs).catch(() => false);
      if (killed) {
        reaped++;
        log.warn({ pid: p.pid, replica: p.replica }, 'killed an engine left by a previous daemon');
      }
      await store.forgetProcess(p.replica);
    }
    for (const d of store.listDeployments()) {
      let spec: Deployment;
      try {
        spec = normalizeDeployment(d.spec);
      } catch (err) {
        warnings.push(`deployment ${d.spec.name} in the state file is no longer valid: ${(err as Error).message}`);
        continue;
      }
      this.deployments.set(spec.name, new DeploymentRuntime(spec, d.desired, d.createdAt, d.updatedAt));
    }
    // Restored after init returns, so the daemon listens without waiting on
    // nvidia-smi and port probes (seconds on a busy machine); still one at a
    // time, in saved order. Launches chain per deployment, so a request or a
    // scaling tick meanwhile waits its turn. The reaping above stays first:
    // a leftover engine must release its GPUs before anything launches.
    void (async () => {
      for (const c of this.deployments.values()) {
        if (c.desired !== 'running') continue;
        await this.launch(c, c.spec.scale.min).catch((err: unknown) => {
          log.warn({ deployment: c.name, err: (err as Error).message }, 'could not restore deployment');
        });
      }
    })();
    this.timers.push(setInterval(() => this.tick(), this.deps.settings.scaleIntervalMs).unref());
    return { reaped, warnings };
  }

  list(): DeploymentStatus[] {
    return [...this.deployments.values()].map((c) => this.statusOf(c));
  }

  get(name: string): DeploymentStatus {
    return this.statusOf(this.runtime(name));
  }

  has(name: string): boolean {
    return this.deployments.has(name);
  }

  async create(input: unknown, opts: { start?: boolean } = {}): Promise<DeploymentStatus> {
    const spec = normalizeDeployment(input);
    if (this.deployments.has(spec.name)) throw conflict(`deployment ${spec.name} already exists`, 'deployment_exists', 'name');
    const now = new Date().toISOString();
    const c = new DeploymentRuntime(spec, opts.start === false ? 'stopped' : 'running', now, now);
    this.deployments.set(spec.name, c);
    let published = false;
    const announce = () => {
      published = true;
      this.publish({ type: 'deployment.created', name: spec.name });
    };
    if (c.desired === 'running') {
      try {
        // scale.min 0 deploys asleep: the first request starts it. The
        // deployment is announced before its replicas announce their states.
        await this.launch(c, spec.scale.min, announce);
      } catch (err) {
        // A 409 leaves nothing behind.
        this.deployments.delete(spec.name);
        throw err;
      }
    }
    if (!published) announce();
    await this.persist(c);
    return this.statusOf(c);
  }

  async update(name: string, patch: unknown): Promise<DeploymentStatus> {
    const c = this.runtime(name);
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('expected a JSON object');
    if ('name' in patch && (patch as { name: unknown }).name !== name) throw badRequest('name cannot be changed', 'name');
    c.spec = normalizeDeployment(mergePatch(c.spec, patch));
    c.updatedAt = new Date().toISOString();
    await this.persist(c);
    this.publish({ type: 'deployment.updated', name });
    if (c.desired === 'running' && !c.sleeping) await this.restart(name);
    return this.statusOf(c);
  }

  async remove(name: string): Promise<void> {
    const c = this.runtime(name);
    this.deployments.delete(name);
    c.rejectQueue(notFound(`deployment ${name} was removed`, 'model_not_found'));
    await this.halt(c);
    for (const r of c.replicas) await r.dispose();
    await this.deps.store.deleteDeployment(name);
    this.publish({ type: 'deployment.deleted', name });
  }

  /** An explicit start brings up at least one replica, even for scale.min 0. */
  async start(name: string): Promise<DeploymentStatus> {
    const c = this.runtime(name);
    if (c.active().length === 0) await this.launch(c, Math.max(c.spec.scale.min, 1));
    c.idleDeadline = Date.now() + c.spec.scale.idleTime * 1000;
    await this.setDesired(c, 'running');
    return this.statusOf(c);
  }

  async stop(name: string): Promise<DeploymentStatus> {
    const c = this.runtime(name);
    await this.setDesired(c, 'stopped');
    c.sleeping = false;
    c.rejectQueue(new HttpError(503, 'model_stopped', `${name} was stopped`));
    await this.halt(c);
    return this.statusOf(c);
  }

  async restart(name: string): Promise<DeploymentStatus> {
    const c = this.runtime(name);
    await this.halt(c);
    await this.launch(c, Math.max(c.spec.scale.min, 1));
    c.idleDeadline = Date.now() + c.spec.scale.idleTime * 1000;
    await this.setDesired(c, 'running');
    return this.statusOf(c);
  }

  /** The replica whose logs a user most likely wants: the newest one. */
  replicaForLogs(name: string, replicaId?: string): Replica | null {
    const c = this.runtime(name);
    if (replicaId) {
      const r = c.replicas.find((x) => x.id === replicaId);
      if (!r) throw notFound(`deployment ${name} has no replica ${replicaId}`);
      return r;
    }
    return c.replicas.at(-1) ?? null;
  }

  /**
   * What the gateway routes on, cheap enough for every request (no status
   * objects built): each deployment's spec and whether a replica is ready.
   */
  routes(): RouteInfo[] {
    const out: RouteInfo[] = [];
    for (const c of this.deployments.values()) out.push({ name: c.name, spec: c.spec, ready: c.replicas.some((r) => r.state === 'ready') });
    return out;
  }

  /**
   * The fast path of acquire(): a slot on a ready replica right now, without
   * waiting, or null (then call acquire()). Never overtakes queued requests.
   */
  tryAcquire(name: string): Lease | null {
    const c = this.deployments.get(name);
    if (!c || c.desired !== 'running' || c.queued > 0) return null;
    const lease = c.tryLease(NO_EXCLUSIONS);
    if (lease) c.recordArrival(Date.now());
    return lease;
  }

  /** Ready replicas of a deployment, for stats scraping and adapter discovery. */
  readyReplicas(name: string): Replica[] {
    return this.deployments.get(name)?.ready() ?? [];
  }

  async plan(input: unknown): Promise<LaunchPlan> {
    const deployment = normalizeDeployment(input);
    return previewPlan({
      deployment,
      inventory: await this.deps.inventory(),
      held: this.ledger.gpuHolders(),
      reservedPorts: new Set(this.ledger.reservations().map((r) => r.port)),
      portBase: this.deps.settings.enginePortBase,
      isPortFree: this.deps.isPortFree,
      interpreters: this.deps.settings,
    });
  }

  /**
   * A slot on a ready replica of `name` (STYLE example 2: ask, don't peek).
   * Wakes a sleeping deployment, evicting idle ones if its GPUs are held;
   * waits while replicas start or every replica is at inFlightValue; gives up
   * when `signal` aborts (the caller's wait limit or a client that left).
   */
  async acquire(name: string, opts: { signal: AbortSignal; exclude?: ReadonlySet<string> }): Promise<Lease> {
    const c = this.runtime(name);
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
      if (c.desired === 'stopped') throw new HttpError(503, 'model_stopped', `${name} is stopped; start it with: berth start ${name}`);
      // Newcomers queue behind earlier waiters instead of overtaking them.
      if (c.queued === 0) {
        const lease = c.tryLease(exclude);
        if (lease) return lease;
      }
      if (c.ready(exclude).length > 0) return c.enqueue(signal, exclude, this.deps.settings.maxQueue);
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
      await raceAbort(this.wake(c), signal);
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

  /**
   * Starts one replica for a sleeping deployment. Concurrent requests share the
   * one start, which is bounded by the wait limit rather than by any one
   * client, so a client that leaves does not cancel the start for the others.
   */
  private wake(c: DeploymentRuntime): Promise<void> {
    c.waking ??= this.doWake(c, AbortSignal.timeout(this.deps.settings.requestWaitMs)).finally(() => {
      c.waking = null;
    });
    return c.waking;
  }

  private async doWake(c: DeploymentRuntime, signal: AbortSignal): Promise<void> {
    const t0 = performance.now();
    const evicted: string[] = [];
    for (;;) {
      signal.throwIfAborted();
      try {
        await this.launch(c, 1);
        break;
      } catch (err) {
        if (!(err instanceof AllocationError)) throw err;
        c.waitReason = err.message;
        const victim = pickEviction(
          [...this.deployments.values()].map((d) => ({
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
        if (!victim) {
          // Nothing may be evicted now: wait for a change anywhere, then try again until the caller gives up.
          await this.anyChange(signal, 500);
          if (signal.aborted) {
            throw new HttpError(503, 'gpus_busy', `${c.name} is waiting for GPUs: ${err.message}`, undefined, { 'retry-after': '5' });
          }
          continue;
        }
        const v = this.runtime(victim.name);
        this.deps.log.info({ deployment: c.name, evicted: v.name }, 'evicting an idle deployment to free its GPUs');
        await this.halt(v);
        v.sleeping = true;
        evicted.push(v.name);
        this.publish({ type: 'deployment.sleep', name: v.name, reason: 'evicted' });
      }
    }
    c.waitReason = null;
    c.sleeping = false;
    c.idleDeadline = Date.now() + c.spec.scale.idleTime * 1000;
    const replica = c.active().at(-1);
    if (!replica) return;
    try {
      await replica.waitReady(signal);
    } catch (err) {
      if (signal.aborted) throw err;
      if (err instanceof ReplicaFailedError) throw new HttpError(503, 'model_failed', `${c.name} failed to start: ${err.message}`);
      throw err;
    }
    const seconds = (performance.now() - t0) / 1000;
    this.deps.observer?.coldStart?.(c.name, seconds);
    if (evicted.length) this.deps.observer?.swap?.(c.name, evicted, seconds);
    this.publish({ type: 'deployment.wake', name: c.name, evicted, seconds });
  }

  private anyChange(signal: AbortSignal, maxMs: number): Promise<void> {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), maxMs);
    const onAbort = () => ctl.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    return Promise.race([...this.deployments.values()].map((d) => d.changed(ctl.signal))).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      ctl.abort();
    });
  }

  /** Daemon exit: stop every engine, keep desired state so the next daemon restores it. */
  async shutdown(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const c of this.deployments.values()) c.rejectQueue(new HttpError(503, 'shutting_down', 'berth is shutting down'));
    await Promise.all([...this.deployments.values()].map((c) => this.halt(c)));
    await Promise.all([...this.deployments.values()].flatMap((c) => c.replicas.map((r) => r.output.close())));
    await this.deps.store.idle();
  }

  // ---------- scaling loop ----------

  /** Idle scale-down and load-based scale-up, once per scaleIntervalMs. */
  private tick(): void {
    const now = Date.now();
    for (const c of this.deployments.values()) {
      if (c.desired !== 'running') continue;
      c.sampleConcurrency(now);
      // One decision at a time per deployment: a launch awaits the inventory,
      // and a second tick meanwhile would count the same replicas and overshoot.
      if (c.scaling) continue;
      c.scaling = true;
      void this.scaleOne(c, now)
        .catch((err: unknown) => this.deps.log.warn({ deployment: c.name, err }, 'scaling failed'))
        .finally(() => {
          c.scaling = false;
        });
    }
  }

  private async scaleOne(c: DeploymentRuntime, now: number): Promise<void> {
    const active = c.active();
    const busy = c.inFlight() > 0 || c.queued > 0 || c.waking !== null;
    if (!busy && active.length > c.spec.scale.min && now >= c.idleDeadline && now - c.lastRequestAt >= 0) {
      // Idle: everything above the floor goes; with min 0 the GPUs are freed.
      const excess = active.slice(c.spec.scale.min);
      await Promise.all(excess.map((r) => r.stop()));
      if (c.active().length === 0) {
        c.sleeping = true;
        this.publish({ type: 'deployment.sleep', name: c.name, reason: 'idle' });
      }
      return;
    }
    if (c.sleeping || active.length === 0) return;
    const decision = decideReplicas({
      now,
      arrivals: c.recentArrivals(),
      concurrency: c.concurrency,
      current: active.length,
      min: Math.max(c.spec.scale.min, 1),
      max: c.spec.scale.max,
      rpsValue: c.spec.scale.rpsValue,
      inFlightValue: c.spec.scale.inFlightValue,
      panicUntil: c.panicUntil,
    });
    c.panicUntil = decision.panicUntil;
    if (decision.desired > active.length) {
      try {
        await this.launch(c, active.length + 1);
        this.publish({ type: 'deployment.scale', name: c.name, from: active.length, to: active.length + 1 });
      } catch (err) {
        // Only while free GPUs fit another replica: no eviction for scale-up.
        if (!(err instanceof AllocationError)) throw err;
      }
    } else if (decision.desired < active.length) {
      const idle = [...c.ready()].reverse().find((r) => r.inFlight === 0);
      if (idle) {
        await idle.stop();
        this.publish({ type: 'deployment.scale', name: c.name, from: active.length, to: active.length - 1 });
      }
    }
  }

  // ---------- internals ----------

  private runtime(name: string): DeploymentRuntime {
    const c = this.deployments.get(name);
    if (!c) throw notFound(`deployment ${name} does not exist`, 'deployment_not_found');
    return c;
  }

  /**
   * Brings the deployment up to `target` active replicas. Throws 409 before
   * starting anything. Serialised per deployment: reserving awaits the
   * inventory and a port probe, and two overlapping launches (a wake and a
   * scale-up) would each count the same replicas and overshoot.
   */
  private launch(c: DeploymentRuntime, target: number, beforeStart?: () => void): Promise<void> {
    const run = c.launchChain.then(() => this.launchNow(c, target, beforeStart));
    c.launchChain = run.catch(() => undefined);
    return run;
  }

  /** `beforeStart` runs once resources are reserved, before any replica announces a state. */
  private async launchNow(c: DeploymentRuntime, target: number, beforeStart?: () => void): Promise<void> {
    if (this.closed) throw new HttpError(503, 'shutting_down', 'berth is shutting down');
    const { spec } = c;
    // Replicas from an earlier run are history once we launch anew; their log files stay on disk.
    const old = c.replicas.filter((r) => r.state === 'stopped' || r.state === 'failed');
    if (target > 0 && old.length) {
      c.replicas = c.replicas.filter((r) => !old.includes(r));
      for (const r of old) void r.output.close();
    }
    if (target === 0 && c.active().length === 0) c.sleeping = true;
    if (target - c.active().length <= 0) return;
    const count = gpusPerReplica(spec);
    const inventory = count > 0 ? await this.deps.inventory() : null;
    if (this.closed) throw new HttpError(503, 'shutting_down', 'berth is shutting down');
    // Counted after the await: another launch may have added replicas meanwhile.
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
          plan = buildPlan({ deployment: spec, gpus: res.gpus, port: res.port, interpreter: interpreterFor(spec, this.deps.settings) });
        } catch (err) {
          this.ledger.release(id);
          throw err;
        }
        fresh.push(this.newReplica(c, id, plan));
      }
    } catch (err) {
      for (const r of fresh) this.ledger.release(r.id);
      throw err;
    }
    if (this.closed) {
      for (const r of fresh) this.ledger.release(r.id);
      throw new HttpError(503, 'shutting_down', 'berth is shutting down');
    }
    c.sleeping = false;
    c.replicas.push(...fresh);
    beforeStart?.();
    for (const r of fresh) r.start();
    c.notify();
  }

  private newReplica(c: DeploymentRuntime, id: string, plan: LaunchPlan): Replica {
    const { settings } = this.deps;
    return new Replica(id, c.name, plan, {
      launcher: this.deps.launcher,
      store: this.deps.store,
      timing: settings,
      log: this.deps.log.child({ replica: id }),
      baseEnv: this.deps.baseEnv,
      logDir: join(this.logRoot, c.name),
      probe: this.deps.probe,
      onChange: (replica, from, to, reason) => {
        // A replica that is down for good gives its GPUs and port back.
        if (to === 'failed' || to === 'stopped') this.ledger.release(replica.id);
        this.publish({ type: 'replica.state', name: c.name, replica: replica.id, from, state: to, reason });
        c.notify();
      },
    });
  }

  /** Stops every replica, letting in-flight requests finish first (bounded). */
  private async halt(c: DeploymentRuntime): Promise<void> {
    await Promise.all(c.replicas.map((r) => this.drainThenStop(c, r)));
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

  private async setDesired(c: DeploymentRuntime, desired: DesiredState): Promise<void> {
    if (c.desired === desired) return;
    c.desired = desired;
    c.updatedAt = new Date().toISOString();
    await this.persist(c);
  }

  private persist(c: DeploymentRuntime): Promise<void> {
    return this.deps.store.putDeployment({ spec: c.spec, desired: c.desired, createdAt: c.createdAt, updatedAt: c.updatedAt });
  }

  private statusOf(c: DeploymentRuntime): DeploymentStatus {
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
      spec: c.spec,
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

  private publish(e: PublishedEvent): void {
    this.deps.events.publish({ ...e, ts: new Date().toISOString() } as BerthEvent);
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
