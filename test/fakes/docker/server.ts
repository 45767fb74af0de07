// A fake Docker Engine: the Engine API on a unix socket, as much of it as
// Berth uses, answering as dockerd does (status codes, message wording,
// streamed pulls). The daemon under test talks to it over the socket exactly
// as it would to dockerd; nothing in the daemon knows it is a fake.
//
// A "container" is the fake engine (test/fakes/bin/python) run as a host
// process: the image's entrypoint and the create body's Cmd, with `python3`
// mapped to the fake python. Each records every call it receives (method,
// path, body) for tests to assert on. What it models, and what it leaves out,
// is in README.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContainerCreateBody } from '../../../daemon/contract/api.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const FAKE_PYTHON = join(REPO, 'test/fakes/bin/python');
const GPU_HOLDER = join(REPO, 'test/fakes/docker/gpu-holder.mjs');

export interface FakeImage {
  /** The image's ENTRYPOINT; null for none (SGLang's). */
  entrypoint: string[] | null;
  /** Layer sizes in bytes, as a pull reports them. */
  layers: number[];
}

/** What the registry answers for a reference: an image, or a failure as Docker reports it. */
export type RegistryEntry = FakeImage | { fail: 'not-found' | 'unauthorized' | 'network' };

export const VLLM_IMAGE = 'vllm/vllm-openai:v0.9.0.1';
export const SGLANG_IMAGE = 'lmsysorg/sglang:v0.4.6-cu124';

const DEFAULT_REGISTRY: Record<string, RegistryEntry> = {
  [VLLM_IMAGE]: { entrypoint: ['python3', '-m', 'vllm.entrypoints.openai.api_server'], layers: [30_000_000, 2_000_000_000, 6_500_000_000] },
  [SGLANG_IMAGE]: { entrypoint: null, layers: [40_000_000, 9_000_000_000] },
};

export interface FakeDockerOptions {
  /** Images present before any pull. Default: both catalogue images. */
  images?: string[];
  /** The registry behind pulls. Default: both catalogue images. */
  registry?: Record<string, RegistryEntry>;
  /** The images' environment (FAKE_* knobs for the engines, FAKE_GPU_APPS_DIR...). */
  imageEnv?: Record<string, string>;
  /** false: no GPU support (no nvidia runtime; a GPU request fails as without the toolkit). Default true. */
  gpu?: boolean;
  /** Each container also runs a process holding its GPUs that exits this long after the container stops (needs FAKE_GPU_APPS_DIR in imageEnv). */
  gpuLingerMs?: number;
  /** Time between two pull progress messages. Default 5 ms. */
  pullStepMs?: number;
}

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

interface Container {
  id: string;
  name: string;
  body: ContainerCreateBody;
  status: 'created' | 'running' | 'exited';
  proc: ChildProcess | null;
  holder: ChildProcess | null;
  exitCode: number | null;
  logs: Buffer[];
  followers: Set<ServerResponse>;
  waiters: Set<() => void>;
}

export interface FakeDocker {
  socketPath: string;
  calls: RecordedCall[];
  /** Containers by name, as the fake holds them now. */
  containers(): { id: string; name: string; status: string; pid: number | null; holderPid: number | null; labels: Record<string, string> }[];
  images(): string[];
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};
const message = (res: ServerResponse, status: number, msg: string) => json(res, status, { message: msg });
const noContent = (res: ServerResponse, status = 204) => {
  res.writeHead(status);
  res.end();
};

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch {
        resolve(text);
      }
    });
  });
}

const SIGNUM: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

function signalGroup(p: ChildProcess | null, sig: NodeJS.Signals): void {
  if (!p?.pid) return;
  try {
    process.kill(-p.pid, sig);
  } catch {
    /* gone */
  }
}

function reference(fromImage: string, tag: string | undefined): string {
  if (!tag) return fromImage.includes(':') && fromImage.lastIndexOf(':') > fromImage.lastIndexOf('/') ? fromImage : `${fromImage}:latest`;
  return tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
}

