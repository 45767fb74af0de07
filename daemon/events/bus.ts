// In-process fan-out of state changes to SSE clients (/api/v1/events) and, later,
// the tray. Listeners that throw are isolated from the publisher.
import type { BerthEvent } from '../contract/api.js';

export type EventListener = (e: BerthEvent) => void;

export class EventBus {
  private listeners = new Set<EventListener>();

  publish(e: BerthEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        /* a broken subscriber must not break the supervisor */
      }
    }
  }

  subscribe(l: EventListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
