// The replica state machine, as a table (STYLE example 1, after llama-swap's
// isValidTransition/swapState). Every change goes through one transition()
// that names the state it expects to leave; an illegal or stale move throws
// instead of silently corrupting the replica's story.
//
// The happy path is pending -> starting -> ready -> stopping -> stopped;
// a container whose image is missing goes pending -> pulling -> starting.
// TRANSITIONS below lists every legal move.
//
// Invariant: a process (group) may exist only in `starting`, `ready` and
// `stopping`; `pulling` downloads an image and runs nothing yet. `pending`, `stopped` and `failed` hold none, so entering them
// means the group is gone. When a start fails while the process lives on
// (SGLang's bind error), the path is starting -> stopping -> failed.
//
// Decisions:
//  - A crash goes to `pending` with the restart scheduled after the backoff,
//    not straight back to `starting`: while waiting, no process exists, and
//    `pending` is the one state that says so and that a stop can cancel.
//  - starting -> pending: a restart that crashed again before ready waits out
//    its backoff like any crash.
//  - pending -> stopping: stop() is one path for every live state; nothing
//    runs in pending, so stopping -> stopped follows at once.
//  - failed -> stopped: a user stopping a failed replica records the intent;
//    there is no process to stop. stopped/failed -> pending is a restart.
//  - pulling -> failed: the image cannot be had (no such tag, no access, no
//    network); a pull is never retried by the crash backoff.
//  - No self-transitions: a second stop() waits for the first, it does not
//    "re-enter" stopping.
import type { ReplicaState } from '../contract/api.js';

export const TRANSITIONS: Readonly<Record<ReplicaState, readonly ReplicaState[]>> = {
  pending: ['pulling', 'starting', 'stopping', 'failed'],
  pulling: ['starting', 'stopping', 'failed'],
  starting: ['ready', 'pending', 'stopping', 'failed'],
  ready: ['pending', 'stopping', 'failed'],
  stopping: ['stopped', 'failed'],
  stopped: ['pending'],
  failed: ['pending', 'stopped'],
};

/** Whether the table allows `from` -> `to`. Pure. */
export function canTransition(from: ReplicaState, to: ReplicaState): boolean {
  return TRANSITIONS[from].includes(to);
}

export class TransitionError extends Error {
  override readonly name = 'TransitionError';
  readonly code = 'illegal_transition';

  constructor(
    /** The state the cell was actually in. */
    readonly from: ReplicaState,
    readonly to: ReplicaState,
    /** What the caller expected it to be in. */
    readonly expected: readonly ReplicaState[],
    /** `unexpected`: the cell was not in `expected` (a stale caller); `illegal`: the table forbids the move. */
    readonly kind: 'unexpected' | 'illegal',
  ) {
    super(
      kind === 'unexpected'
        ? `replica is ${from}, not ${expected.join(' or ')}: cannot move to ${to}`
        : `illegal replica transition ${from} -> ${to}`,
    );
  }
}

export type StateListener = (from: ReplicaState, to: ReplicaState, reason: string | null) => void;

export interface ReplicaStateCellOptions {
  initial?: ReplicaState;
  /** A listener threw. The transition stands and the other listeners still run. Default: console.error. */
  onListenerError?: (err: unknown) => void;
}

/** One replica's state and the reason for it, changed only through transition(). */
export class ReplicaStateCell {
  private current: ReplicaState;
  private why: string | null = null;
  private readonly listeners = new Set<StateListener>();
  private readonly onListenerError: (err: unknown) => void;
  /** Changes waiting to be announced; see notify(). */
  private readonly queue: [ReplicaState, ReplicaState, string | null][] = [];
  private notifying = false;

  constructor(opts: ReplicaStateCellOptions = {}) {
    this.current = opts.initial ?? 'pending';
    this.onListenerError = opts.onListenerError ?? ((err) => console.error('replica state listener failed:', err));
  }

  get state(): ReplicaState {
    return this.current;
  }

  /** Why the replica is in its state (a failure, a pending restart), or null. */
  get reason(): string | null {
    return this.why;
  }

  /**
   * Moves to `next` if the cell is in `expected` (one state or any of a list)
   * and the table allows it; throws TransitionError otherwise, changing
   * nothing. `reason` belongs to the new state; it is required for `failed`.
   * Listeners run synchronously, after the change.
   */
  transition(expected: ReplicaState | readonly ReplicaState[], next: 'failed', reason: string): void;
  transition(expected: ReplicaState | readonly ReplicaState[], next: ReplicaState, reason?: string | null): void;
  transition(expected: ReplicaState | readonly ReplicaState[], next: ReplicaState, reason: string | null = null): void {
    const from = this.current;
    const allowed: readonly ReplicaState[] = typeof expected === 'string' ? [expected] : expected;
    if (!allowed.includes(from)) throw new TransitionError(from, next, allowed, 'unexpected');
    if (!canTransition(from, next)) throw new TransitionError(from, next, allowed, 'illegal');
    this.current = next;
    this.why = reason;
    this.queue.push([from, next, reason]);
    this.notify();
  }

  /** Called with (from, to, reason) after every change. Returns unsubscribe. */
  onChange(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * A listener may itself call transition(). Announcing that nested change at
   * once would reach the remaining listeners before the change that caused
   * it, so changes are queued and announced in the order they happened.
   */
  private notify(): void {
    if (this.notifying) return;
    this.notifying = true;
    try {
      for (let change = this.queue.shift(); change; change = this.queue.shift()) {
        for (const listener of [...this.listeners]) {
          try {
            listener(...change);
          } catch (err) {
            this.onListenerError(err);
          }
        }
      }
    } finally {
      this.notifying = false;
    }
  }
}
