// One deployment at run time: its spec and state, its replicas, and the fair
// queue of requests waiting for a replica slot. Cross-deployment decisions
// (GPUs, eviction) belong to the supervisor's modules; this class never launches.
import type { DesiredState } from '../contract/api.js';
import type { Deployment } from '../contract/deployment.js';
import { HttpError } from '../http/errors.js';
import { DeploymentStateCell, desiredOf, type DeploymentState } from './deployment-states.js';
import type { Replica } from './replica.js';

export interface Lease {
  deployment: string;
  replica: Replica;
  /**
   * Ends the request on this replica. `keepAliveS` (a request's own
   * keep_alive) sets how long the deployment stays up after it; Infinity keeps
   * it up, 0 lets it sleep at once.
   */
  release(opts?: { keepAliveS?: number | null; /** The engine's time to first token (s), for scale.ttft. */ ttftS?: number }): void;
}

interface Waiter {
  exclude: ReadonlySet<string>;
  resolve: (lease: Lease) => void;
  reject: (err: unknown) => void;
}

const WINDOW_MS = 60_000;

export class DeploymentRuntime {
  replicas: Replica[] = [];
  seq = 0;
  /** The deployment's own state; see deployment-states.ts. */
  readonly phase: DeploymentStateCell;
  lastRequestAt = 0;
  /** Replicas above scale.min may stop after this time (ms since epoch). */
  idleDeadline = 0;
  /** Request arrivals and in-flight samples for the autoscaler's windows. */
  private arrivals: number[] = [];
  private arrivalsHead = 0;
  concurrency: { t: number; v: number }[] = [];
  panicUntil: number | null = null;
  /** Times to first token, kept only for a deployment that scales on them (scale.ttft). */
  ttftSamples: { t: number; v: number }[] = [];
  /** When the replica count last changed by a scaling decision (ms); TTFT before it is not counted. */
  scaledAt = 0;
  /** A scaling decision is being carried out. */
  scaling = false;
  /** Why the current wake is waiting (GPUs held by others), for the 503 a timed-out request gets. */
  waitReason: string | null = null;
  /** The wake in progress, shared by every request that arrives during a cold start. */
  wakeTask: Promise<void> | null = null;
  private readonly queue: Waiter[] = [];
  private readonly watchers = new Set<() => void>();

  constructor(
    public spec: Deployment,
    initial: DeploymentState,
    public createdAt: string,
    public updatedAt: string,
  ) {
    this.phase = new DeploymentStateCell(spec.name, initial);
  }

  get name(): string {
    return this.spec.name;
  }

  /** The user's intent, as persisted: derived from the state, never set apart from it. */
  get desired(): DesiredState {
    return desiredOf(this.phase.state);
  }

  /** Desired running with no replica: woken by the next request (or being woken now). */
  get sleeping(): boolean {
    return this.phase.is('sleeping', 'waking');
  }

  /** Deleted: nothing may launch for it again, and its waiting requests are gone. */
  get removing(): boolean {
    return this.phase.state === 'removing';
  }

  get queued(): number {
    return this.queue.length;
  }

  inFlight(): number {
    return this.replicas.reduce((n, r) => n + r.inFlight, 0);
  }

  /** Replicas that hold (or are about to hold) GPUs. */
  active(): Replica[] {
    return this.replicas.filter((r) => r.state === 'pending' || r.state === 'pulling' || r.state === 'starting' || r.state === 'ready');
  }

  ready(exclude: ReadonlySet<string> = new Set()): Replica[] {
    return this.replicas.filter((r) => r.state === 'ready' && !exclude.has(r.id));
  }

  /** O(1) amortised: the hot path of every request. */
  recordArrival(now: number): void {
    this.lastRequestAt = now;
    this.arrivals.push(now);
    const since = now - WINDOW_MS;
    while (this.arrivals[this.arrivalsHead]! <= since) this.arrivalsHead++;
    if (this.arrivalsHead > 1024 && this.arrivalsHead * 2 > this.arrivals.length) {
      this.arrivals = this.arrivals.slice(this.arrivalsHead);
      this.arrivalsHead = 0;
    }
  }

