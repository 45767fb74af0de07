// A deployment's own state machine, as a table (STYLE example 1), beside the
// replica's in states.ts. This is the deployment's intent and what Berth is
// doing about it; how its engines are doing is the replicas' story.
//
//  stopped   the user stopped it (or created it with start: false): no replica
//            may run, requests get 503 model_stopped.
//  running   it should be serving: replicas are up, coming, or failed.
//  sleeping  it should be serving but holds no replica (idle, evicted, or
//            scale.min 0 before its first request); the next request wakes it.
//  waking    a request is bringing it up from sleeping (waiting for GPUs,
//            evicting, launching). Stays until a replica is launched.
//  draining  a stop in progress: in-flight requests finish, replicas stop.
//  removing  deleted: requests get 404 and nothing may launch again. Terminal.
//
// Decisions:
//  - Every state may become `removing`: a delete wins over whatever is in
//    flight, and work already running checks for it before it launches.
//  - A stop always passes through `draining`, even from `sleeping` with
//    nothing to drain: one path, one place that rejects waiting requests.
//  - A restart of a running deployment stays `running`: its intent does not
//    change while replicas are replaced, so requests wait instead of failing.
//  - No self-transitions: an op that finds the state it wants does nothing.
import type { DesiredState } from '../contract/api.js';

export const DEPLOYMENT_STATES = ['stopped', 'running', 'sleeping', 'waking', 'draining', 'removing'] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

export const DEPLOYMENT_TRANSITIONS: Readonly<Record<DeploymentState, readonly DeploymentState[]>> = {
  stopped: ['running', 'sleeping', 'removing'],
  running: ['sleeping', 'draining', 'removing'],
  sleeping: ['running', 'waking', 'draining', 'removing'],
  waking: ['running', 'sleeping', 'draining', 'removing'],
  draining: ['stopped', 'removing'],
  removing: [],
};

/** Whether the table allows `from` -> `to`. Pure. */
export function canDeploymentTransition(from: DeploymentState, to: DeploymentState): boolean {
  return DEPLOYMENT_TRANSITIONS[from].includes(to);
}

/** The intent a state stands for, as persisted in deployments.json and shown as `desired`. */
export function desiredOf(state: DeploymentState): DesiredState {
  return state === 'running' || state === 'sleeping' || state === 'waking' ? 'running' : 'stopped';
}

export class DeploymentTransitionError extends Error {
  override readonly name = 'DeploymentTransitionError';
  readonly code = 'illegal_transition';

  constructor(
    readonly deployment: string,
    /** The state the deployment was actually in. */
    readonly from: DeploymentState,
    readonly to: DeploymentState,
    /** What the caller expected it to be in. */
    readonly expected: readonly DeploymentState[],
    /** `unexpected`: not in `expected` (a stale caller); `illegal`: the table forbids the move. */
    readonly kind: 'unexpected' | 'illegal',
  ) {
    super(
      kind === 'unexpected'
        ? `deployment ${deployment} is ${from}, not ${expected.join(' or ')}: cannot move to ${to}`
        : `illegal deployment transition ${from} -> ${to}`,
    );
  }
}

/** One deployment's state, changed only through transition(). */
export class DeploymentStateCell {
  private current: DeploymentState;

  constructor(
    private readonly deployment: string,
    initial: DeploymentState,
  ) {
    this.current = initial;
  }

  get state(): DeploymentState {
    return this.current;
  }

  is(...states: DeploymentState[]): boolean {
    return states.includes(this.current);
  }

  /**
   * Moves to `next` if the deployment is in `expected` (one state or any of a
   * list) and the table allows it; throws DeploymentTransitionError otherwise,
   * changing nothing.
   */
  transition(expected: DeploymentState | readonly DeploymentState[], next: DeploymentState): void {
    const from = this.current;
    const allowed: readonly DeploymentState[] = typeof expected === 'string' ? [expected] : expected;
    if (!allowed.includes(from)) throw new DeploymentTransitionError(this.deployment, from, next, allowed, 'unexpected');
    if (!canDeploymentTransition(from, next)) throw new DeploymentTransitionError(this.deployment, from, next, allowed, 'illegal');
    this.current = next;
  }
}