export async function startFakeDocker(opts: FakeDockerOptions = {}): Promise<FakeDocker> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-docker-'));
  const socketPath = join(dir, 'docker.sock');
  const registry = { ...DEFAULT_REGISTRY, ...opts.registry };
  const present = new Map<string, FakeImage>();
  for (const ref of opts.images ?? [VLLM_IMAGE, SGLANG_IMAGE]) {
    const entry = registry[ref];
    present.set(ref, entry && 'layers' in entry ? entry : { entrypoint: null, layers: [1] });
  }
  const containers = new Map<string, Container>();
  const calls: RecordedCall[] = [];
  let seq = 0;

  const find = (idOrName: string): Container | undefined =>
    containers.get(idOrName) ?? [...containers.values()].find((c) => c.name === idOrName || c.id.startsWith(idOrName));

  const finish = (c: Container, code: number) => {
    c.status = 'exited';
    c.exitCode = code;
    // The runtime tears the container down: its other processes get the stop signal too.
    if (c.holder) signalGroup(c.holder, 'SIGTERM');
    for (const w of c.waiters) w();
    c.waiters.clear();
    for (const f of c.followers) f.end();
    c.followers.clear();
  };

  const appendLog = (c: Container, chunk: Buffer) => {
    c.logs.push(chunk);
    for (const f of c.followers) f.write(chunk);
  };

  const publishedPorts = (c: Container) => Object.values(c.body.HostConfig?.PortBindings ?? {}).flat().map((b) => `${b.HostIp}:${b.HostPort}`);

  function start(c: Container): string | null {
    const requests = c.body.HostConfig?.DeviceRequests ?? [];
    if (requests.length && opts.gpu === false) {
      return `could not select device driver "" with capabilities: [[gpu]]`;
    }
    for (const other of containers.values()) {
      if (other === c || other.status !== 'running') continue;
      const clash = publishedPorts(c).find((p) => publishedPorts(other).includes(p));
      if (clash) return `driver failed programming external connectivity on endpoint ${c.name}: Bind for ${clash} failed: port is already allocated`;
    }
    const image = present.get(c.body.Image)!;
    const argv = [...(c.body.Entrypoint ?? image.entrypoint ?? []), ...c.body.Cmd];
    if (argv[0] === 'python3' || argv[0] === 'python') argv[0] = FAKE_PYTHON;
    // The container's own network namespace, emulated: what binds 0.0.0.0
    // inside is reachable only where the port is published.
    const hostIp = publishedPorts(c)[0]?.split(':')[0] ?? '127.0.0.1';
    for (let i = 0; i < argv.length - 1; i++) if (argv[i] === '--host' && argv[i + 1] === '0.0.0.0') argv[i + 1] = hostIp;
    // The NVIDIA runtime shows the container only its devices; the fake
    // nvidia-smi needs host indexes, so they go in CUDA_VISIBLE_DEVICES.
    const devices = requests.flatMap((r) => r.DeviceIDs).join(',');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: '/root',
      ...opts.imageEnv,
      ...Object.fromEntries(c.body.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      CUDA_VISIBLE_DEVICES: devices,
    };
    const proc = spawn(argv[0]!, argv.slice(1), { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    c.proc = proc;
    c.status = 'running';
    proc.stdout!.on('data', (b: Buffer) => appendLog(c, b));
    proc.stderr!.on('data', (b: Buffer) => appendLog(c, b));
    proc.on('exit', (code, signal) => {
      // docker-init reports a signal death as 128+n.
      const status = code ?? 128 + (signal ? SIGNUM[signal] ?? 1 : 1);
      // Every process of the container dies with its init.
      signalGroup(proc, 'SIGKILL');
      setTimeout(() => finish(c, status), 20);
    });
    const appsDir = opts.imageEnv?.FAKE_GPU_APPS_DIR;
    if (opts.gpuLingerMs && appsDir && devices) {
      c.holder = spawn(process.execPath, [GPU_HOLDER, appsDir, devices, String(opts.gpuLingerMs), opts.imageEnv?.FAKE_GPU_MEMORY_MIB ?? '1024'], { detached: true, stdio: 'ignore' });
    }
    return null;
  }

  async function pull(res: ServerResponse, ref: string): Promise<void> {
    const entry = registry[ref];
    if (!entry || ('fail' in entry && entry.fail === 'not-found')) {
      return message(res, 404, `manifest for ${ref} not found: manifest unknown: manifest unknown`);
    }
    if ('fail' in entry && entry.fail === 'network') {
      return message(res, 500, `Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: no such host`);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    const send = (m: unknown) => res.write(JSON.stringify(m) + '\r\n');
    const step = () => new Promise((r) => setTimeout(r, opts.pullStepMs ?? 5));
    const [name, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
    send({ status: `Pulling from ${name}`, id: tag });
    if ('fail' in entry) {
      // A registry that answered, then refused: dockerd reports it in the stream.
      send({ errorDetail: { message: `pull access denied for ${name}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied` }, error: `pull access denied for ${name}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied` });
      return void res.end();
    }
    const ids = entry.layers.map((_, i) => `layer${i}`);
    for (const id of ids) send({ status: 'Pulling fs layer', progressDetail: {}, id });
    for (const [i, size] of entry.layers.entries()) {
      for (let k = 1; k <= 4; k++) {
        await step();
        send({ status: 'Downloading', progressDetail: { current: Math.floor((size * k) / 4), total: size }, progress: '[==>   ]', id: ids[i] });
      }
      send({ status: 'Download complete', progressDetail: {}, id: ids[i] });
      send({ status: 'Extracting', progressDetail: { current: size, total: size }, id: ids[i] });
      send({ status: 'Pull complete', progressDetail: {}, id: ids[i] });
    }
    send({ status: 'Digest: sha256:' + '0'.repeat(64) });
    send({ status: `Status: Downloaded newer image for ${ref}` });
    present.set(ref, entry);
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://docker');
    // Accept /v1.xx/ prefixes as dockerd does.
    const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
    const query = Object.fromEntries(url.searchParams);
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    calls.push({ method, path, query, body });
    const route = (m: string, re: RegExp) => (method === m ? re.exec(path) : null);
    let m: RegExpExecArray | null;

    if (route('GET', /^\/_ping$/) || route('HEAD', /^\/_ping$/)) {
      res.writeHead(200, { 'api-version': '1.47', 'content-type': 'text/plain' });
      return void res.end(method === 'HEAD' ? undefined : 'OK');
    }
    if (route('GET', /^\/version$/)) return json(res, 200, { Version: '27.3.1', ApiVersion: '1.47', Components: [{ Name: 'Engine', Version: '27.3.1' }] });
    if (route('GET', /^\/info$/)) {
      return json(res, 200, { Runtimes: opts.gpu === false ? { runc: {} } : { runc: {}, nvidia: { path: 'nvidia-container-runtime' } }, DiscoveredDevices: [] });
    }
    if ((m = route('GET', /^\/images\/(.+)\/json$/))) {
      const ref = decodeURIComponent(m[1]!);
      return present.has(ref) ? json(res, 200, { Id: `sha256:${ref}`, RepoTags: [ref] }) : message(res, 404, `No such image: ${ref}`);
    }
    if (route('POST', /^\/images\/create$/)) return pull(res, reference(query.fromImage ?? '', query.tag));
    if (route('POST', /^\/containers\/create$/)) {
      const b = body as ContainerCreateBody;
      const name = query.name ?? `c${seq}`;
      const taken = [...containers.values()].find((c) => c.name === name);
      if (taken) return message(res, 409, `Conflict. The container name "/${name}" is already in use by container "${taken.id}". You have to remove (or rename) that container to be able to reuse that name.`);
      if (!present.has(b.Image)) return message(res, 404, `No such image: ${b.Image}`);
      const id = `${(++seq).toString(16).padStart(12, '0')}${'f'.repeat(52)}`;
      containers.set(id, { id, name, body: b, status: 'created', proc: null, holder: null, exitCode: null, logs: [], followers: new Set(), waiters: new Set() });
      return json(res, 201, { Id: id, Warnings: [] });
    }
    if (route('GET', /^\/containers\/json$/)) {
      const filters = query.filters ? (JSON.parse(query.filters) as { label?: string[] }) : {};
      const list = [...containers.values()].filter((c) => (filters.label ?? []).every((l) => {
        const [k, v] = l.split(/=(.*)/s);
        return v === undefined ? k! in c.body.Labels : c.body.Labels[k!] === v;
      }));
      return json(res, 200, list.filter((c) => query.all || c.status === 'running').map((c) => ({ Id: c.id, Names: [`/${c.name}`], Labels: c.body.Labels, State: c.status })));
    }
    m = /^\/containers\/([^/]+)(\/[a-z]+)?$/.exec(path);
    const c = m ? find(decodeURIComponent(m[1]!)) : undefined;
    if (!m) return message(res, 404, `page not found`);
    if (!c) return message(res, 404, `No such container: ${decodeURIComponent(m[1]!)}`);
    const action = `${method} ${m[2] ?? ''}`;
    switch (action) {
      case 'POST /start': {
        if (c.status === 'running') return noContent(res, 304);
        const refused = start(c);
        return refused ? message(res, 500, refused) : noContent(res);
      }
      case 'GET /json':
        return json(res, 200, {
          Id: c.id,
          Name: `/${c.name}`,
          State: { Status: c.status, Running: c.status === 'running', Pid: c.status === 'running' ? c.proc?.pid ?? 0 : 0, ExitCode: c.exitCode ?? 0 },
          Config: { Image: c.body.Image, Labels: c.body.Labels },
        });
      case 'GET /logs': {
        res.writeHead(200, { 'content-type': 'application/vnd.docker.raw-stream' });
        for (const chunk of c.logs) res.write(chunk);
        if (query.follow && c.status === 'running') {
          c.followers.add(res);
          res.on('close', () => c.followers.delete(res));
        } else res.end();
        return;
      }
      case 'POST /wait': {
        const answer = () => json(res, 200, { StatusCode: c.exitCode ?? 0, Error: null });
        if (c.status !== 'running') return answer();
        c.waiters.add(answer);
        return;
      }
      case 'GET /top': {
        if (c.status !== 'running') return message(res, 409, `Container ${c.id} is not running`);
        const pids = [c.proc?.pid, c.holder?.pid].filter((p): p is number => typeof p === 'number');
        return json(res, 200, { Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: pids.map((p) => ['root', String(p), '1', '0', '00:00', '?', '00:00:00', 'python3']) });
      }
      case 'POST /stop': {
        if (c.status !== 'running') return noContent(res, 304);
        const t = Number(query.t ?? 10);
        signalGroup(c.proc, 'SIGTERM');
        const timer = setTimeout(() => signalGroup(c.proc, 'SIGKILL'), t * 1000);
        c.waiters.add(() => {
          clearTimeout(timer);
          noContent(res);
        });
        return;
      }
      case 'POST /kill': {
        if (c.status !== 'running') return message(res, 409, `Cannot kill container: ${c.id}: Container ${c.id} is not running`);
        signalGroup(c.proc, (query.signal ?? 'SIGKILL') as NodeJS.Signals);
        return noContent(res);
      }
      case 'DELETE ': {
        if (c.status === 'running') {
          if (!query.force) return message(res, 409, `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`);
          signalGroup(c.proc, 'SIGKILL');
          await new Promise<void>((r) => c.waiters.add(r));
        }
        containers.delete(c.id);
        return noContent(res);
      }
      default:
        return message(res, 404, `page not found`);
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => message(res, 500, String(err)));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));

  return {
    socketPath,
    calls,
    containers: () =>
      [...containers.values()].map((c) => ({
        id: c.id,
        name: c.name,
        status: c.status,
        pid: c.proc?.pid ?? null,
        holderPid: c.holder?.pid ?? null,
        labels: c.body.Labels,
      })),
    images: () => [...present.keys()],
    async close() {
      for (const c of containers.values()) {
        signalGroup(c.proc, 'SIGKILL');
        signalGroup(c.holder, 'SIGKILL');
      }
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
