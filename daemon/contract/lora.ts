// The answers of /api/v1/deployments/:name/loras: a deployment's LoRA
// adapters and, per adapter, which replicas serve it now.
import type { Backend, Lora } from './deployment.js';

export interface LoraStatus extends Lora {
  /** Ready replicas that serve the adapter now; empty while none is ready (or its load failed: see the engine log). */
  loadedOn: string[];
  /** Why a ready replica's engine refused to load it (vLLM), else null. */
  error: string | null;
}

export interface LoraList {
  deployment: string;
  backend: Backend;
  /**
   * true where adapters load into running engines (vLLM); false where they
   * are fixed at launch (SGLang 0.4.6), so every change restarts the engines.
   */
  runtime: boolean;
  /** The most adapters the engine takes (vLLM's effective --max-loras); null where there is no such limit. */
  maxLoras: number | null;
  loras: LoraStatus[];
}

/** The answer to adding or removing an adapter. */
export interface LoraChange extends LoraList {
  /** Berth restarted the deployment's engines to apply the change (SGLang takes adapters at launch only). */
  restart: boolean;
  /** What happened, in words: loaded into N replicas, or restarting, or applied at the next start. */
  message: string;
}
