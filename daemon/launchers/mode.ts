// `mode: auto`: a container when the engine's Python lacks the engine and
// Docker can run it (with GPUs when the deployment needs them), otherwise a
// process. chooseMode() decides from facts; createModeResolver() finds them.
import { gpusPerReplica, type Backend, type DeploymentMode } from '../contract/deployment.js';
import type { DockerFacts } from './docker/probe.js';
import type { ModeChoice, ModeResolver } from './types.js';

export interface ModeFacts {
  backend: Backend;
  /** The engine imports with its configured python. */
  engineInstalled: boolean;
  python: string;
  docker: Pick<DockerFacts, 'reachable' | 'gpu' | 'error'>;
  needsGpu: boolean;
}

/** Pure. Process is the fallback: its failure (the missing module) is the clearer message. */
export function chooseMode(requested: DeploymentMode, facts: ModeFacts | null): ModeChoice {
  if (requested !== 'auto') return { mode: requested, reason: null };
  if (!facts) return { mode: 'process', reason: 'auto: process' };
  const { backend, python, docker } = facts;
  if (facts.engineInstalled) return { mode: 'process', reason: `auto: ${python} has ${backend}` };
  if (!docker.reachable) return { mode: 'process', reason: `auto: ${python} lacks ${backend} and Docker is not reachable (${docker.error ?? 'unknown'})` };
  if (facts.needsGpu && !docker.gpu.ok) return { mode: 'process', reason: `auto: ${python} lacks ${backend} and Docker has no GPU support (${docker.gpu.detail})` };
  return { mode: 'container', reason: `auto: ${python} lacks ${backend}; Docker ${facts.needsGpu ? `can run it with GPUs (${docker.gpu.detail})` : 'can run it'}` };
}

export interface ModeProbes {
  pythonFor(backend: Backend): string;
  /** Whether `python` imports `backend`. */
  engineInstalled(python: string, backend: Backend): Promise<boolean>;
  docker(): Promise<DockerFacts>;
}

/** How long a probe's answer stands: installing an engine or starting Docker should not need a daemon restart. */
const CACHE_MS = 60_000;

export function createModeResolver(probes: ModeProbes): ModeResolver {
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();
  const cached = <T>(key: string, f: () => Promise<T>): Promise<T> => {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value as Promise<T>;
    const value = f();
    cache.set(key, { at: Date.now(), value });
    return value;
  };
  return {
    async resolve(d) {
      if (d.mode !== 'auto') return chooseMode(d.mode, null);
      const python = probes.pythonFor(d.backend);
      const engineInstalled = await cached(`engine:${python}:${d.backend}`, () => probes.engineInstalled(python, d.backend).catch(() => false));
      const docker = engineInstalled
        ? { reachable: false, error: 'not asked', gpu: { ok: false, detail: 'not asked' } }
        : await cached('docker', () => probes.docker());
      return chooseMode('auto', { backend: d.backend, python, engineInstalled, docker, needsGpu: gpusPerReplica(d) > 0 });
    },
  };
}
