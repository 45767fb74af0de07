// A small client for Docker's Engine API over its unix socket (node:http with
// socketPath), the only way Berth talks to Docker.
//
// Why the API and not the docker CLI: the API answers in structure where the
// CLI answers in prose. A pull reports per-layer bytes as JSON lines (the CLI
// draws them for a terminal), `wait` returns the exit code, `top` lists the
// container's host pids (what nvidia-smi shows), and errors come as
// {message} with a status code, so a missing image (404), a name in use
// (409) and a refused start (500) are told apart without parsing a CLI's
// stderr. Nothing is exec'd, so no secret ever sits in an argv, and Podman's
// Docker-compatible socket answers the same calls.
//
// Paths are unversioned: the daemon then speaks its own newest version, and
// Docker 29 refuses versions older than 1.44 that a pinned prefix would ask for.
import { request as httpRequest, type IncomingMessage } from 'node:http';

export class DockerApiError extends Error {
  override readonly name = 'DockerApiError';

  constructor(
    /** HTTP status; 0 when the socket could not be reached at all. */
    readonly status: number,
    message: string,
    /** The socket error's code (ENOENT, ECONNREFUSED, EACCES) when status is 0. */
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export interface DockerApi {
  /** The socket path it talks to, for messages. */
  readonly socketPath: string;
  /** A JSON request; resolves with the parsed body (null for an empty one) on 2xx, rejects with DockerApiError otherwise. */
  json<T>(method: string, path: string, body?: unknown, opts?: { signal?: AbortSignal; /** null: none (a wait for an exit). Default 30 s. */ timeoutMs?: number | null }): Promise<T>;
  /** A streamed response, as it arrives: rejects on a non-2xx status, resolves when the stream ends. */
  stream(method: string, path: string, onChunk: (chunk: Buffer) => void, opts?: { signal?: AbortSignal }): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export function createDockerApi(socketPath: string): DockerApi {
  const open = (method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = httpRequest(
        {
          socketPath,
          method,
          path,
          // The Engine API checks Host like any HTTP server; "docker" is what its own CLI sends.
          headers: { host: 'docker', ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
          signal,
        },
        resolve,
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.name === 'AbortError') return reject(err);
        reject(new DockerApiError(0, `cannot reach Docker at ${socketPath}: ${err.code ?? err.message}`, err.code ?? null));
      });
      req.end(payload);
    });

  const failure = async (res: IncomingMessage): Promise<DockerApiError> => {
    const text = await readAll(res);
    let message = text.trim();
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      /* a proxy's plain-text error */
    }
    return new DockerApiError(res.statusCode ?? 0, message || `HTTP ${res.statusCode}`);
  };

  return {
    socketPath,
    async json<T>(method: string, path: string, body?: unknown, opts: { signal?: AbortSignal; timeoutMs?: number | null } = {}): Promise<T> {
      const signals = [...(opts.timeoutMs === null ? [] : [AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS)]), ...(opts.signal ? [opts.signal] : [])];
      const res = await open(method, path, body, signals.length ? AbortSignal.any(signals) : undefined);
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw await failure(res);
      const text = await readAll(res);
      return (text.trim() ? JSON.parse(text) : null) as T;
    },
    async stream(method: string, path: string, onChunk: (chunk: Buffer) => void, opts: { signal?: AbortSignal } = {}): Promise<void> {
      const res = await open(method, path, undefined, opts.signal);
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw await failure(res);
      await new Promise<void>((resolve, reject) => {
        res.on('data', (c: Buffer) => onChunk(c));
        res.on('end', () => resolve());
        res.on('error', reject);
        res.on('close', () => resolve());
      });
    },
  };
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** Where the Engine API listens, from Berth's `docker` setting and DOCKER_HOST, or why it cannot be used. */
export type DockerEndpoint = { ok: true; socketPath: string; from: string } | { ok: false; reason: string };

const DEFAULT_SOCKET = '/var/run/docker.sock';

/**
 * The `docker` setting (BERTH_DOCKER) names the Engine API's socket, as
 * `unix:///path` or a path; its default, `docker`, means "where the docker
 * CLI would look": DOCKER_HOST, else /var/run/docker.sock. Only unix sockets:
 * a tcp:// daemon is another machine's GPUs and needs TLS Berth does not set up.
 */
export function dockerEndpoint(setting: string, env: Readonly<Record<string, string | undefined>>): DockerEndpoint {
  const explicit = setting !== 'docker';
  const raw = explicit ? setting : env.DOCKER_HOST || `unix://${DEFAULT_SOCKET}`;
  const from = explicit ? 'the docker setting (BERTH_DOCKER)' : env.DOCKER_HOST ? 'DOCKER_HOST' : 'the default socket';
  if (raw.startsWith('unix://')) return { ok: true, socketPath: raw.slice('unix://'.length), from };
  if (raw.startsWith('/')) return { ok: true, socketPath: raw, from };
  return { ok: false, reason: `${from} is ${raw}: Berth talks to Docker only over a local unix socket (unix:///var/run/docker.sock)` };
}
