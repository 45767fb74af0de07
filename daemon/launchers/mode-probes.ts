// The I/O behind `mode: auto` (mode.ts decides): does the engine's Python
// import it, and can Docker run it. Light enough for `berth plan`, which
// loads no pty.
import type { Backend } from '../contract/deployment.js';
import type { Settings } from '../config/settings.js';
import { createDockerApi, dockerEndpoint, type DockerApi } from './docker/engine-api.js';
import { probeDocker } from './docker/probe.js';
import { LaunchError } from './launch-error.js';
import { createModeResolver } from './mode.js';
import type { ModeResolver } from './types.js';

/** The Engine API from the `docker` setting and DOCKER_HOST; throws a LaunchError when neither names a unix socket. */
export function dockerApiFor(settings: Pick<Settings, 'docker'>, env: Readonly<Record<string, string | undefined>>): () => DockerApi {
  let api: DockerApi | null = null;
  return () => {
    if (api) return api;
    const at = dockerEndpoint(settings.docker, env);
    if (!at.ok) throw new LaunchError('EDOCKER', at.reason);
    api = createDockerApi(at.socketPath);
    return api;
  };
}

const IMPORT_TIMEOUT_MS = 120_000;

/** Whether `python` imports the engine, as the doctor checks it (the import is the proof). */
async function engineInstalled(python: string, backend: Backend, env: Record<string, string>): Promise<boolean> {
  const { execa } = await import('execa');
  const r = await execa(python, ['-c', `import ${backend}`], { reject: false, timeout: IMPORT_TIMEOUT_MS, stdin: 'ignore', env, extendEnv: false });
  return r.exitCode === 0;
}

export function createModes(settings: Pick<Settings, 'vllmPython' | 'sglangPython'>, env: Record<string, string>, api: () => DockerApi): ModeResolver {
  return createModeResolver({
    pythonFor: (b) => (b === 'vllm' ? settings.vllmPython : settings.sglangPython),
    engineInstalled: (python, backend) => engineInstalled(python, backend, env),
    docker: async () => {
      try {
        return await probeDocker(api());
      } catch (err) {
        return { reachable: false, version: null, error: (err as Error).message, gpu: { ok: false, detail: 'Docker is not reachable' } };
      }
    },
  });
}

