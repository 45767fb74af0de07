// vLLM's LoRA adapters: the static --lora-modules and, when VLLM_ALLOW_RUNTIME_LORA_UPDATING
// was true at start, /v1/load_lora_adapter and /v1/unload_lora_adapter (spec `lora`,
// engine-responses README "LoRA on vLLM"). Loaded names are listed by /v1/models and
// accepted as `model`. SGLang 0.4.6 has neither route nor dynamic adapters.
import { existsSync } from 'node:fs';
import { errorBody } from './bodies.js';
import type { LoraAdapter } from './config.js';
import type { Ctx } from './http.js';
import { parseJsonObject, readBody, sendBody, sendJson } from './http.js';
import { emit, vllmLine } from './log-lines.js';

export class LoraRegistry {
  readonly adapters: LoraAdapter[];

  constructor(initial: LoraAdapter[]) {
    this.adapters = [...initial];
  }

  has(name: string): boolean {
    return this.adapters.some((a) => a.name === name);
  }

  async load(ctx: Ctx): Promise<void> {
    const body = parseJsonObject(await readBody(ctx.req)) ?? {};
    const name = typeof body.lora_name === 'string' ? body.lora_name : '';
    const path = typeof body.lora_path === 'string' ? body.lora_path : '';
    if (!name || !path) {
      return sendJson(ctx, 400, errorBody("Both 'lora_name' and 'lora_path' must be provided.", 'InvalidUserInput', 400));
    }
    if (this.has(name)) {
      return sendJson(ctx, 400, errorBody(`The lora adapter '${name}' has already been loaded.`, 'InvalidUserInput', 400));
    }
    // The engine resolves local paths; an absolute path that does not exist is "No adapter found" (404).
    if (path.startsWith('/') && !existsSync(path)) {
      return sendJson(ctx, 404, errorBody(`Call to add_lora method failed: Loading lora ${name} failed: No adapter found for ${path}`, 'NotFoundError', 404));
    }
    this.adapters.push({ name, path, base: null });
    emit('vllm', vllmLine('INFO', 'serving_models.py:185', `Loaded new LoRA adapter: name '${name}', path '${path}'`));
    sendBody(ctx, 200, `Success: LoRA adapter '${name}' added successfully.`, null);
  }

  async unload(ctx: Ctx): Promise<void> {
    const body = parseJsonObject(await readBody(ctx.req)) ?? {};
    const name = typeof body.lora_name === 'string' ? body.lora_name : '';
    const i = this.adapters.findIndex((a) => a.name === name);
    if (i < 0) return sendJson(ctx, 404, errorBody(`The lora adapter '${name}' cannot be found.`, 'NotFoundError', 404));
    // At 0.9.0.1 unload only drops the name from the API server's list; the engine keeps it.
    this.adapters.splice(i, 1);
    emit('vllm', vllmLine('INFO', 'serving_models.py:202', `Removed LoRA adapter: name '${name}'`));
    sendBody(ctx, 200, `Success: LoRA adapter '${name}' removed successfully.`, null);
  }
}
