// What the UI knows about the daemon, and the one pure function that changes
// it. Fed by the event stream (a snapshot on every connect that cannot be
// resumed, then deltas) and by the connection's own ups and downs. No DOM and
// no Preact here: test/renderer runs it under node:test.
import type { DeploymentStatus, GpuInventory } from '../../../daemon/contract/api.js';
import type { GpuUsageReport, LiveStats, SnapshotEvent, StreamEvent } from '../../../daemon/contract/live.js';

/**
 * - `connecting`: the first connection has not opened yet.
 * - `open`: the stream is up.
 * - `reconnecting`: it dropped; the browser (or the adapter) is retrying.
 * - `unreachable`: it has stayed down long enough to tell the user how to start the daemon.
 */
export type Connection = 'connecting' | 'open' | 'reconnecting' | 'unreachable';

/** The events a deployment's timeline shows. */
export type Notice = Extract<
  StreamEvent,
  { type: 'replica.state' | 'deployment.wake' | 'deployment.sleep' | 'deployment.scale' }
>;

/** Per deployment, the most recent notices kept; older ones fall off. */
export const NOTICES_PER_DEPLOYMENT = 200;

export interface LiveState {
  connection: Connection;
  /** false until the first snapshot: until then "no deployments" would be a lie. */
  synced: boolean;
  daemon: SnapshotEvent['daemon'] | null;
  /** Sorted by name. */
  deployments: DeploymentStatus[];
  /** null until the daemon's first inventory. */
  gpus: GpuInventory | null;
  usage: GpuUsageReport | null;
  /** The latest sample per deployment. */
  stats: Record<string, LiveStats>;
  /** Oldest first, at most NOTICES_PER_DEPLOYMENT each. */
  notices: Record<string, Notice[]>;
}

export type Action = { kind: 'event'; event: StreamEvent } | { kind: 'connection'; connection: Connection };

export const initialState: LiveState = {
  connection: 'connecting',
  synced: false,
  daemon: null,
  deployments: [],
  gpus: null,
  usage: null,
  stats: {},
  notices: {},
};

const byName = (a: DeploymentStatus, b: DeploymentStatus): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function upsert(list: DeploymentStatus[], d: DeploymentStatus): DeploymentStatus[] {
  const i = list.findIndex((x) => x.name === d.name);
  if (i >= 0) return list.map((x, j) => (j === i ? d : x));
  return [...list, d].sort(byName);
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  if (!(key in record)) return record;
  const { [key]: _gone, ...rest } = record;
  return rest;
}

function addNotice(notices: Record<string, Notice[]>, n: Notice): Record<string, Notice[]> {
  const list = notices[n.name] ?? [];
  const next = list.length >= NOTICES_PER_DEPLOYMENT ? [...list.slice(list.length - NOTICES_PER_DEPLOYMENT + 1), n] : [...list, n];
  return { ...notices, [n.name]: next };
}

function fromSnapshot(state: LiveState, s: SnapshotEvent): LiveState {
  const names = new Set(s.deployments.map((d) => d.name));
  // The timeline is history the snapshot does not carry: keep it for the
  // deployments that still exist, so a reconnect does not blank it.
  const notices = Object.fromEntries(Object.entries(state.notices).filter(([name]) => names.has(name)));
  return {
    connection: state.connection,
    synced: true,
    daemon: s.daemon,
    deployments: [...s.deployments].sort(byName),
    gpus: s.gpus,
    usage: s.usage,
    stats: Object.fromEntries(s.stats.map((x) => [x.name, x])),
    notices,
  };
}

function onEvent(state: LiveState, e: StreamEvent): LiveState {
  switch (e.type) {
    case 'snapshot':
      return fromSnapshot(state, e);
    case 'deployment.created':
    case 'deployment.updated':
      // A daemon older than the snapshot stream sends only the name: nothing to upsert.
      return e.deployment ? { ...state, deployments: upsert(state.deployments, e.deployment) } : state;
    case 'deployment.deleted':
      return {
        ...state,
        deployments: state.deployments.filter((d) => d.name !== e.name),
        stats: without(state.stats, e.name),
        notices: without(state.notices, e.name),
      };
    case 'replica.state':
    case 'deployment.wake':
    case 'deployment.sleep':
    case 'deployment.scale':
      return { ...state, notices: addNotice(state.notices, e) };
    case 'replica.pull':
      // Progress also reaches the deployment's replica status; a notice per tick would flood.
      return state;
    case 'gpus':
      return { ...state, gpus: e.gpus, usage: e.usage };
    case 'stats':
      return { ...state, stats: Object.fromEntries(e.stats.map((x) => [x.name, x])) };
    default: {
      // An event type this UI does not know (a newer daemon): ignore it.
      const _unknown: never = e;
      return state;
    }
  }
}

export function reduce(state: LiveState, action: Action): LiveState {
  if (action.kind === 'connection') {
    // Each failed retry reports "reconnecting" again; once the UI has said the
    // daemon is unreachable, only a connection that opens takes that back.
    const next = state.connection === 'unreachable' && action.connection === 'reconnecting' ? 'unreachable' : action.connection;
    return next === state.connection ? state : { ...state, connection: next };
  }
  return onEvent(state, action.event);
}
