// A deployment's LoRA adapters as the API changes them. vLLM loads them into
// its running engines (lora-sync.ts), so a change is immediate and needs no
// restart; SGLang 0.4.6 takes them only at launch (`--lora-paths`), so a
// change there is a planned restart through the lifecycle's normal path. The
// list is part of the stored deployment either way.
import { stat } from 'node:fs/promises';
import type { LoraChange, LoraList } from '../contract/lora.js';
import { loraSchema, type Deployment, type Lora } from '../contract/deployment.js';
import { normalizeDeployment } from '../config/deployment.js';
import { PlanError } from '../engines/errors.js';
import { runtimeLoraCapacity } from '../engines/lora.js';
import { badRequest, fromZod, HttpError, notFound } from '../http/errors.js';
import type { DeploymentRuntime } from './deployment.js';
import type { Lifecycle } from './lifecycle.js';
import type { DeploymentRegistry } from './registry.js';
import type { EngineRefusal, LoraSync } from './lora-sync.js';

export class LoraManager {
  constructor(
    private readonly registry: DeploymentRegistry,
    private readonly lifecycle: Lifecycle,
    private readonly sync: LoraSync,
  ) {}

  list(name: string): LoraList {
    return this.view(this.registry.runtime(name));
  }

  async add(name: string, input: unknown): Promise<LoraChange> {
    this.registry.runtime(name);
    const parsed = loraSchema.safeParse(input);
    if (!parsed.success) throw fromZod(parsed.error);
    const lora = parsed.data;
    await assertPathExists(lora.path, 'path');
    const next = (spec: Deployment) => withLoras(spec, [...spec.loras, lora], spec.loras.length);
    if (runtimeLoraCapacity(this.registry.runtime(name).spec)) {
      let loadedInto = 0;
      const { status } = await this.lifecycle.revise(
        name,
        async (spec, c) => {
          const changed = next(spec);
          const refusal = await this.sync.loadAll(c, lora);
          if (refusal) throw engineRefusal(refusal, 'load', lora, spec);
          loadedInto = c.ready().length;
          return changed;
        },
        { restart: false },
      );
      const c = this.registry.runtime(status.name);
      await this.sync.catchUp(c, lora);
      const where = loadedInto ? `loaded into ${plural(loadedInto, 'ready replica')}` : 'loads when a replica starts';
      return { ...this.view(c), restart: false, message: `adapter ${lora.name} added to ${name}: ${where}` };
    }
    const { restarted } = await this.lifecycle.revise(name, next, { restart: true });
    return this.launchOnly(name, `adapter ${lora.name} added to ${name}`, restarted);
  }

  async remove(name: string, adapter: string): Promise<LoraChange> {
    const current = this.registry.runtime(name);
    if (!current.spec.loras.some((l) => l.name === adapter)) {
      throw notFound(`deployment ${name} has no adapter ${adapter} (see GET /api/v1/deployments/${name}/loras)`, 'adapter_not_found');
    }
    const next = (spec: Deployment) => withLoras(spec, spec.loras.filter((l) => l.name !== adapter), -1);
    if (runtimeLoraCapacity(current.spec)) {
      const { status } = await this.lifecycle.revise(
        name,
        async (spec, c) => {
          const refusal = await this.sync.unloadAll(c, adapter);
          if (refusal) throw engineRefusal(refusal, 'unload', spec.loras.find((l) => l.name === adapter) ?? null, spec);
          return next(spec);
        },
        { restart: false },
      );
      return { ...this.view(this.registry.runtime(status.name)), restart: false, message: `adapter ${adapter} removed from ${name}` };
    }
    const { restarted } = await this.lifecycle.revise(name, next, { restart: true });
    return this.launchOnly(name, `adapter ${adapter} removed from ${name}`, restarted);
  }

