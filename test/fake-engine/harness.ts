// Spawning the fake engine the way the daemon does: the test/fakes/bin/python wrapper with
// the engine's argv, in its own process group, stdout and stderr captured.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

export const PYTHON = fileURLToPath(new URL('../fakes/bin/python', import.meta.url));
export const VLLM_MODULE = ['-m', 'vllm.entrypoints.openai.api_server'];
export const SGLANG_MODULE = ['-m', 'sglang.launch_server'];

import { SAFETY_MS } from '../helpers/limits.js';
/** A port nobody listens on right now: bind port 0, read it, close. */
import { freePort } from '../helpers/process.js';

export { freePort };

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Fake {
  proc: ChildProcess;
  port: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  url(path: string): string;
  /** Ends the fake's whole process group (it and any FAKE_SPAWN_CHILD child). */
  kill(signal?: NodeJS.Signals): void;
}

/** Fast defaults for tests; a test's own env wins. FAKE_* from the outer env never leak in. */
function fakeEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FAKE_') && !k.startsWith('VLLM_')));
  return { ...base, FAKE_START_DELAY_MS: '20', FAKE_WARMUP_MS: '150', ...env };
}

export function startFake(args: string[], env: Record<string, string> = {}, port = 0): Fake {
  // cwd elsewhere: the wrapper must find the repository from its own path.
  const proc = spawn(PYTHON, args, { env: fakeEnv(env), cwd: tmpdir(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<Exit>((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    port,
    stdout: () => out,
    stderr: () => err,
    exited,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    kill: (signal = 'SIGKILL') => {
      try {
        process.kill(-(proc.pid as number), signal);
      } catch {
        // the group is already gone
      }
    },
  };
}

/** Runs the wrapper to completion; a fake still running after `timeoutMs` is killed. */
export async function runFake(args: string[], env: Record<string, string> = {}, timeoutMs = SAFETY_MS) {
  const f = startFake(args, env);
  const timer = setTimeout(() => f.kill(), timeoutMs);
  const exit = await f.exited;
  clearTimeout(timer);
  return { ...exit, stdout: f.stdout(), stderr: f.stderr() };
}

export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = SAFETY_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The HTTP status of GET path, or undefined while the port refuses connections. */
export async function status(f: Fake, path: string): Promise<number | undefined> {
  try {
    const r = await fetch(f.url(path));
    await r.arrayBuffer();
    return r.status;
  } catch {
    return undefined;
  }
}

export const waitStatus = (f: Fake, path: string, want: number) =>
  waitFor(async () => ((await status(f, path)) === want ? true : undefined), `GET ${path} -> ${want}`);

export async function post(f: Fake, path: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(f.url(path), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, contentType: r.headers.get('content-type'), text: await r.text() };
}

export async function fakeState(f: Fake) {
  return (await (await fetch(f.url('/fake/state'))).json()) as {
    argv: string[];
    env: Record<string, string>;
    pid: number;
    requests: number;
    inFlight: number;
    aborted: number;
    completedTokens: number;
    childPid: number | null;
  };
}

/** Splits an SSE body into its `data:` payloads, checking the framing on the way. */
export function sseData(text: string): string[] {
  if (!text.endsWith('\n\n')) throw new Error('SSE body does not end with a blank line');
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((ev) => {
      if (!ev.startsWith('data: ') || ev.includes('\n')) throw new Error(`not a single data line: ${ev}`);
      return ev.slice('data: '.length);
    });
}

export const MODEL = 'Qwen/Qwen2.5-0.5B-Instruct';

/** vLLM as the daemon launches it: two served names, loopback, a free port. */
export async function startVllm(extra: string[] = [], env: Record<string, string> = {}): Promise<Fake> {
  const port = await freePort();
  const args = [...VLLM_MODULE, '--model', MODEL, '--served-model-name', 'qwen', 'qwen-alias', '--host', '127.0.0.1', '--port', String(port)];
  return startFake([...args, ...extra], env, port);
}

/** SGLang on its default host (127.0.0.1) and a free port. */
export async function startSglang(extra: string[] = [], env: Record<string, string> = {}): Promise<Fake> {
  const port = await freePort();
  return startFake([...SGLANG_MODULE, '--model-path', MODEL, '--port', String(port), ...extra], env, port);
}