  /**
   * Arrival times, oldest first: the live array, not a copy (at thousands of
   * requests per second a minute of them is megabytes, once per scaling tick).
   * It may still hold some older than the minute; the autoscaler's windows
   * ignore those.
   */
  recentArrivals(): readonly number[] {
    return this.arrivals;
  }

  recordFirstToken(now: number, seconds: number): void {
    const ttft = this.spec.scale.ttft;
    if (!ttft || !(seconds >= 0)) return;
    this.ttftSamples.push({ t: now, v: seconds });
    const since = now - ttft.windowSec * 1000;
    if (this.ttftSamples[0]!.t <= since) this.ttftSamples = this.ttftSamples.filter((s) => s.t > since);
  }

  sampleConcurrency(now: number): void {
    this.concurrency.push({ t: now, v: this.inFlight() + this.queue.length });
    this.concurrency = this.concurrency.filter((s) => s.t > now - WINDOW_MS);
  }

  /** Least in-flight ready replica with room under inFlightValue, leased at once; null when none has room. */
  tryLease(exclude: ReadonlySet<string>): Lease | null {
    const cap = this.spec.scale.inFlightValue ?? Infinity;
    let best: Replica | null = null;
    // A loop, not ready(): this runs on every request.
    for (const r of this.replicas) {
      if (r.state !== 'ready' || exclude.has(r.id)) continue;
      if (r.inFlight < cap && (!best || r.inFlight < best.inFlight)) best = r;
    }
    return best ? this.lease(best) : null;
  }

  /** Waits in arrival order for a slot; a full queue is a 429 the client may retry. */
  enqueue(signal: AbortSignal, exclude: ReadonlySet<string>, maxQueue: number): Promise<Lease> {
    if (this.queue.length >= maxQueue) {
      return Promise.reject(
        new HttpError(429, 'queue_full', `${this.name} is at capacity: ${this.queue.length} requests are already waiting`, undefined, {
          'retry-after': '1',
        }),
      );
    }
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        exclude,
        resolve: (lease) => (signal.removeEventListener('abort', onAbort), resolve(lease)),
        reject: (err) => (signal.removeEventListener('abort', onAbort), reject(err)),
      };
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i !== -1) this.queue.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Hands free slots to waiting requests, oldest first. Called on release and when a replica becomes ready. */
  pump(): void {
    while (this.queue.length) {
      const head = this.queue[0]!;
      const lease = this.tryLease(head.exclude);
      if (!lease) return;
      this.queue.shift();
      head.resolve(lease);
    }
  }

  /** Fails every waiting request, e.g. when the deployment stops or fails for good. */
  rejectQueue(err: unknown): void {
    for (const w of this.queue.splice(0)) w.reject(err);
  }

  /** Resolves at the next change of any replica, lease or queue, or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.watchers.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.watchers.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  notify(): void {
    if (this.watchers.size > 0) for (const w of [...this.watchers]) w();
    if (this.queue.length > 0) this.pump();
  }

  private lease(replica: Replica): Lease {
    replica.inFlight++;
    let released = false;
    // A method, not an arrow: this runs on every request, and a method costs no per-call naming.
    const runtime = this;
    return {
      deployment: this.name,
      replica,
      release(opts = {}) {
        if (released) return;
        released = true;
        replica.inFlight--;
        const now = Date.now();
        runtime.lastRequestAt = now;
        if (opts.ttftS !== undefined) runtime.recordFirstToken(now, opts.ttftS);
        const keep = opts.keepAliveS ?? runtime.spec.scale.idleTime;
        runtime.idleDeadline = keep === Infinity ? Infinity : now + keep * 1000;
        runtime.notify();
      },
    };
  }
}
