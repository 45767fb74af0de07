// The `python` command line in front of the engines: `-m <module>` starts an engine,
// `-c "import vllm; print(vllm.__version__)"` is the daemon's install probe, `--version` the
// interpreter probe. Everything else fails the way CPython 3.12 fails.
import { resolve } from 'node:path';
import type { Knobs } from './knobs.js';
import type { EngineName } from './shared.js';

export type Invocation =
  | { kind: 'engine'; engine: EngineName; version: string; args: string[] }
  | { kind: 'done'; code: number; stdout: string; stderr: string };

const ENGINE_MODULES: Record<string, EngineName> = {
  'vllm.entrypoints.openai.api_server': 'vllm',
  'sglang.launch_server': 'sglang',
};
const DEFAULT_VERSION: Record<EngineName, string> = { vllm: '0.9.0.1', sglang: '0.4.6' };
const PYTHON_VERSION = '3.12.1';
/** Interpreter flags that take no value; they change nothing the fake models. */
const NO_VALUE_FLAGS = new Set(['-u', '-B', '-E', '-s', '-S', '-I', '-O', '-OO', '-q', '-b', '-bb', '-d', '-v', '-x', '-P']);
/** Stdlib modules a probe may import; any other non-engine module is "not installed". */
const STDLIB = new Set(['sys', 'os', 'json', 'platform', 'importlib']);

export function interpret(argv: string[], knobs: Knobs, argv0: string): Invocation {
  const done = (code: number, stdout = '', stderr = ''): Invocation => ({ kind: 'done', code, stdout, stderr });
  let i = 0;
  while (i < argv.length) {
    const a = argv[i] as string;
    if (NO_VALUE_FLAGS.has(a)) i += 1;
    else if (a === '-W' || a === '-X') i += 2;
    else break;
  }
  const a = argv[i];
  if (a === undefined) return done(0); // a REPL on a closed stdin prints nothing and exits 0
  if (a === '--version' || a === '-V') return done(0, `Python ${PYTHON_VERSION}\n`);
  if (a === '-m') {
    const mod = argv[i + 1];
    if (mod === undefined) return done(2, '', `Argument expected for the -m option\n${usage(argv0)}`);
    const engine = ENGINE_MODULES[mod];
    const pkg = mod.split('.')[0] as string;
    if (engine && !knobs.importFail) {
      return { kind: 'engine', engine, version: knobs.version ?? DEFAULT_VERSION[engine], args: argv.slice(i + 2) };
    }
    if (engine || pkg === 'vllm' || pkg === 'sglang') {
      // runpy imports the parent package first; a missing package fails there.
      return done(1, '', `${argv0}: Error while finding module specification for '${mod}' (ModuleNotFoundError: No module named '${pkg}')\n`);
    }
    return done(1, '', `${argv0}: No module named ${mod}\n`);
  }
  if (a === '-c') return runProbe(argv[i + 1] ?? '', knobs, done);
  if (a.startsWith('-')) return done(2, '', `unknown option ${a}\n${usage(argv0)}`);
  return done(2, '', `${argv0}: can't open file '${resolve(a)}': [Errno 2] No such file or directory\n`);
}

function usage(argv0: string): string {
  return `usage: ${argv0} [option] ... [-c cmd | -m mod | file | -] [arg] ...\nTry \`python -h' for more information.\n`;
}

/** The subset of Python a version probe uses: `import a, b` and `print(a.__version__)`. */
function runProbe(code: string, knobs: Knobs, done: (c: number, o?: string, e?: string) => Invocation): Invocation {
  const imported = new Set<string>();
  let out = '';
  const lines = code.split('\n');
  for (const [n, line] of lines.entries()) {
    for (const stmt of line.split(';').map((s) => s.trim()).filter(Boolean)) {
      const imp = /^import\s+([\w.]+(?:\s*,\s*[\w.]+)*)$/.exec(stmt);
      const pr = /^print\((\w+)\.__version__\)$/.exec(stmt);
      if (imp) {
        for (const mod of (imp[1] as string).split(',').map((s) => s.trim())) {
          const top = mod.split('.')[0] as string;
          const engine = top === 'vllm' || top === 'sglang';
          if ((engine && knobs.importFail) || (!engine && !STDLIB.has(top))) {
            return done(1, out, traceback(n + 1, `ModuleNotFoundError: No module named '${top}'`));
          }
          imported.add(top);
        }
      } else if (pr && imported.has(pr[1] as string) && (pr[1] === 'vllm' || pr[1] === 'sglang')) {
        out += `${knobs.version ?? DEFAULT_VERSION[pr[1] as EngineName]}\n`;
      } else if (pr && !imported.has(pr[1] as string)) {
        return done(1, out, traceback(n + 1, `NameError: name '${pr[1]}' is not defined`));
      } else {
        // Not Python's behaviour: the fake says plainly that it cannot run this probe.
        return done(1, out, `fake python: unsupported -c statement: ${stmt}\n`);
      }
    }
  }
  return done(0, out);
}

function traceback(line: number, exception: string): string {
  return `Traceback (most recent call last):\n  File "<string>", line ${line}, in <module>\n${exception}\n`;
}
