// LoRA adapters named at launch in a deployment's backendArgs. Clients pick an
// adapter by `model` on both engines; SGLang 0.4.6 itself selects adapters by
// the body field `lora_path`, so the gateway needs to know SGLang's names.
import type { Deployment } from '../contract/deployment.js';

export interface StaticAdapter {
  name: string;
  path: string;
}

function valuesOf(args: readonly string[], flag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith(`${flag}=`)) out.push(a.slice(flag.length + 1));
    else if (a === flag) {
      // Greedy nargs: every following token that is not a flag.
      for (let j = i + 1; j < args.length && !args[j]!.startsWith('-'); j++) out.push(args[j]!);
    }
  }
  return out;
}

function parseAdapter(token: string): StaticAdapter | null {
  if (token.startsWith('{')) {
    try {
      const v = JSON.parse(token) as { name?: unknown; path?: unknown };
      return typeof v.name === 'string' && typeof v.path === 'string' ? { name: v.name, path: v.path } : null;
    } catch {
      return null;
    }
  }
  const eq = token.indexOf('=');
  // SGLang also accepts a bare path, named by itself.
  return eq === -1 ? { name: token, path: token } : { name: token.slice(0, eq), path: token.slice(eq + 1) };
}

/** vLLM `--lora-modules name=path|{json}`, SGLang `--lora-paths name=path|path`. */
export function staticAdapters(d: Pick<Deployment, 'backend' | 'backendArgs'>): StaticAdapter[] {
  const flag = d.backend === 'vllm' ? '--lora-modules' : '--lora-paths';
  return valuesOf(d.backendArgs, flag)
    .map(parseAdapter)
    .filter((a): a is StaticAdapter => a !== null);
}
