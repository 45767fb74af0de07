// Shapes the daemon serves on /api/v1 and the event stream. main/ and renderer/
// import only from daemon/contract, so a renamed field fails to compile there.
import type { Backend, Deployment } from './deployment.js';

// ---------- errors ----------
export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}

// ---------- GPUs ----------
export interface GpuProcess {
  pid: number;
  name: string | null;
  gpuUuid: string | null;
  usedMiB: number | null;
}

export interface Gpu {
  index: number;
  uuid: string;
  name: string;
  busId: string | null;
  /** null where the driver reports no value (`[N/A]`, unified memory on GB10). */
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  memoryFreeMiB: number | null;
  utilizationPct: number | null;
  memoryUtilizationPct: number | null;
  temperatureC: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  computeCap: string | null;
  migEnabled: boolean | null;
  processes: GpuProcess[];
}

export interface LostGpu {
  busId: string | null;
  message: string;
}

export interface HostInfo {
  cpu: { brand: string; cores: number; physicalCores: number } | null;
  memory: { totalBytes: number; freeBytes: number } | null;
  os: { platform: string; distro: string; release: string; kernel: string; arch: string } | null;
}

export interface GpuInventory {
  /** false when no usable NVIDIA GPU was found; `reason` says why in plain words. */
  available: boolean;
  reason: string | null;
  driverVersion: string | null;
  cudaVersion: string | null;
  gpus: Gpu[];
  /** GPUs the driver reported but could not reach (fallen off the bus). */
  lost: LostGpu[];
  host: HostInfo;
  checkedAt: string;
}

// ---------- launch plans ----------
/** Ready when any listed signal fires. */
export interface Readiness {
  /** GET this path on the engine port; ready on `status`. */
  http: { path: string; status: number } | null;
  /** A line of engine output that means ready. */
  logLine: string | null;
}

export interface LaunchPlan {
  backend: Backend;
  backendVersion: string;
  /** The recipe version actually used (the nearest lower known one for an unknown version). */
  recipeVersion: string;
  argv: string[];
  env: Record<string, string>;
  host: string;
  port: number;
  gpus: number[];
  readiness: Readiness;
  warnings: string[];
  /** How the replica runs; absent in plans from before container mode (then `process`). */
  mode?: 'process' | 'container';
  /** Why `mode: auto` chose what it chose; absent otherwise. */
  modeReason?: string;
  /** Container mode: what Berth asks Docker's Engine API for. `argv` then is what runs inside. */
  container?: ContainerPlan;
}

/**
 * The body of the Engine API's POST /containers/create that Berth sends, minus
 * the values of the secrets (`secretEnv` names them; the daemon adds their
 * values from its own environment when it creates the container).
 */
export interface ContainerCreateBody {
  Image: string;
  /** Replaces the image's entrypoint; null keeps it (vLLM's image runs its api_server). */
  Entrypoint: string[] | null;
  Cmd: string[];
  Env: string[];
  /** A terminal, as process mode gives the engine: line-buffered, coloured, one ordered stream. */
  Tty: boolean;
  Labels: Record<string, string>;
  ExposedPorts: Record<string, Record<string, never>>;
  HostConfig: {
    /** `host:container[:ro]` */
    Binds: string[];
    PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
    IpcMode: string;
    Init: boolean;
    RestartPolicy: { Name: 'no' };
    DeviceRequests: { Driver: string; DeviceIDs: string[]; Capabilities: string[][] }[];
  };
}

export interface ContainerPlan {
  image: string;
  /** The container's name: berth-<deployment>-<replica> plus a hash of the state dir. */
  name: string;
  create: ContainerCreateBody;
  /** Variables passed from the daemon's environment by name (HF_TOKEN...): never shown with a value. */
  secretEnv: string[];
  /** The same container as a `docker run` command line, secrets by name only. */
  dockerRun: string[];
}

