// What Docker can do for container mode: reachable, its version, and whether
// it can hand GPUs to a container. Shared by the doctor and `mode: auto`.
import type { DockerApi } from './engine-api.js';

export interface DockerFacts {
  reachable: boolean;
  /** "Docker Engine 27.3.1 (API 1.47)" or Podman's equivalent; null when unreachable. */
  version: string | null;
  /** Why it is unreachable. */
  error: string | null;
  gpu: { ok: boolean; detail: string };
}

interface VersionBody {
  Version?: string;
  ApiVersion?: string;
  Components?: { Name?: string }[];
}

interface InfoBody {
  Runtimes?: Record<string, unknown>;
  /** API 1.47+: devices Docker found, CDI ones as `nvidia.com/gpu=<n>`. */
  DiscoveredDevices?: { Source?: string; ID?: string }[];
}

/** Whether Docker can give a container GPUs, from /info. Pure. */
export function gpuSupport(info: InfoBody | null): { ok: boolean; detail: string } {
  const runtimes = Object.keys(info?.Runtimes ?? {});
  if (runtimes.includes('nvidia')) return { ok: true, detail: 'the nvidia runtime is registered' };
  const cdi = (info?.DiscoveredDevices ?? []).filter((d) => d.Source === 'cdi' && d.ID?.startsWith('nvidia.com/gpu')).map((d) => d.ID!);
  if (cdi.length) return { ok: true, detail: `CDI devices ${cdi.join(', ')}` };
  return { ok: false, detail: `no nvidia runtime (runtimes: ${runtimes.join(', ') || 'none'}) and no nvidia.com/gpu CDI device` };
}

export async function probeDocker(api: DockerApi): Promise<DockerFacts> {
  let version: VersionBody | null;
  try {
    version = await api.json<VersionBody>('GET', '/version', undefined, { timeoutMs: 5_000 });
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { reachable: false, version: null, error, gpu: { ok: false, detail: 'Docker is not reachable' } };
  }
  const engine = version?.Components?.[0]?.Name ?? 'Docker Engine';
  const info = await api.json<InfoBody>('GET', '/info', undefined, { timeoutMs: 10_000 }).catch(() => null);
  return {
    reachable: true,
    version: `${engine} ${version?.Version ?? '?'} (API ${version?.ApiVersion ?? '?'})`,
    error: null,
    gpu: gpuSupport(info),
  };
}
