// When to restart an engine that crashed, and when to stop trying. Pure: the
// caller keeps the crash history and the clock.
//
// An engine that crashes on every start (bad weights, a GPU another process
// holds) would otherwise loop forever, each attempt spending minutes loading
// weights and flooding the log. Exponential delay spaces the attempts; a cap
// on crashes within a window turns a persistent failure into `failed` with a
// reason a person can act on, while an engine that crashes once a day is
// still restarted every time.
//
// No jitter: one daemon restarts its own replicas, there is no herd of
// clients to spread out.

export interface RestartPolicy {
  /** Delay before the restart after a first crash. */
  initialDelayMs: number;
  /** Each further crash within the window multiplies the delay by this. */
  factor: number;
  maxDelayMs: number;
  /** This many crashes within `windowMs` (the current one included) -> give up. */
  maxCrashes: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: Readonly<RestartPolicy> = Object.freeze({
  initialDelayMs: 1_000,
  factor: 2,
  maxDelayMs: 60_000,
  maxCrashes: 5,
  windowMs: 10 * 60_000,
});

export interface RestartDecision {
  /** Too many crashes within the window: do not restart, fail the replica. */
  giveUp: boolean;
  /** Wait this long before restarting (0 when giving up). */
  delayMs: number;
  /**
   * The earlier crashes still inside the window, oldest first: the history to
   * keep. Store `[...recent, now]` for the next decision.
   */
  recent: number[];
}

/**
 * Decides about the crash that happened at `now`. `crashTimes` are the
 * EARLIER crashes (any order; older ones are pruned); the current crash is
 * counted on top of them. Use one clock for both, preferably a monotonic one
 * (performance.now()) so a wall-clock jump cannot forgive or invent crashes.
 *
 * With the default policy: 1 s, 2 s, 4 s, 8 s, then the 5th crash within ten
 * minutes gives up.
 */
export function nextRestart(
  crashTimes: readonly number[],
  now: number,
  policy: Readonly<RestartPolicy> = DEFAULT_RESTART_POLICY,
): RestartDecision {
  const since = now - policy.windowMs;
  const recent = crashTimes.filter((t) => Number.isFinite(t) && t > since && t <= now).sort((a, b) => a - b);
  const crashes = recent.length + 1;
  if (crashes >= policy.maxCrashes) return { giveUp: true, delayMs: 0, recent };
  const delayMs = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** recent.length);
  return { giveUp: false, delayMs, recent };
}
