// What the UI and the tray watch live: the event stream's messages, the
// sampled stats, and each replica's share of each GPU.
import type { BerthEvent, DeploymentStatus, GpuInventory } from './api.js';

// ---------- GPU memory per replica ----------
/**
 * One replica's hold on one GPU. `allocatedMiB` is what Berth gave the engine
 * (its memory budget: vLLM's --gpu-memory-utilization, SGLang's
 * --mem-fraction-static, times the GPU's total; null when neither the args nor
 * the recipe fix it). `usedMiB` is what nvidia-smi's compute-apps query
 * reports for the replica's processes on that GPU (null before the engine
 * touches the GPU, or when the driver hides it).
 */
export interface GpuShare {
  gpuIndex: number;
  gpuUuid: string | null;
  deployment: string;
  replica: string;
  allocatedMiB: number | null;
  usedMiB: number | null;
  /** The replica's processes seen on this GPU (an engine may run several workers). */
  pids: number[];
}

export interface GpuUsageReport {
  shares: GpuShare[];
  /** GPU processes that belong to no replica of this daemon (another user's job, a notebook). */
  foreign: { gpuIndex: number; pid: number; name: string | null; usedMiB: number | null }[];
  at: string;
}

// ---------- sampled stats ----------
/** One deployment's numbers at one sample, rates over the interval since the previous sample. */
export interface LiveStats {
  name: string;
  at: string;
  requestsPerS: number;
  /** Completion tokens per second the gateway saw in responses' usage. */
  tokensPerS: number;
  /** Time to first token over the interval; null when no stream started in it. */
  ttftP50S: number | null;
  ttftP95S: number | null;
  inFlight: number;
  queued: number;
  /** The engines' KV-cache use, 0..1, the highest over ready replicas; null when no engine reported it. */
  kvCacheUsage: number | null;
}

export interface DeploymentHistory {
  name: string;
  /** Seconds between samples. */
  intervalS: number;
  /** Oldest first, at most an hour. */
  points: LiveStats[];
}

// ---------- the event stream: GET /api/v1/events ----------
/** Sent first on every connection that cannot be resumed: the whole state. */
export interface SnapshotEvent {
  type: 'snapshot';
  ts: string;
  daemon: { version: string; apiVersion: number; startedAt: string };
  deployments: DeploymentStatus[];
  /** null until the first inventory finished (nvidia-smi can take seconds). */
  gpus: GpuInventory | null;
  usage: GpuUsageReport | null;
  stats: LiveStats[];
}

/**
 * Every message on the stream. Each carries an SSE `id:` (a sequence number)
 * and `event:` (its type). A client that reconnects with Last-Event-ID gets
 * the messages it missed when the daemon still holds them, else a fresh
 * snapshot, which replaces everything the client knew.
 *
 * `deployment.created` and `deployment.updated` carry the deployment's whole
 * status (the delta a store upserts); `deployment.deleted` removes it.
 */
export type StreamEvent =
  | SnapshotEvent
  | Exclude<BerthEvent, { type: 'deployment.created' | 'deployment.updated' }>
  | { type: 'deployment.created'; ts: string; name: string; deployment: DeploymentStatus }
  | { type: 'deployment.updated'; ts: string; name: string; deployment: DeploymentStatus }
  /** Periodic (every few seconds, and only when something changed): the inventory and each replica's share. */
  | { type: 'gpus'; ts: string; gpus: GpuInventory; usage: GpuUsageReport }
  /** Periodic: one sample per deployment. */
  | { type: 'stats'; ts: string; stats: LiveStats[] };

export type StreamEventType = StreamEvent['type'];
