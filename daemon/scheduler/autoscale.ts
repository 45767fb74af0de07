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

export interface TtftInput {
  now: number;
  /** Times to first token (seconds) with when they were measured (ms), any order. */
  samples: readonly { t: number; v: number }[];
  /**
   * Samples before this time (ms) are not counted: the last change of the
   * replica count, so the slow answers that caused a scale-up do not cause
   * another before the new replica has had a say.
   */
  since: number;
  windowMs: number;
  /** Replicas that are ready or on their way. */
  current: number;
  min: number;
  max: number;
  /** Mean TTFT (s) above which one more replica is wanted. */
  upper: number;
  /** Mean TTFT (s) below which one replica fewer will do. */
  lower: number;
}

/**
 * ScaleGenAI's `ttft_latency_sec` strategy: the mean time to first token of
 * the requests in the window (since the last change) against the allowed
 * band. One step at a time either way; no samples means no evidence, so the
 * count holds (an idle deployment is the idle timer's business).
 */
export function decideByTtft(input: TtftInput): number {
  const clamp = (n: number) => Math.min(input.max, Math.max(input.min, n));
  const from = Math.max(input.now - input.windowMs, input.since);
  let sum = 0;
  let n = 0;
  for (const s of input.samples) if (s.t > from && s.t <= input.now) (sum += s.v), n++;
  const current = Math.max(input.current, 0);
  if (n === 0) return clamp(current);
  const mean = sum / n;
  if (mean > input.upper) return clamp(current + 1);
  if (mean < input.lower) return clamp(current - 1);
  return clamp(current);
}
