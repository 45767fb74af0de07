// Every /api/v1 route as data: method, path, and (as phantom types) its query,
// body and answer. The daemon mounts its handlers from this table
// (api/mount.ts) and the one client (contract/client.ts) calls it, so a
// renamed path, field or answer fails to compile on both sides at once.
// Streams (SSE) are listed in `streams`: they are opened with EventSource or
// read line by line, not called.
import type { DoctorReport, DeploymentStatus, GpuInventory, LaunchPlan } from './api.js';
import type { DeploymentInput, Lora } from './deployment.js';
import type { DeploymentHistory, GpuUsageReport } from './live.js';
import type { LoraChange, LoraList } from './lora.js';
import type { ApplyAnswer, ApplyRequest, ExportAnswer, ManifestFormat } from './manifests.js';
import type { SessionAnswer, SessionRequest } from './session.js';
import type { SettingsPatch, SettingsView } from './settings.js';
import type { DeploymentStats } from './stats.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** `'/a/:name/b'` → `{ name: string }`; a path without parameters → `{}`. */
export type PathParams<P extends string> = P extends `${string}:${infer Param}/${infer Rest}`
  ? { [K in Param]: string } & PathParams<`/${Rest}`>
  : P extends `${string}:${infer Param}`
    ? { [K in Param]: string }
    : {};

/**
 * One route. `Q`, `B` and `R` exist only as types: the query string, the JSON
 * body and the JSON answer (for a 204, `void`). Optional `Q` fields are left
 * out of the URL when undefined.
 */
export interface Route<M extends HttpMethod, P extends string, Q, B, R> {
  readonly method: M;
  readonly path: P;
  /** Never set: it carries Q, B and R for the type checker. */
  readonly __types?: { query: Q; body: B; answer: R };
}

const route =
  <Q = undefined, B = undefined, R = void>() =>
  <M extends HttpMethod, P extends string>(method: M, path: P): Route<M, P, Q, B, R> => ({ method, path });

/** The health answer is how a client tells Berth from another service on the port. */
export interface Health {
  status: 'ok';
  /** Always "berth": the question Electron's attach step asks before trusting the port. */
  service: 'berth';
  version: string;
  /** The /api/v1 contract revision; a client refuses a daemon whose major differs. */
  apiVersion: number;
  uptimeSeconds: number;
}

/** Bumped when a route or a shape changes incompatibly. */
export const API_VERSION = 1;

