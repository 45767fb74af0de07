// The event stream's messages as the store takes them. The daemon is ours, but
// what arrives on a socket is still input: a message that does not parse, or
// whose body disagrees with its `event:` name, is dropped rather than trusted.
import type { StreamEvent, StreamEventType } from '../../../daemon/contract/live.js';

// A Record, so adding an event type to the contract fails to compile here
// until the UI decides whether to listen to it.
const TYPES: Record<StreamEventType, true> = {
  snapshot: true,
  'deployment.created': true,
  'deployment.updated': true,
  'deployment.deleted': true,
  'deployment.wake': true,
  'deployment.sleep': true,
  'deployment.scale': true,
  'replica.state': true,
  'replica.pull': true,
  gpus: true,
  stats: true,
};

/** Every `event:` name the UI listens for (EventSource needs one listener per name). */
export const STREAM_EVENT_TYPES = Object.keys(TYPES) as StreamEventType[];

export function parseStreamMessage(eventName: string, data: string): StreamEvent | null {
  if (!(eventName in TYPES)) return null;
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const e = body as { type?: unknown; name?: unknown };
  if (e.type !== eventName) return null;
  if (eventName !== 'snapshot' && eventName !== 'gpus' && eventName !== 'stats' && typeof e.name !== 'string') return null;
  return body as StreamEvent;
}
