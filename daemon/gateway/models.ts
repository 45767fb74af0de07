// GET /v1/models: every name a client may send, in OpenAI's list shape, with
// Berth's view of each as an extra `berth` field. Sleeping models are listed:
// asking for one wakes it.
import type { DeploymentStatus } from '../contract/api.js';
import type { RouteInfo, Supervisor } from '../supervisor/supervisor.js';
import type { AdapterCard, ModelDirectory } from './model-directory.js';

interface EngineModelCard {
  id: string;
  parent?: string | null;
  root?: string | null;
}

/** Asks each ready vLLM engine which adapters it has loaded at run time. */
export async function refreshAdapters(sup: Supervisor, directory: ModelDirectory, deployments: RouteInfo[]): Promise<void> {
  await Promise.all(
    deployments
      .filter((d) => d.spec.backend === 'vllm' && d.ready)
      .map(async (d) => {
        const replica = sup.readyReplicas(d.name)[0];
        if (!replica) return;
        try {
          const res = await fetch(`${replica.baseUrl}/v1/models`, { signal: AbortSignal.timeout(1_000) });
          if (!res.ok) return;
          const body = (await res.json()) as { data?: EngineModelCard[] };
          const adapters: AdapterCard[] = (body.data ?? [])
            .filter((m) => m.parent)
            .map((m) => ({ name: m.id, root: m.root ?? m.id }));
          directory.learn(d.name, adapters);
        } catch {
          /* a busy or dying engine: keep what we knew */
        }
      }),
  );
}

export function modelList(deployments: DeploymentStatus[], directory: ModelDirectory) {
  const data = deployments.flatMap((d) => {
    const created = Math.floor(Date.parse(d.createdAt) / 1000);
    const berth = {
      deployment: d.name,
      backend: d.spec.backend,
      state: d.sleeping ? 'sleeping' : d.state,
      desired: d.desired,
      replicas: d.replicas.filter((r) => r.state === 'ready').length,
    };
    const base = d.spec.servedName.map((id) => ({ id, object: 'model', created, owned_by: 'berth', root: d.spec.modelId, parent: null, berth }));
    const adapters = directory.adapters(d).map((a) => ({
      id: a.name,
      object: 'model',
      created,
      owned_by: 'berth',
      root: a.root,
      parent: d.spec.servedName[0]!,
      berth,
    }));
    return [...base, ...adapters];
  });
  return { object: 'list', data };
}
