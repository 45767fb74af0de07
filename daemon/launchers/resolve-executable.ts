// Finds the file execve(2) would run for argv[0], and checks that it can run.
//
// Why not let exec fail: node-pty on Linux forks first and execs in the child,
// so a missing program is not an error to the caller. The child prints
// "execvp(3) failed.: No such file or directory" on the pty and exits 1, which
// looks exactly like an engine that crashed during start-up. Checking here
// turns it into a LaunchError with a code the supervisor can act on.
//
// The check is a best effort by nature (the file can vanish between check and
// exec); that rare race still ends as the exit-1 above, never as a hang.
import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { basename, isAbsolute, resolve } from 'node:path';
import { LaunchError, type LaunchErrorCode } from './launch-error.js';

/**
 * glibc's execvp falls back to this search path when PATH is unset (confstr
 * _CS_PATH). We resolve ourselves so the lookup cannot differ from exec's.
 */
const DEFAULT_PATH = '/bin:/usr/bin';

/** Linux follows at most 4 levels of `#!` interpreters (BINPRM_MAX_RECURSION). */
const MAX_INTERPRETER_DEPTH = 4;

type ExecFailure = Extract<LaunchErrorCode, 'ENOENT' | 'EACCES' | 'ENOTDIR'>;
type Probe = 'ok' | ExecFailure;

async function probe(file: string): Promise<Probe> {
  try {
    const st = await stat(file);
    // execve on a directory fails with EACCES.
    if (!st.isFile()) return 'EACCES';
    await access(file, constants.X_OK);
    return 'ok';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return code;
    return 'EACCES';
  }
}

/** The `#!` line of `file`, split into interpreter and its optional single argument. */
async function readShebang(file: string): Promise<{ interpreter: string; arg: string | null } | null> {
  let text: string;
  try {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(256); // Linux reads at most 256 bytes of the #! line (BINPRM_BUF_SIZE)
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      text = buf.subarray(0, bytesRead).toString('latin1');
    } finally {
      await fh.close();
    }
  } catch {
    return null; // unreadable but executable: let exec decide
  }
  if (!text.startsWith('#!')) return null;
  const line = text.slice(2).split('\n')[0]!.trim();
  const m = /^(\S+)(?:\s+(.*))?$/.exec(line);
  if (!m) return null;
  return { interpreter: m[1]!, arg: m[2]?.trim() || null };
}

/** PATH lookup with execvp's rules: first executable hit wins; EACCES beats ENOENT. */
async function searchPath(name: string, pathVar: string, cwd: string): Promise<string> {
  let sawEacces = false;
  for (const dir of pathVar.split(':')) {
    // An empty PATH element means the current directory.
    const candidate = resolve(cwd, dir || '.', name);
    const result = await probe(candidate);
    if (result === 'ok') return candidate;
    if (result === 'EACCES') sawEacces = true;
  }
  throw sawEacces
    ? new LaunchError('EACCES', `${name}: found in PATH but not executable`)
    : new LaunchError('ENOENT', `${name}: not found in PATH (${pathVar || 'empty'})`);
}

function interpreterError(script: string, interpreter: string, code: ExecFailure, hint = ''): LaunchError {
  const what = code === 'EACCES' ? 'is not executable' : 'was not found';
  return new LaunchError(code, `${script}: its interpreter ${interpreter} ${what}${hint}`);
}

async function checkInterpreter(script: string, pathVar: string, cwd: string, depth: number): Promise<void> {
  const shebang = await readShebang(script);
  if (!shebang) return;
  if (depth >= MAX_INTERPRETER_DEPTH) {
    throw new LaunchError('ENOENT', `${script}: too many levels of #! interpreters`);
  }
  const interpreter = resolve(cwd, shebang.interpreter);
  const found = await probe(interpreter);
  // The common case in practice: a virtualenv that was moved or deleted leaves
  // console scripts (`vllm`, `sglang`) whose #! points at its old python.
  // execve then reports ENOENT for a script that plainly exists.
  if (found !== 'ok') throw interpreterError(script, shebang.interpreter, found, ' (a moved or deleted virtualenv?)');

  // `#!/usr/bin/env python3`: env looks python3 up in the child's PATH, so a
  // missing python3 is the same failure one level down. `#!/usr/bin/env -S ...`
  // carries options and is left to env.
  const arg = shebang.arg;
  if (basename(interpreter) === 'env' && arg && !arg.startsWith('-') && !/\s/.test(arg)) {
    if (arg.includes('/')) {
      const target = await probe(resolve(cwd, arg));
      if (target !== 'ok') throw interpreterError(script, arg, target);
    } else {
      await searchPath(arg, pathVar, cwd).catch((err: unknown) => {
        throw interpreterError(script, `${arg} (looked up in PATH by ${shebang.interpreter})`, err instanceof LaunchError && err.code === 'EACCES' ? 'EACCES' : 'ENOENT');
      });
    }
    return;
  }
  await checkInterpreter(interpreter, pathVar, cwd, depth + 1);
}

/**
 * The absolute path exec would run for `program`, after checking it and its
 * `#!` interpreter chain. `pathVar` is the CHILD's PATH (execvp searches the
 * environment it is given, not the daemon's).
 */
export async function resolveExecutable(program: string, pathVar: string | undefined, cwd: string): Promise<string> {
  if (program === '') throw new LaunchError('EINVAL', 'empty program name (argv[0])');
  const path = pathVar ?? DEFAULT_PATH;
  let file: string;
  if (program.includes('/')) {
    file = isAbsolute(program) ? program : resolve(cwd, program);
    const result = await probe(file);
    if (result !== 'ok') {
      const what = result === 'EACCES' ? 'is not executable' : 'does not exist';
      throw new LaunchError(result, `${program} ${what}`);
    }
  } else {
    file = await searchPath(program, path, cwd);
  }
  await checkInterpreter(file, path, cwd, 0);
  return file;
}

/** The working directory must exist: node-pty's child would print "chdir(2) failed." and exit 1. */
export async function checkCwd(cwd: string): Promise<void> {
  try {
    const st = await stat(cwd);
    if (!st.isDirectory()) throw new LaunchError('ENOTDIR', `working directory ${cwd} is not a directory`);
  } catch (err) {
    if (err instanceof LaunchError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new LaunchError(code === 'EACCES' ? 'EACCES' : 'ENOENT', `working directory ${cwd} is not accessible (${code ?? 'error'})`, {
      cause: err,
    });
  }
}
