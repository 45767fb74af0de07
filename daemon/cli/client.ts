// The CLI's way to the daemon: the contract's one client (contract/client.ts)
// over a node:http transport, found through BERTH_HOST/BERTH_PORT like the
// daemon itself, with BERTH_API_KEY as the bearer token.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { ApiErrorBody } from '../contract/api.js';
import { createClient, type Client, type Transport } from '../contract/client.js';
import { CliError } from './errors.js';

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
export function request(addr: DaemonAddress, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<IncomingMessage> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (addr.apiKey) headers.authorization = `Bearer ${addr.apiKey}`;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(addr.baseUrl + path, { method, headers, agent: false, signal }, resolve);
    req.once('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'AbortError') return reject(err);
      reject(
        err.code && UNREACHABLE.has(err.code)
          ? new CliError(`berth daemon is not running at ${addr.baseUrl} (start it with: berth serve)`)
          : new CliError(`cannot reach the berth daemon at ${addr.baseUrl}: ${err.message}`),
      );
    });
    req.end(payload);
  });
}

/** The body of an answer as text. */
async function readText(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk as string;
  return text;
}

/** The daemon's JSON answer, or a CliError carrying the message of its error envelope (for streams that failed to open). */
export async function readJson<T>(res: IncomingMessage): Promise<T> {
  const status = res.statusCode ?? 0;
  const json = parseAnswer(status, await readText(res));
  if (status < 200 || status >= 300) {
    const e = (json as ApiErrorBody | undefined)?.error;
    throw new CliError(e ? e.message : `daemon answered ${status}`);
  }
  return json as T;
}

function parseAnswer(status: number, text: string): unknown {
  if (status === 204 || !text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not Berth's JSON: another service on the port, or a proxy's error page.
    throw new CliError(`unexpected answer from the daemon (${status}): ${text.slice(0, 200)}`);
  }
}

/** The contract's transport over node:http (see `request` for why not fetch). */
export function nodeTransport(addr: DaemonAddress): Transport {
  return async ({ method, path, body, signal }) => {
    const res = await request(addr, method, path, body, signal);
    const status = res.statusCode ?? 0;
    return { status, body: parseAnswer(status, await readText(res)) };
  };
}

/** The one client, pointed at the daemon the environment names. */
export function daemonClient(addr: DaemonAddress = daemonAddress()): Client {
  return createClient(nodeTransport(addr));
}
