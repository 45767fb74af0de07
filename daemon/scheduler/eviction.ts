// Which deployment to put to sleep so a requested one fits, as llama-swap
// does on a small machine: the least recently used one that is allowed to
// sleep (scale.min 0) and has no request in flight. Never anything else.
export interface EvictionCandidate {
  name: string;
  min: number;
  inFlight: number;
  queued: number;
  /** Replicas holding GPUs (ready, starting or pending). */
  active: number;
  gpus: number;
  lastRequestAt: number;
}

export function pickEviction(candidates: readonly EvictionCandidate[], requested: string): EvictionCandidate | null {
  const eligible = candidates.filter(
    (c) => c.name !== requested && c.min === 0 && c.inFlight === 0 && c.queued === 0 && c.active > 0 && c.gpus > 0,
  );
  eligible.sort((a, b) => a.lastRequestAt - b.lastRequestAt || a.name.localeCompare(b.name));
  return eligible[0] ?? null;
}
