// Deployment + launch plan -> the Engine API body that creates its container,
// and the same container as a `docker run` line. Pure: the caller resolves
// paths, the image and which secrets exist; nothing here reads the machine.
//
// Each choice, and the fact that forces it:
//  - GPUs by index as a device request (`--gpus "device=0,1"`), with an empty
//    driver as the docker CLI sends it, so the equivalent run line is exact.
//    Inside, CUDA numbers them from 0, so the process plan's
//    CUDA_VISIBLE_DEVICES (host indexes) is dropped unless the user set one.
//  - The engine listens on the same port inside as outside and on 0.0.0.0
//    inside (the container's own interface; SGLang binds 127.0.0.1 by
//    default), published on 127.0.0.1 only: the gateway stays the one door.
//  - --ipc=host: both engines' docs ask for it (PyTorch shares tensors
//    through /dev/shm, 64 MiB in a container otherwise).
//  - An init process (docker-init) reaps the engine's workers and forwards
//    the stop signal; no restart policy: Berth restarts with its own backoff
//    and crash budget, and Docker restarting behind it would fight it.
//  - The host's Hugging Face cache at /root/.cache/huggingface, where both
//    images (root, HOME /root) look; a local model directory read-only at
//    its own path, so the engine's argv names the same path as on the host.
//  - Runs as the image's user, root: both images keep HOME and every cache
//    under /root (mode 0700), which no other uid can reach, so files they
//    write in the host cache are root's with rootful Docker. Rootless Docker
//    and Podman map that root to the user's own uid.
//  - Secrets travel by name: their values join the create body when the
//    container is created, never this plan, an argv or a log.
import type { ContainerCreateBody, ContainerPlan, LaunchPlan } from '../../contract/api.js';
import type { Deployment } from '../../contract/deployment.js';

/** Label keys every Berth container carries; the reaper finds its own by `STATE_DIR`. */
export const LABELS = {
  MANAGED: 'berth.managed',
  STATE_DIR: 'berth.state-dir',
  DEPLOYMENT: 'berth.deployment',
  REPLICA: 'berth.replica',
} as const;

/** Hugging Face tokens the engines read, passed from the daemon's environment when set there. */
export const PASSED_SECRETS = ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'] as const;

/** A variable whose value must never be shown: a token, a key, a password. */
export function isSecretName(name: string): boolean {
  return /(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL)/i.test(name);
}

export interface ImageStart {
  image: string;
  /** entrypoint: the image runs the engine module, Berth passes flags; command: Berth passes the whole command. */
  runs: 'entrypoint' | 'command';
  /** The interpreter the command starts with inside the image. */
  python: string;
  /** Where the image's Hugging Face cache is. */
  hfCache: string;
}

export interface ContainerSpecInput {
  deployment: Pick<Deployment, 'name' | 'env'>;
  /** The process plan built for inside the container: host 0.0.0.0, the image's python, modelId absolute. */
  plan: LaunchPlan;
  replica: string;
  image: ImageStart;
  /** Berth's state dir: labels tie the container to this daemon. */
  stateDir: string;
  /** The host's Hugging Face cache (HF_HOME or ~/.cache/huggingface). */
  hfCacheHost: string;
  /** A local model directory to mount read-only at the same path, or null for a hub id. */
  localModel: string | null;
  /** Secret variables set in the daemon's environment, among PASSED_SECRETS. */
  passedSecrets: readonly string[];
}

/** A stable short hash of the state dir, so two daemons' containers never share a name. */
export function stateDirTag(stateDir: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < stateDir.length; i++) {
    h ^= stateDir.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

export function containerName(replica: string, stateDir: string): string {
  return `berth-${replica}-${stateDirTag(stateDir)}`;
}

/** The container's command: what follows the image name on a docker run line. */
function command(plan: LaunchPlan, image: ImageStart): string[] {
  // plan.argv is [python, '-m', module, ...flags].
  return image.runs === 'entrypoint' ? plan.argv.slice(3) : [image.python, ...plan.argv.slice(1)];
}

export function buildContainerPlan(input: ContainerSpecInput): ContainerPlan {
  const { plan, image, deployment } = input;
  const name = containerName(input.replica, input.stateDir);
  const port = String(plan.port);
  const userSetGpus = Object.hasOwn(deployment.env, 'CUDA_VISIBLE_DEVICES');
  const env: [string, string][] = [];
  const secretEnv: string[] = [];
  for (const [k, v] of Object.entries(plan.env)) {
    if (k === 'CUDA_VISIBLE_DEVICES' && !userSetGpus) continue;
    if (isSecretName(k)) secretEnv.push(k);
    else env.push([k, v]);
  }
  for (const s of input.passedSecrets) if (!secretEnv.includes(s)) secretEnv.push(s);
  const binds = [`${input.hfCacheHost}:${image.hfCache}`];
  if (input.localModel) binds.push(`${input.localModel}:${input.localModel}:ro`);
  const labels: Record<string, string> = {
    [LABELS.MANAGED]: 'true',
    [LABELS.STATE_DIR]: input.stateDir,
    [LABELS.DEPLOYMENT]: deployment.name,
    [LABELS.REPLICA]: input.replica,
  };
  const gpus = plan.gpus.map(String);
  const create: ContainerCreateBody = {
    Image: image.image,
    Entrypoint: null,
    Cmd: command(plan, image),
    Env: env.map(([k, v]) => `${k}=${v}`),
    Tty: true,
    Labels: labels,
    ExposedPorts: { [`${port}/tcp`]: {} },
    HostConfig: {
      Binds: binds,
      PortBindings: { [`${port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: port }] },
      IpcMode: 'host',
      Init: true,
      RestartPolicy: { Name: 'no' },
      DeviceRequests: gpus.length ? [{ Driver: '', DeviceIDs: gpus, Capabilities: [['gpu']] }] : [],
    },
  };
  const dockerRun = [
    'docker', 'run', '--detach', '--tty', '--name', name,
    ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    '--init', '--ipc=host', '--restart=no',
    '--publish', `127.0.0.1:${port}:${port}`,
    ...(gpus.length ? ['--gpus', `"device=${gpus.join(',')}"`] : []),
    ...binds.flatMap((b) => ['--volume', b]),
    ...create.Env.flatMap((e) => ['--env', e]),
    // By name: the docker CLI takes the value from its own environment.
    ...secretEnv.flatMap((s) => ['--env', s]),
    image.image,
    ...create.Cmd,
  ];
  return { image: image.image, name, create, secretEnv, dockerRun };
}
