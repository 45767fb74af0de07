// Which deployment serves a `model` name: its served names, the adapters
// named in its launch args or its `loras`, and the adapters a vLLM engine loaded at run time
// (learned from the engine's own /v1/models).
import type { Backend } from '../contract/deployment.js';
import type { Deployment } from '../contract/deployment.js';

/** What routing needs of a deployment. */
export interface Routable {
  name: string;
  spec: Deployment;
}
import { staticAdapters } from '../engines/lora.js';

export interface ModelTarget {
  deployment: string;
  backend: Backend;
  /** The name the engine knows as its base model (SGLang takes one). */
  baseName: string;
  /** Set when `model` names a LoRA adapter. */
  adapter: string | null;
}

export interface AdapterCard {
  name: string;
  root: string;
}

export class ModelDirectory {
  /** Adapters engines reported, per deployment (vLLM runtime LoRA). */
  private learned = new Map<string, AdapterCard[]>();

  learn(deployment: string, adapters: AdapterCard[]): void {
    this.learned.set(deployment, adapters);
  }

  forget(deployment: string): void {
    this.learned.delete(deployment);
  }

  adapters(d: Routable): AdapterCard[] {
    const seen = new Map<string, AdapterCard>();
    for (const a of [...staticAdapters(d.spec), ...d.spec.loras]) seen.set(a.name, { name: a.name, root: a.path });
    for (const a of this.learned.get(d.name) ?? []) seen.set(a.name, a);
    return [...seen.values()];
  }

  resolve(model: string, deployments: readonly Routable[]): ModelTarget | null {
    for (const d of deployments) {
      if (d.spec.servedName.includes(model)) {
        return { deployment: d.name, backend: d.spec.backend, baseName: d.spec.servedName[0]!, adapter: null };
      }
    }
    for (const d of deployments) {
      if (this.adapters(d).some((a) => a.name === model)) {
        return { deployment: d.name, backend: d.spec.backend, baseName: d.spec.servedName[0]!, adapter: model };
      }
    }
    return null;
  }

  /** Every name a client may send, for the 404 that lists them. */
  names(deployments: readonly Routable[]): string[] {
    return deployments.flatMap((d) => [...d.spec.servedName, ...this.adapters(d).map((a) => a.name)]);
  }
}
