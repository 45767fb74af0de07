// nvidia-smi takes 50-500 ms and the API, the scheduler and the UI all ask for
// the inventory; share one answer for a short while and one call in flight.
import type { GpuInventory } from '../contract/api.js';

export function cachedInventory(read: () => Promise<GpuInventory>, ttlMs = 2_000): () => Promise<GpuInventory> {
  let value: { at: number; inv: GpuInventory } | null = null;
  let inFlight: Promise<GpuInventory> | null = null;
  return () => {
    if (value && Date.now() - value.at < ttlMs) return Promise.resolve(value.inv);
    inFlight ??= read()
      .then((inv) => {
        value = { at: Date.now(), inv };
        return inv;
      })
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };
}
