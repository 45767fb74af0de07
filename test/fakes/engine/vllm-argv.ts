// vLLM's additions to argparse: FlexibleArgumentParser's argv rewrite and the checks of its
// LoRAParserAction. SGLang uses a plain argparse.ArgumentParser (spec argParsing).
import type { LoraAdapter } from './config.js';

/**
 * vLLM's FlexibleArgumentParser.parse_args rewrites argv before argparse sees it:
 * `--foo_bar[=v]` -> `--foo-bar[=v]` (only the key, only up to a dot), `-O3` -> `-O 3`, and
 * dotted JSON keys (`--x.a 1 --x.b 2`) merged into `--x '{"a": 1, "b": 2}'`.
 */
export function flexibleArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const key = eq < 0 ? arg : arg.slice(0, eq);
      const dot = key.indexOf('.');
      const fixed = dot < 0 ? key.replaceAll('_', '-') : key.slice(0, dot).replaceAll('_', '-') + key.slice(dot);
      out.push(eq < 0 ? fixed : fixed + arg.slice(eq));
    } else if (arg.startsWith('-O') && arg.length > 2 && arg[2] !== '.') {
      out.push('-O', arg.slice(2));
    } else {
      out.push(arg);
    }
  }
  const dicts = new Map<string, Record<string, unknown>>();
  const drop = new Set<number>();
  out.forEach((arg, i) => {
    if (!arg.startsWith('--') || !arg.includes('.')) return;
    let key = arg;
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (eq >= 0) {
      key = arg.slice(0, eq);
      value = arg.slice(eq + 1);
      if (!key.includes('.')) return; // the dot was in the value
    } else {
      value = out[i + 1];
      drop.add(i + 1);
    }
    const [base, ...path] = key.split('.') as [string, ...string[]];
    let node = dicts.get(base) ?? {};
    dicts.set(base, node);
    for (const p of path.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[path.at(-1) as string] = value;
    drop.add(i);
  });
  const kept = out.filter((_, i) => !drop.has(i));
  for (const [base, d] of dicts) kept.push(base, JSON.stringify(d));
  return kept;
}

/**
 * LoRAParserAction's own checks, which end in parser.error() (exit 2) while argparse runs.
 * Returns the error text, or null when the item is valid.
 */
export function loraModuleError(item: string): string | null {
  if (item === '' || (item.includes('=') && !item.includes(','))) return null;
  let o: unknown;
  try {
    o = JSON.parse(item);
  } catch {
    return `Invalid JSON format for --lora-modules: ${item}`;
  }
  const fields = ['name', 'path', 'base_model_name'];
  const keys = Object.keys(o as object);
  const unexpected = keys.find((k) => !fields.includes(k));
  const missing = ['name', 'path'].filter((k) => !keys.includes(k));
  const why = unexpected
    ? `got an unexpected keyword argument '${unexpected}'`
    : missing.length === 1
      ? `missing 1 required positional argument: '${missing[0]}'`
      : missing.length === 2
        ? "missing 2 required positional arguments: 'name' and 'path'"
        : null;
  return why ? `Invalid fields for --lora-modules: ${item} - LoRAModulePath.__init__() ${why}` : null;
}


/** The adapters LoRAParserAction builds: `name=path` items, or JSON objects; '' items are skipped. */
export function loraModules(items: string[]): LoraAdapter[] {
  return items.filter((item) => item !== '').map((item) => {
    if (item.includes('=') && !item.includes(',')) {
      const [name = '', path = ''] = item.split('=');
      return { name, path, base: null };
    }
    const o = JSON.parse(item) as { name: string; path: string; base_model_name?: string };
    return { name: o.name, path: o.path, base: o.base_model_name ?? null };
  });
}
