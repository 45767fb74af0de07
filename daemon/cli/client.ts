// The CLI's HTTP client for the daemon, found through BERTH_HOST/BERTH_PORT
// like the daemon itself, with BERTH_API_KEY as the bearer token.
import type { ApiErrorBody } from '../contract/api.js';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface DaemonAddress {
  baseUrl: string;
  apiKey: string | null;
}

export function daemonAddress(env: NodeJS.ProcessEnv = process.env): DaemonAddress {
  let host = env.BERTH_HOST || '127.0.0.1';
  // A daemon listening on every interface is reached on loopback.
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  const port = env.BERTH_PORT || '7788';
  return { baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, apiKey: env.BERTH_API_KEY || null };
}

function connectionRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED' || cause?.code === 'ENOTFOUND' || cause?.code === 'EHOSTUNREACH';
}

export async function request(addr: DaemonAddress, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (addr.apiKey) headers.authorization = `Bearer ${addr.apiKey}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await fetch(addr.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    if (connectionRefused(err)) throw new CliError(`berth daemon is not running at ${addr.baseUrl} (start it with: berth serve)`);
    throw new CliError(`cannot reach the berth daemon at ${addr.baseUrl}: ${(err as Error).message}`);
  }
}

export async function requestJson<T>(addr: DaemonAddress, method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(addr, method, path, body);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new CliError(`unexpected answer from the daemon (${res.status}): ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const e = (json as ApiErrorBody | undefined)?.error;
    throw new CliError(e ? e.message : `daemon answered ${res.status}`);
  }
  return json as T;
}