/** An image pull in progress, summed over its layers. */
export interface PullProgress {
  image: string;
  /** Bytes downloaded so far, over the layers whose size is known. */
  completedBytes: number;
  /** Total size of the layers known so far; null until the first layer reports one. */
  totalBytes: number | null;
  /** 0-100, null while the total is unknown. */
  percent: number | null;
}

// ---------- deployments ----------
export const REPLICA_STATES = ['pending', 'starting', 'ready', 'stopping', 'stopped', 'failed', 'pulling'] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

export type DesiredState = 'running' | 'stopped';

export interface ReplicaStatus {
  id: string;
  state: ReplicaState;
  reason: string | null;
  pid: number | null;
  port: number | null;
  gpus: number[];
  startedAt: string | null;
  readyAt: string | null;
  /** Crash restarts since the replica was created. */
  restarts: number;
  /** Requests the gateway is serving on this replica now. */
  inFlight: number;
  /** While `pulling`: how far the image download is. Absent otherwise. */
  pull?: PullProgress;
}

export interface DeploymentStatus {
  name: string;
  spec: Deployment;
  desired: DesiredState;
  /** Aggregate: ready if any replica is ready, else the most advanced replica state. */
  state: ReplicaState;
  reason: string | null;
  /**
   * Desired running but scaled to zero (idle, or `scale.min: 0` before its
   * first request): the next request for it starts a replica.
   */
  sleeping: boolean;
  /** Requests waiting for a replica (cold start or every replica at inFlightValue). */
  queued: number;
  lastRequestAt: string | null;
  replicas: ReplicaStatus[];
  createdAt: string;
  updatedAt: string;
}

// ---------- events (SSE /api/v1/events) ----------
export type BerthEvent =
  | { type: 'deployment.created'; ts: string; name: string }
  | { type: 'deployment.updated'; ts: string; name: string }
  | { type: 'deployment.deleted'; ts: string; name: string }
  | {
      /** A sleeping deployment was started by a request, evicting others if its GPUs were held. */
      type: 'deployment.wake';
      ts: string;
      name: string;
      evicted: string[];
      /** From the first waiting request to a ready replica. */
      seconds: number;
    }
  | { type: 'deployment.sleep'; ts: string; name: string; reason: 'idle' | 'evicted' }
  | { type: 'deployment.scale'; ts: string; name: string; from: number; to: number }
  | {
      type: 'replica.state';
      ts: string;
      name: string;
      replica: string;
      from: ReplicaState;
      state: ReplicaState;
      reason: string | null;
    }
  | ({
      /** A container replica's image download advanced (at most a few times a second). */
      type: 'replica.pull';
      ts: string;
      name: string;
      replica: string;
    } & PullProgress);

// ---------- log stream (SSE /api/v1/deployments/:name/logs?follow=1) ----------
/**
 * A followed log stream's named messages, by `event:` name. Engine lines are
 * unnamed `data:` messages, each the JSON string of one line. Every line
 * comes after the `replica` message of the replica that printed it:
 *
 * - `replica`: from here on the stream shows this replica; its tail follows,
 *   then its live lines. Without `replica=` in the query the stream follows
 *   the deployment: it sends this again when the replica it shows is
 *   replaced (a restart, a scale-down) or when the first one starts. A crash
 *   restart keeps the replica (and its log), so its lines simply continue.
 * - `end`: nothing more will come, and the daemon closes the stream: the
 *   deployment was deleted, or the replica named by `replica=` is gone for
 *   good. A client should not reconnect.
 */
export interface LogStreamEvents {
  replica: { replica: string };
  end: { reason: string };
}

// ---------- doctor ----------
/** What to do about a failing check, decided by the daemon from what actually failed. */
export interface DoctorFix {
  /** One shell command to copy that fixes it (or starts to), or null where the fix is not a command. */
  command: string | null;
  /** What the command does and what follows it, or what to do instead. */
  note: string;
}

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** null when the check passed, or when the daemon knows no fix better than `detail`. */
  fix: DoctorFix | null;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}
