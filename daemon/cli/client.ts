// The CLI's HTTP client for the daemon, found through BERTH_HOST/BERTH_PORT
// like the daemon itself, with BERTH_API_KEY as the bearer token.
import { request as httpRequest, type IncomingMessage } from 'node:http';
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

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH']);

/**
 * One request to the daemon through node:http, not fetch: Node 20 builds
 * fetch's implementation (undici) on first use, which costs a quick command
 * like `berth ps` more CPU than everything else it does. No keep-alive agent:
 * the command makes one request and should exit as soon as it is answered.
 */
export function request(addr: DaemonAddress, method: string, path: string, body?: unknown): Promise<IncomingMessage> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (addr.apiKey) headers.authorization = `Bearer ${addr.apiKey}`;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(addr.baseUrl + path, { method, headers, agent: false }, resolve);
    req.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code && UNREACHABLE.has(err.code)
          ? new CliError(`berth daemon is not running at ${addr.baseUrl} (start it with: berth serve)`)
          : new CliError(`cannot reach the berth daemon at ${addr.baseUrl}: ${err.message}`),
      );
    });
    req.end(payload);
  });
}

/** The daemon's JSON answer, or a CliError carrying the message of its error envelope. */
export async function readJson<T>(res: IncomingMessage): Promise<T> {
  const status = res.statusCode ?? 0;
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk as string;
  if (status === 204) return undefined as T;
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new CliError(`unexpected answer from the daemon (${status}): ${text.slice(0, 200)}`);
  }
  if (status < 200 || status >= 300) {
    const e = (json as ApiErrorBody | undefined)?.error;
    throw new CliError(e ? e.message : `daemon answered ${status}`);
  }
  return json as T;
}

export async function requestJson<T>(addr: DaemonAddress, method: string, path: string, body?: unknown): Promise<T> {
  return readJson<T>(await request(addr, method, path, body));
}
