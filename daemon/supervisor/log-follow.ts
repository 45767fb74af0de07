// A followed log stream (GET .../logs?follow=1): which replica's output it
// shows, and when it moves on. Without a replica named, it follows the
// deployment rather than one replica: the first replica to start, the next
// one after a restart, the one left after a scale-down. Named, it shows that
// replica until it is gone for good.
//
// Replica changes are not polled: the stream listens to the event bus for
// `replica.state` and `deployment.deleted` and then asks the deployment
// which replica it should show (STYLE example 2).
import type { ReplicaState } from '../contract/api.js';
import type { EventBus } from '../events/bus.js';
import type { DeploymentRuntime } from './deployment.js';
import type { Replica } from './replica.js';

/** Where a followed stream's output goes; the API turns each call into SSE. */
export interface LogFollowSink {
  /** From now on the stream shows replica `id`: `tail` is its newest lines; its live lines follow. */
  replica(id: string, tail: string[]): void;
  lines(lines: string[]): void;
  /** Nothing more will come; the stream has already let go of everything. */
  end(reason: string): void;
}

export interface LogFollowOptions {
  /** The replica named in the request; null follows the deployment. */
  pinned: Replica | null;
  tail: number;
  ansi: boolean;
}

/** States in which a replica's log may still grow. `stopping` prints its shutdown; pending waits out a crash backoff. */
const MAY_PRINT: readonly ReplicaState[] = ['pending', 'pulling', 'starting', 'ready', 'stopping'];
/** States a replica worth moving to is in: running, or about to. */
const COMING_UP: readonly ReplicaState[] = ['pending', 'pulling', 'starting', 'ready'];

interface Shown {
  state: ReplicaState;
}

/**
 * The replica a deployment's stream should show, given the one it shows now
 * and the deployment's replicas, oldest first. Pure.
 *
 * It stays while its replica may still print; then it moves to the newest
 * replica coming up, if there is one. With none, it stays, so the last
 * words of a failed engine stay on screen until something replaces it.
 * Showing nothing yet, it takes the newest coming up, else the newest of any
 * (the one whose last lines explain why nothing runs).
 */
export function replicaToShow<R extends Shown>(shown: R | null, replicas: readonly R[]): R | null {
  if (shown && replicas.includes(shown) && MAY_PRINT.includes(shown.state)) return shown;
  const next = replicas.filter((r) => COMING_UP.includes(r.state)).at(-1);
  if (next) return next;
  return shown ?? replicas.at(-1) ?? null;
}

/** A named replica is gone for good once stopped or failed (nothing restarts those) or dropped from its deployment. */
export function isGoneForGood<R extends Shown>(replica: R, replicas: readonly R[]): boolean {
  return !replicas.includes(replica) || replica.state === 'stopped' || replica.state === 'failed';
}

/** Starts the stream: the first replica's tail goes to `sink` at once. Returns the way to stop it. */
export function followLogs(c: DeploymentRuntime, events: EventBus, opts: LogFollowOptions, sink: LogFollowSink): () => void {
  const format = { ansi: opts.ansi };
  let shown: Replica | null = null;
  let unsubscribeLines = () => {};
  let done = false;

  // What the replica printed but the batcher has not delivered yet (~16 ms)
  // goes out before the stream moves on: it is the end of that replica's
  // story. Only ever a replica whose engine has exited.
  const letGo = () => {
    shown?.output.flush();
    unsubscribeLines();
  };
  const show = (r: Replica) => {
    letGo();
    shown = r;
    // tail() and subscribe() in the same tick: no line missed or seen twice.
    sink.replica(r.id, r.output.tail(opts.tail, format));
    unsubscribeLines = r.output.subscribe((lines) => sink.lines(lines), format);
  };
  const stop = () => {
    if (done) return;
    done = true;
    unsubscribeBus();
    unsubscribeLines();
  };
  const end = (reason: string) => {
    if (done) return;
    letGo();
    stop();
    sink.end(reason);
  };
  const decide = () => {
    const { pinned } = opts;
    if (pinned) {
      if (isGoneForGood(pinned, c.replicas)) end(`replica ${pinned.id} ${pinned.state === 'failed' ? 'failed' : 'stopped'}`);
      return;
    }
    const next = replicaToShow(shown, c.replicas);
    if (next && next !== shown) show(next);
  };

  const unsubscribeBus = events.subscribe((e) => {
    if (done || e.name !== c.name) return;
    // The name may already belong to a new deployment: only this one's removal ends this stream.
    if (e.type === 'deployment.deleted' && c.removing) end(`deployment ${c.name} was deleted`);
    else if (e.type === 'replica.state') decide();
  });
  if (opts.pinned) show(opts.pinned);
  decide();
  return stop;
}