  /** The answer for an engine that takes adapters only at launch. */
  private launchOnly(name: string, what: string, restarted: boolean): LoraChange {
    const c = this.registry.runtime(name);
    const engine = `${c.spec.backend} ${c.spec.backendVersion}`;
    const message = restarted
      ? `${what}: ${engine} takes adapters only at launch, so ${name} is restarting with the new --lora-paths`
      : `${what}: ${engine} takes adapters only at launch; it applies when ${name} next starts`;
    return { ...this.view(c), restart: restarted, message };
  }

  private view(c: DeploymentRuntime): LoraList {
    const capacity = runtimeLoraCapacity(c.spec);
    return {
      deployment: c.name,
      backend: c.spec.backend,
      runtime: capacity !== null,
      maxLoras: capacity?.maxLoras ?? null,
      loras: c.spec.loras.map((l) => ({
        ...l,
        loadedOn: capacity ? this.sync.loadedOn(c, l.name) : launchedOn(c, l),
        error: capacity ? this.sync.failure(c, l.name) : null,
      })),
    };
  }
}

/**
 * `spec` with `loras`, checked as any deployment is (loraProblem), with a
 * problem of the adapter at `index` named by its own field (`name`, `path`),
 * as the API's body has it.
 */
function withLoras(spec: Deployment, loras: Lora[], index: number): Deployment {
  try {
    return normalizeDeployment({ ...spec, loras });
  } catch (err) {
    const own = `loras[${index}].`;
    if (err instanceof PlanError && err.field.startsWith(own)) throw new PlanError(err.code, err.field.slice(own.length), err.message);
    throw err;
  }
}

/** Ready replicas launched with `lora` in their argv (SGLang's --lora-paths). */
function launchedOn(c: DeploymentRuntime, lora: Lora): string[] {
  const token = `${lora.name}=${lora.path}`;
  return c.ready().filter((r) => r.plan.argv.includes(token)).map((r) => r.id);
}

/**
 * A local adapter path must exist: the engine would refuse it anyway, but
 * only once loaded (vLLM) or by failing to start (SGLang). Hugging Face repo
 * ids are the engine's to fetch.
 */
export async function assertPathExists(path: string, field: string): Promise<void> {
  if (!path.startsWith('/')) return;
  try {
    await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw badRequest(`${field}: ${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`} on this machine`, field);
  }
}

/** An engine's refusal in Berth's envelope, naming the field to fix. */
function engineRefusal(r: EngineRefusal, op: 'load' | 'unload', lora: Lora | null, spec: Deployment): HttpError {
  const engine = `${spec.backend} ${spec.backendVersion}`;
  if (r.routeMissing) {
    const set = spec.env.VLLM_ALLOW_RUNTIME_LORA_UPDATING;
    const why = set === undefined ? 'without it' : `with it set to "${set}" by the deployment's env`;
    return new HttpError(
      409,
      'lora_runtime_disabled',
      `${engine} has no /v1/${op}_lora_adapter route: it started ${why}, and it only registers the route when VLLM_ALLOW_RUNTIME_LORA_UPDATING is true at start. Remove it from env (Berth sets it) and restart ${spec.name}`,
      'env.VLLM_ALLOW_RUNTIME_LORA_UPDATING',
    );
  }
  const said = `${engine} refused to ${op} adapter ${lora?.name ?? ''}: ${r.message}`;
  if (r.status === null) return new HttpError(502, 'engine_unreachable', said);
  if (r.status >= 500) return new HttpError(502, 'engine_error', said, op === 'load' ? 'path' : undefined);
  // InvalidUserInput: the name is already loaded (both fields are always sent).
  if (r.type === 'InvalidUserInput') return new HttpError(409, 'adapter_exists', said, 'name');
  // NotFoundError on load: no adapter at the path; any other 4xx: the adapter itself (its rank, its files).
  return new HttpError(400, r.type === 'NotFoundError' ? 'adapter_not_found' : 'adapter_refused', said, op === 'load' ? 'path' : 'name');
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
