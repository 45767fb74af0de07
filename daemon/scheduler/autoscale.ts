// Replica count decisions, after Knative's KPA: a stable window (60 s) for the
// steady answer and a short panic window (6 s) that reacts to bursts. In panic
// the count never goes down; out of it, it goes down one replica at a time so a
// lull between bursts does not throw away warm engines.
export interface AutoscalePolicy {
  stableWindowMs: number;
  panicWindowMs: number;
  /** Enter panic when the panic window asks for this many times the current replicas. */
  panicThreshold: number;
}

export const DEFAULT_AUTOSCALE_POLICY: Readonly<AutoscalePolicy> = Object.freeze({
  stableWindowMs: 60_000,
  panicWindowMs: 6_000,
  panicThreshold: 2,
});

export interface AutoscaleInput {
  now: number;
  /** Request arrival times (ms), any order; older than the stable window are ignored. */
  arrivals: readonly number[];
  /** In-flight samples (sum over replicas) with their times. */
  concurrency: readonly { t: number; v: number }[];
  /** Replicas that are ready or on their way (pending/starting). */
  current: number;
  min: number;
  max: number;
  rpsValue: number;
  inFlightValue: number | null;
  /** Until when panic mode holds (from the previous decision), or null. */
  panicUntil: number | null;
}

export interface AutoscaleDecision {
  desired: number;
  panicUntil: number | null;
}

function rate(arrivals: readonly number[], now: number, windowMs: number): number {
  const since = now - windowMs;
  let n = 0;
  for (const t of arrivals) if (t > since && t <= now) n++;
  return n / (windowMs / 1000);
}

function avgConcurrency(samples: readonly { t: number; v: number }[], now: number, windowMs: number): number {
  const since = now - windowMs;
  let sum = 0;
  let n = 0;
  for (const s of samples) if (s.t > since && s.t <= now) (sum += s.v), n++;
  return n ? sum / n : 0;
}

/** Replicas wanted for the load seen in one window: the stricter of the rps and in-flight targets. */
function wanted(input: AutoscaleInput, windowMs: number): number {
  const byRps = rate(input.arrivals, input.now, windowMs) / input.rpsValue;
  const byInFlight = input.inFlightValue ? avgConcurrency(input.concurrency, input.now, windowMs) / input.inFlightValue : 0;
  return Math.ceil(Math.max(byRps, byInFlight) - 1e-9);
}

export function decideReplicas(input: AutoscaleInput, policy: AutoscalePolicy = DEFAULT_AUTOSCALE_POLICY): AutoscaleDecision {
  const clamp = (n: number) => Math.min(input.max, Math.max(input.min, n));
  const stable = wanted(input, policy.stableWindowMs);
  const panic = wanted(input, policy.panicWindowMs);
  const current = Math.max(input.current, 0);
  let panicUntil = input.panicUntil !== null && input.panicUntil > input.now ? input.panicUntil : null;
  if (current > 0 && panic >= policy.panicThreshold * current) panicUntil = input.now + policy.stableWindowMs;
  if (panicUntil !== null) return { desired: clamp(Math.max(current, panic, stable)), panicUntil };
  if (stable > current) return { desired: clamp(stable), panicUntil: null };
  // Down gently: one at a time, never below what the stable window still needs.
  if (stable < current) return { desired: clamp(Math.max(stable, current - 1)), panicUntil: null };
  return { desired: clamp(current), panicUntil: null };
}
