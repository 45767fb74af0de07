// What main knows of the daemon, fed by the event stream: the deployments
// (replaced by each snapshot, upserted and removed by deltas) and whether the
// stream is live. The tray reads this store, never the network.
import { z } from 'zod';
import { REPLICA_STATES, type DeploymentStatus } from '../daemon/contract/api.js';
import type { SnapshotEvent, StreamEvent } from '../daemon/contract/live.js';
import type { LinkState, SseMessage } from './event-stream.js';

// The stream comes from a local daemon, but it is still input from outside:
// the fields the tray and menu read are checked, the rest passes through as
// the contract types it.
const deploymentShape = z.looseObject({
  name: z.string().min(1),
  state: z.enum(REPLICA_STATES),
  desired: z.enum(['running', 'stopped']),
  reason: z.string().nullable(),
  sleeping: z.boolean(),
  replicas: z.array(z.looseObject({ state: z.enum(REPLICA_STATES) })),
});

const eventShape = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('snapshot'),
    daemon: z.looseObject({ version: z.string(), apiVersion: z.number(), startedAt: z.string() }),
    deployments: z.array(deploymentShape),
  }),
  z.looseObject({ type: z.literal('deployment.created'), name: z.string(), deployment: deploymentShape }),
  z.looseObject({ type: z.literal('deployment.updated'), name: z.string(), deployment: deploymentShape }),
  z.looseObject({ type: z.literal('deployment.deleted'), name: z.string() }),
]);

/** The messages the store uses, checked; null for the rest (stats, GPUs, replica events) and for anything malformed. */
export function parseStreamMessage(msg: SseMessage): StreamEvent | null {
  let json: unknown;
  try {
    json = JSON.parse(msg.data);
  } catch {
    return null;
  }
  const parsed = eventShape.safeParse(json);
  return parsed.success ? (parsed.data as unknown as StreamEvent) : null;
}

export interface LiveState {
  link: LinkState;
  /** From the last snapshot; null before the first. */
  daemon: SnapshotEvent['daemon'] | null;
  /** Sorted by name. */
  deployments: DeploymentStatus[];
}

export class LiveStore {
  private current: LiveState = { link: { kind: 'connecting' }, daemon: null, deployments: [] };
  private readonly byName = new Map<string, DeploymentStatus>();
  private readonly listeners = new Set<(s: LiveState) => void>();

  get state(): LiveState {
    return this.current;
  }

  apply(event: StreamEvent): void {
    switch (event.type) {
      case 'snapshot':
        this.byName.clear();
        for (const d of event.deployments) this.byName.set(d.name, d);
        this.publish({ daemon: event.daemon });
        return;
      case 'deployment.created':
      case 'deployment.updated':
        this.byName.set(event.deployment.name, event.deployment);
        this.publish({});
        return;
      case 'deployment.deleted':
        if (this.byName.delete(event.name)) this.publish({});
        return;
      default:
        return;
    }
  }

  setLink(link: LinkState): void {
    this.current = { ...this.current, link };
    this.emit();
  }

  /** Forget everything (a different daemon, or none): the next snapshot starts over. */
  reset(link: LinkState): void {
    this.byName.clear();
    this.current = { link, daemon: null, deployments: [] };
    this.emit();
  }

  subscribe(fn: (s: LiveState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private publish(patch: Partial<LiveState>): void {
    const deployments = [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
    this.current = { ...this.current, ...patch, deployments };
    this.emit();
  }

  private emit(): void {
    for (const fn of this.listeners) fn(this.current);
  }
}