export const api = {
  health: route<undefined, undefined, Health>()('GET', '/api/v1/health'),
  gpus: route<undefined, undefined, GpuInventory>()('GET', '/api/v1/gpus'),
  /** Which replica holds how much of each GPU: allocated (the engine's budget) and used (nvidia-smi). */
  gpuUsage: route<undefined, undefined, GpuUsageReport>()('GET', '/api/v1/gpus/usage'),
  doctor: route<undefined, undefined, DoctorReport>()('GET', '/api/v1/doctor'),
  /** The exact launch plan (argv, env, GPUs, port) a deployment would get, without starting anything. */
  plan: route<undefined, DeploymentInput, LaunchPlan>()('POST', '/api/v1/plan'),

  listDeployments: route<undefined, undefined, { deployments: DeploymentStatus[] }>()('GET', '/api/v1/deployments'),
  createDeployment: route<{ start?: boolean }, DeploymentInput, DeploymentStatus>()('POST', '/api/v1/deployments'),
  getDeployment: route<undefined, undefined, DeploymentStatus>()('GET', '/api/v1/deployments/:name'),
  /** RFC 7396 merge patch over the deployment's input. */
  updateDeployment: route<undefined, Record<string, unknown>, DeploymentStatus>()('PATCH', '/api/v1/deployments/:name'),
  deleteDeployment: route<undefined, undefined, void>()('DELETE', '/api/v1/deployments/:name'),
  startDeployment: route<undefined, undefined, DeploymentStatus>()('POST', '/api/v1/deployments/:name/start'),
  stopDeployment: route<undefined, undefined, DeploymentStatus>()('POST', '/api/v1/deployments/:name/stop'),
  restartDeployment: route<undefined, undefined, DeploymentStatus>()('POST', '/api/v1/deployments/:name/restart'),
  deploymentLogs: route<{ replica?: string; tail?: number; ansi?: boolean }, undefined, { replica: string | null; lines: string[] }>()(
    'GET',
    '/api/v1/deployments/:name/logs',
  ),
  deploymentStats: route<undefined, undefined, DeploymentStats>()('GET', '/api/v1/deployments/:name/stats'),
  /** The last hour of the deployment's sampled stats, oldest first, for the charts. */
  deploymentHistory: route<undefined, undefined, DeploymentHistory>()('GET', '/api/v1/deployments/:name/history'),

  /** The deployment's LoRA adapters and the replicas serving each. */
  deploymentLoras: route<undefined, undefined, LoraList>()('GET', '/api/v1/deployments/:name/loras'),
  /** vLLM: loaded into every ready replica at once. SGLang: a planned restart (`restart` in the answer). */
  addLora: route<undefined, Lora, LoraChange>()('POST', '/api/v1/deployments/:name/loras'),
  removeLora: route<undefined, undefined, LoraChange>()('DELETE', '/api/v1/deployments/:name/loras/:adapter'),

  settings: route<undefined, undefined, SettingsView>()('GET', '/api/v1/settings'),
  updateSettings: route<undefined, SettingsPatch, SettingsView>()('PATCH', '/api/v1/settings'),

  /**
   * Exchange the API key for an HttpOnly, SameSite=Strict session cookie, so
   * the UI's EventSource (which cannot send Authorization) is authenticated.
   */
  createSession: route<undefined, SessionRequest, SessionAnswer>()('POST', '/api/v1/session'),
  deleteSession: route<undefined, undefined, void>()('DELETE', '/api/v1/session'),

  /** A platform manifest (llmaz, KServe, Knative) in YAML: creates or updates one deployment per served model. */
  apply: route<undefined, ApplyRequest, ApplyAnswer>()('POST', '/api/v1/apply'),
  /** The deployment as a manifest of `format`; YAML text unless the client asks for JSON. */
  exportDeployment: route<{ format: ManifestFormat }, undefined, ExportAnswer>()('GET', '/api/v1/deployments/:name/export'),
} as const;

export type Api = typeof api;
export type RouteName = keyof Api;

/** Server-sent event streams. Each message has `id:` (a sequence number) and `event:` (its type). */
export const streams = {
  /** StreamEvent (contract/live.ts): a snapshot first, then deltas; honours Last-Event-ID. */
  events: '/api/v1/events',
  /**
   * `?follow=1`: the log tail, then each new line as one `data:` message,
   * each replica's lines after its `event: replica` (LogStreamEvents in api.ts).
   */
  deploymentLogs: '/api/v1/deployments/:name/logs',
} as const;

export type QueryOf<R> = R extends Route<HttpMethod, string, infer Q, unknown, unknown> ? Q : never;
export type BodyOf<R> = R extends Route<HttpMethod, string, unknown, infer B, unknown> ? B : never;
export type AnswerOf<R> = R extends Route<HttpMethod, string, unknown, unknown, infer A> ? A : never;
export type ParamsOf<R> = R extends Route<HttpMethod, infer P, unknown, unknown, unknown> ? PathParams<P> : never;

/** `fillPath('/a/:name', { name: 'x y' })` → `/a/x%20y`. */
export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/:([A-Za-z]+)/g, (_m, key: string) => {
    const v = params[key];
    if (v === undefined) throw new Error(`missing path parameter ${key}`);
    return encodeURIComponent(v);
  });
}

/** The query string for `query` (leading `?` included, empty when nothing is set). */
export function queryString(query: Record<string, string | number | boolean | undefined> | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'boolean' ? (v ? '1' : '0') : String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}
