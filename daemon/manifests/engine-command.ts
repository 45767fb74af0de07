// A container's command and args -> the engine it runs and the engine
// arguments Berth passes on. Recognises `python3 -m
// vllm.entrypoints.openai.api_server`, `vllm serve [MODEL]` and `python3 -m
// sglang.launch_server`, given as command + args or as one `sh -c` string.
// The arguments are checked by the engine's own argparse model
// (engines/compose.ts); the flags Berth sets itself (model, served names,
// host, port) are taken out and reported, and a bad argument fails naming the
// manifest field it came from.
import { checkArgv, type ParsedArgv } from '../engines/argparse.js';
import { resolveRecipe } from '../engines/catalogue.js';
import { engineParser } from '../engines/engine-parser.js';
import { PlanError, validateBackendArgs } from '../engines/plan.js';
import type { Backend } from '../contract/deployment.js';
import type { Path } from './paths.js';
import { splitShell } from './shell-words.js';

/** One argv word and the manifest field it was written in. */
export interface Token {
  text: string;
  path: Path;
}

export interface Note {
  path: Path;
  reason: string;
}

export type Fail = (path: Path, message: string, code?: 'invalid_manifest' | 'unsupported_manifest') => never;

export interface EngineCommand {
  backend: Backend;
  /** The words after the module (or after `vllm serve`). */
  args: Token[];
  /** `vllm serve MODEL`'s positional model. */
  positionalModel: Token | null;
  /** `NAME=value` words before the command in an `sh -c` string. */
  env: Record<string, string>;
  /** Other commands of an `sh -c` chain, which Berth does not run. */
  notes: Note[];
}

const SHELLS = /^(\/usr)?(\/bin\/)?(sh|bash|dash|ash)$/;
const PYTHON = /(^|\/)python(\d+(\.\d+)*)?$/;
const MODULES: Record<string, Backend> = {
  'vllm.entrypoints.openai.api_server': 'vllm',
  'sglang.launch_server': 'sglang',
};
export const ENGINE_MODULES = Object.fromEntries(Object.entries(MODULES).map(([m, b]) => [b, m])) as Record<Backend, string>;

const RECOGNISED = 'expected python3 -m vllm.entrypoints.openai.api_server, vllm serve or python3 -m sglang.launch_server';

/** Where an engine command starts in `words`, and which engine; null if these words run something else. */
function engineAt(words: readonly string[]): { backend: Backend; rest: number; serve: boolean } | null {
  if (words.length === 0) return null;
  const head = words[0]!;
  if (/(^|\/)vllm$/.test(head) && words[1] === 'serve') return { backend: 'vllm', rest: 2, serve: true };
  if (!PYTHON.test(head)) return null;
  let i = 1;
  // Interpreter options such as -u (unbuffered) before -m.
  while (i < words.length && words[i] !== '-m' && /^-[A-Za-z]+$/.test(words[i]!)) i++;
  const module = words[i] === '-m' ? words[i + 1] : undefined;
  const backend = module ? MODULES[module] : undefined;
  return backend ? { backend, rest: i + 2, serve: false } : null;
}

export function engineCommand(opts: {
  command: string[] | undefined;
  commandPath: Path;
  args: string[] | undefined;
  argsPath: Path;
  image: string | undefined;
  /** The container's env, for `$NAME` in an `sh -c` string. */
  env: (name: string) => string | undefined;
  fail: Fail;
}): EngineCommand {
  let words: Token[] = [
    ...(opts.command ?? []).map((text, i) => ({ text, path: [...opts.commandPath, i] })),
    ...(opts.args ?? []).map((text, i) => ({ text, path: [...opts.argsPath, i] })),
  ];
  const env: Record<string, string> = {};
  const notes: Note[] = [];

  if (!opts.command?.length) {
    // No command: the image's entrypoint runs, with args appended. vLLM's
    // images (vllm/vllm-openai) start its OpenAI server; others are unknown.
    if (opts.image && /vllm/i.test(opts.image) && !engineAt(words.map((w) => w.text))) {
      return { backend: 'vllm', args: words, positionalModel: null, env, notes };
    }
    if (!words.length) opts.fail(opts.commandPath, `no command, and the image's entrypoint is not one Berth knows: ${RECOGNISED}`);
  }

  if (SHELLS.test(words[0]?.text ?? '')) {
    const c = words.findIndex((w) => /^-[a-z]*c[a-z]*$/.test(w.text));
    const script = c > 0 ? words[c + 1] : undefined;
    if (!script) opts.fail(words[0]!.path, `a shell without -c "<command>": ${RECOGNISED}`);
    const split = splitShell(script.text, opts.env);
    if (!split.ok) opts.fail(script.path, `cannot read this shell command: ${split.message}`, 'unsupported_manifest');
    let found: Token[] | null = null;
    for (const command of split.commands) {
      let cmd = command;
      if (cmd[0] === 'exec') cmd = cmd.slice(1);
      const assigns: [string, string][] = [];
      while (cmd[0] && /^[A-Za-z_][A-Za-z0-9_]*=/.test(cmd[0])) {
        const [k, ...v] = cmd[0].split('=');
        assigns.push([k!, v.join('=')]);
        cmd = cmd.slice(1);
      }
      if (!found && engineAt(cmd)) {
        found = cmd.map((text) => ({ text, path: script.path }));
        for (const [k, v] of assigns) env[k] = v;
      } else {
        notes.push({ path: script.path, reason: `"${command.join(' ')}": Berth runs only the engine command of this shell string` });
      }
    }
    if (!found) opts.fail(script.path, `no engine command in this shell string: ${RECOGNISED}`);
    for (const w of words.slice(c + 2)) notes.push({ path: w.path, reason: `"${w.text}": a parameter of the shell string ($0, $1...), which Berth does not pass on` });
    words = found;
  }

  const at = engineAt(words.map((w) => w.text));
  if (!at) opts.fail(words[0]?.path ?? opts.commandPath, `"${words.map((w) => w.text).join(' ')}" is not an engine Berth runs: ${RECOGNISED}`);
  let rest = words.slice(at.rest);
  let positionalModel: Token | null = null;
  if (at.serve && rest[0] && !rest[0].text.startsWith('-')) {
    positionalModel = rest[0];
    rest = rest.slice(1);
  }
  return { backend: at.backend, args: rest, positionalModel, env, notes };
}

