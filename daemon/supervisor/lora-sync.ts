// Which runtime LoRA adapters each vLLM engine holds, and the one place they
// are put there: a replica's engine has none when it starts (a first start, a
// crash restart, a wake from idle), so before it counts as ready it loads the
// deployment's `loras` (Replica's `beforeReady`). Until then it takes no
// request, so a request for an adapter never reaches an engine without it.
// The API's loads and unloads (loras.ts) go through here too, so this record
// stays the truth of what each engine holds.
import type { Logger } from 'pino';
import type { Lora } from '../contract/deployment.js';
import type { DeploymentRuntime } from './deployment.js';
import { loadAdapter, unloadAdapter, type EngineLoraAnswer } from './engine-lora.js';
import type { Replica } from './replica.js';

/** What one engine process holds. */
interface Held {
  /** Loaded adapters: name → path. */
  loaded: Map<string, string>;
  /** Adapters this engine refused to load: name → the engine's reason. */
  failed: Map<string, string>;
}

export type EngineRefusal = Extract<EngineLoraAnswer, { ok: false }>;

export class LoraSync {
  private readonly held = new WeakMap<Replica, Held>();

  constructor(private readonly log: Logger) {}

  /** Ready replicas of `c` that hold `name` now. */
  loadedOn(c: DeploymentRuntime, name: string): string[] {
    return c.ready().filter((r) => this.held.get(r)?.loaded.has(name)).map((r) => r.id);
  }

  /** Why a ready replica of `c` refused `name`, if one did. */
  failure(c: DeploymentRuntime, name: string): string | null {
    for (const r of c.ready()) {
      const why = this.held.get(r)?.failed.get(name);
      if (why) return why;
    }
    return null;
  }

  /**
   * Replica's `beforeReady` hook: loads the deployment's adapters into a
   * freshly started engine, again until the list stops changing (an API call
   * may change it meanwhile). Never throws: an adapter the engine refuses is
   * logged and left out, and the replica serves its model and the rest.
   */
  async prepare(c: DeploymentRuntime, r: Replica, signal: AbortSignal): Promise<void> {
    const held: Held = { loaded: new Map(), failed: new Map() };
    this.held.set(r, held);
    if (c.spec.backend !== 'vllm') return;
    for (;;) {
      if (signal.aborted) return;
      const wanted = new Map(c.spec.loras.map((l) => [l.name, l.path]));
      const extra = [...held.loaded].filter(([name, path]) => wanted.get(name) !== path).map(([name]) => name);
      const missing = c.spec.loras.filter((l) => !held.loaded.has(l.name) && !held.failed.has(l.name));
      if (extra.length === 0 && missing.length === 0) return;
      for (const name of extra) {
        await unloadAdapter(r.baseUrl, name, signal);
        held.loaded.delete(name);
      }
      for (const l of missing) {
        const answer = await loadAdapter(r.baseUrl, l, signal);
        if (answer.ok) held.loaded.set(l.name, l.path);
        else {
          held.failed.set(l.name, answer.message);
          this.log.warn({ deployment: c.name, replica: r.id, adapter: l.name, path: l.path, err: answer.message }, 'engine refused a LoRA adapter');
        }
      }
    }
  }

  /**
   * Loads `lora` into every ready replica of `c` that lacks it. On a refusal
   * it unloads it again from those that took it, so the engines agree, and
   * returns the refusal; null when all took it.
   */
  async loadAll(c: DeploymentRuntime, lora: Lora): Promise<EngineRefusal | null> {
    const targets = c.ready().filter((r) => !this.held.get(r)?.loaded.has(lora.name));
    const answers = await Promise.all(targets.map((r) => this.load(r, lora)));
    const refusal = answers.find((a): a is EngineRefusal => !a.ok) ?? null;
    if (refusal) await Promise.all(targets.filter((_, i) => answers[i]!.ok).map((r) => this.unload(r, lora.name)));
    return refusal;
  }

  /**
   * After a change is stored: loads `lora` into ready replicas that still
   * lack it (one that became ready while loadAll ran, from the list before
   * the change). A refusal is recorded and logged, as at start.
   */
  async catchUp(c: DeploymentRuntime, lora: Lora): Promise<void> {
    const late = c.ready().filter((r) => {
      const held = this.held.get(r);
      return held && !held.loaded.has(lora.name) && !held.failed.has(lora.name);
    });
    await Promise.all(
      late.map(async (r) => {
        const answer = await this.load(r, lora);
        if (answer.ok) return;
        this.held.get(r)?.failed.set(lora.name, answer.message);
        this.log.warn({ deployment: c.name, replica: r.id, adapter: lora.name, err: answer.message }, 'engine refused a LoRA adapter');
      }),
    );
  }

  /** Unloads `name` from every ready replica holding it; the first refusal, or null. */
  async unloadAll(c: DeploymentRuntime, name: string): Promise<EngineRefusal | null> {
    const targets = c.ready().filter((r) => this.held.get(r)?.loaded.has(name) || this.held.get(r)?.failed.has(name));
    const answers = await Promise.all(targets.map((r) => this.unload(r, name)));
    return answers.find((a): a is EngineRefusal => !a.ok) ?? null;
  }

  private async load(r: Replica, lora: Lora): Promise<EngineLoraAnswer> {
    const answer = await loadAdapter(r.baseUrl, lora);
    const held = this.held.get(r);
    if (answer.ok && held) {
      held.loaded.set(lora.name, lora.path);
      held.failed.delete(lora.name);
    }
    return answer;
  }

  private async unload(r: Replica, name: string): Promise<EngineLoraAnswer> {
    const held = this.held.get(r);
    held?.failed.delete(name);
    if (!held?.loaded.has(name)) return { ok: true };
    const answer = await unloadAdapter(r.baseUrl, name);
    // The engine no longer knowing the name is what an unload wants.
    if (answer.ok || answer.type === 'NotFoundError') {
      held.loaded.delete(name);
      return { ok: true };
    }
    return answer;
  }
}
