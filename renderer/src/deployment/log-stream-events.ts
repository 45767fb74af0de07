// The named messages of a followed log stream (LogStreamEvents in the
// contract), read the way the page reads anything from the network: checked,
// never trusted. Pure.
import type { LogStreamEvents } from '../../../daemon/contract/api.js';

function field<E extends keyof LogStreamEvents>(data: string, key: keyof LogStreamEvents[E]): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const v = (parsed as Record<PropertyKey, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

/** The replica an `event: replica` message moves the stream to; null for data that is not one. */
export function replicaOf(data: string): string | null {
  return field<'replica'>(data, 'replica');
}

/** Why the daemon ended the stream (`event: end`); null for data that is not one. */
export function endReasonOf(data: string): string | null {
  return field<'end'>(data, 'reason');
}

/** The line that heads each replica's output in the terminal (and in `berth logs -f`). */
export function replicaMarker(id: string): string {
  return `— replica ${id} —`;
}
