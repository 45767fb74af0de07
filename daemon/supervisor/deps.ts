// What the supervisor's modules are built from: the daemon's adapters
// (launcher, store, inventory, port probe) and the ways it reports (events,
// log, metrics hooks). Shared by every module in this folder.
import type { Logger } from 'pino';
import type { BerthEvent, GpuInventory } from '../contract/api.js';
import type { Settings } from '../config/settings.js';
import type { EventBus } from '../events/bus.js';
import type { Launcher, ModeResolver } from '../launchers/types.js';
import type { PortProbe } from '../scheduler/ports.js';
import type { StateStore } from '../state/store.js';
import type { HttpProbe } from './readiness.js';

/** Hooks for the metrics; the supervisor does not know prom-client. */
export interface SupervisorObserver {
  coldStart?(deployment: string, seconds: number): void;
  swap?(deployment: string, evicted: string[], seconds: number): void;
}

export interface SupervisorDeps {
  settings: Settings;
  store: StateStore;
  launcher: Launcher;
  /** Decides `mode: auto` (process or container) for each launch. */
  modes: ModeResolver;
  events: EventBus;
  log: Logger;
  inventory: () => Promise<GpuInventory>;
  isPortFree: PortProbe;
  probe?: HttpProbe;
  /** Environment every engine inherits (the daemon's, minus Berth's secrets). */
  baseEnv: Record<string, string>;
  observer?: SupervisorObserver;
}

/** An event as published: the bus stamps nothing, so `publish` adds `ts`. */
export type PublishedEvent = BerthEvent extends infer E ? (E extends BerthEvent ? Omit<E, 'ts'> : never) : never;

export type Publish = (e: PublishedEvent) => void;

export function publisher(events: EventBus): Publish {
  return (e) => events.publish({ ...e, ts: new Date().toISOString() } as BerthEvent);
}