export interface EngineFlags {
  /** What the engine gets from Berth's backendArgs, in order. */
  backendArgs: Token[];
  model: Token | null;
  servedNames: { names: string[]; path: Path } | null;
  /** The port the engine listened on inside the container. */
  port: number | null;
  /** The flags taken out, each with why. */
  notes: Note[];
}

/**
 * Takes out the flags Berth sets itself and checks the rest with the engine's
 * parser at `version` (the nearest recipe for an unknown version).
 */
export function engineFlags(backend: Backend, version: string, args: readonly Token[], fail: Fail): EngineFlags {
  const resolved = resolveRecipe(backend, version);
  const { recipe, spec } = resolved;
  const at = { entrypoint: recipe.entrypoint, version: resolved.recipeVersion };
  const texts = args.map((a) => a.text);
  let check = checkArgv(spec, texts, at);
  // The model flag is required by SGLang's parser; the manifest may give the
  // model elsewhere (KServe's storage). Check with a stand-in then.
  if (!check.ok && check.error.code === 'required') check = checkArgv(spec, [...texts, recipe.model.flag, 'model'], at);
  if (!check.ok) {
    const e = check.error;
    const token = args[e.index];
    fail(token?.path ?? args[0]?.path ?? [], `${backend} ${resolved.recipeVersion} would refuse ${token ? `"${token.text}"` : 'these arguments'}: ${e.message}`);
  }
  const parsed: ParsedArgv = check;
  const parser = engineParser(spec, recipe.entrypoint, resolved.recipeVersion);
  const canonical = (optionString: string) => parser.optionStrings.get(optionString)?.flag ?? optionString;
  const modelFlag = canonical(recipe.model.flag);
  const namesFlag = canonical(recipe.servedNames.flag);
  const hostFlag = canonical(recipe.hostFlag);
  const portFlag = canonical(recipe.portFlag);

  const dropped = new Set<number>();
  const notes: Note[] = [];
  let model: Token | null = null;
  let servedNames: EngineFlags['servedNames'] = null;
  let port: number | null = null;
  for (const u of parsed.uses) {
    if (u.index >= args.length) continue; // the stand-in model
    const path = args[u.index]!.path;
    const shown = `${u.optionString} ${u.values.join(' ')}`.trim();
    if (u.flag === modelFlag) {
      model = { text: u.values[0] ?? '', path };
      notes.push({ path, reason: `${shown}: the model, which Berth passes to the engine itself` });
    } else if (u.flag === namesFlag) {
      servedNames = { names: [...u.values], path };
      notes.push({ path, reason: `${shown}: the served names, which Berth passes to the engine itself` });
    } else if (u.flag === hostFlag) {
      notes.push({ path, reason: `${shown}: engines listen on loopback only on this machine; the gateway at /v1 is the one door` });
    } else if (u.flag === portFlag) {
      port = typeof u.converted[0] === 'number' ? u.converted[0] : Number(u.values[0]);
      notes.push({ path, reason: `${shown}: the engine's port inside the container; Berth assigns a free port on this machine and passes it itself` });
    } else continue;
    for (const t of u.tokens) dropped.add(t);
  }
  const backendArgs = args.filter((_, i) => !dropped.has(i));
  try {
    validateBackendArgs(backend, version, backendArgs.map((a) => a.text));
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    const m = /^backendArgs\[(\d+)\]$/.exec(err.field ?? '');
    fail(m ? backendArgs[Number(m[1])]!.path : (backendArgs[0]?.path ?? []), err.message);
  }
  return { backendArgs, model, servedNames, port, notes };
}
