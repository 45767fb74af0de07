// How the fake engine ends: signals, crashes, and the EngineCore-like child.
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { recordGpuUse } from './gpu-apps.js';
import type { Knobs } from './knobs.js';
import { emit, replay, sleep, uvicornLine, vllmLine } from './log-lines.js';
import type { EngineName } from './shared.js';
import { logLines } from './shared.js';
import type { FakeState } from './state.js';

/** Never resolves, and keeps the process alive: a hung load, or a replay that "still runs". */
export const forever = () => new Promise<never>(() => setInterval(() => undefined, 1 << 30));

/** SIGKILL of our own process, as SGLang's kill_process_tree ends with (a parent sees signal 9). */
export function killSelf(): never {
  process.kill(process.pid, 'SIGKILL');
  // The signal is delivered before kill() returns; this only satisfies the type checker.
  throw new Error('unreachable');
}

/**
 * SIGTERM/SIGINT: uvicorn's graceful shutdown once the HTTP server runs (stop accepting, wait
 * for requests in flight, lifespan shutdown, "Finished server process"), exit 0; a second
 * signal forces the exit, as uvicorn does. Before the server runs there is nothing to drain.
 * FAKE_IGNORE_SIGTERM / FAKE_IGNORE_SIGHUP turn the signal into a no-op; without the latter,
 * SIGHUP keeps Node's default (terminate), like Python's.
 */
export function installSignals(engine: EngineName, knobs: Knobs, state: FakeState, server: () => Server | null): void {
  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(0); // second signal: uvicorn's force exit
    stopping = true;
    const srv = server();
    if (!srv) process.exit(0);
    const log = (m: string) => emit(engine, uvicornLine(engine, 'INFO', m));
    log('Shutting down');
    srv.close();
    srv.closeIdleConnections();
    if (state.inFlight > 0) log('Waiting for connections to close. (CTRL+C to force quit)');
    while (state.inFlight > 0) await sleep(20);
    log('Waiting for application shutdown.');
    log('Application shutdown complete.');
    log(`Finished server process [${process.pid}]`);
    process.exit(0);
  };
  process.on('SIGTERM', () => (knobs.ignoreSigterm ? undefined : void stop()));
  process.on('SIGINT', () => void stop());
  if (knobs.ignoreSighup) process.on('SIGHUP', () => undefined);
}

/** FAKE_CRASH_AFTER: the engine dies while serving. */
export async function crash(engine: EngineName): Promise<never> {
  if (engine === 'sglang') {
    // The fixture's scheduler exception and the main process's sigquit reaction, then SIGKILL.
    const lines = logLines('sglang-0.4.6-crash-after-ready');
    const from = lines.findIndex((l) => l.includes('Scheduler hit an exception'));
    const to = lines.findIndex((l) => l.includes('Received sigquit from a child process'));
    await replay('sglang', lines.slice(from, to + 1), 0);
    killSelf();
  }
  // No fixture captures a 0.9.0.1 crash after ready. The lines follow the shape of the
  // start-failure fixture (vllm-0.9.0.1-kv-cache-no-memory.log): EngineCore's logger.exception
  // block on stdout, every line prefixed (core.py 502 is the "fatal error" branch beside 500),
  // then the dying process's own traceback on stderr. Frames below run_engine_core and the API
  // server's EngineDeadError lines are left out; classify by the exit code, not the text.
  const cause = 'RuntimeError: CUDA error: an illegal memory access was encountered';
  const site = '/home/user/.venv/lib/python3.12/site-packages/vllm/v1/engine/core.py';
  for (const m of ['EngineCore encountered a fatal error.', 'Traceback (most recent call last):', `  File "${site}", line 492, in run_engine_core`, '    engine_core.run_busy_loop()', cause]) {
    emit('vllm', vllmLine('ERROR', 'core.py:502', m));
  }
  for (const l of [
    'Process EngineCore_0:',
    'Traceback (most recent call last):',
    '  File "/usr/lib/python3.12/multiprocessing/process.py", line 314, in _bootstrap',
    '    self.run()',
    '  File "/usr/lib/python3.12/multiprocessing/process.py", line 108, in run',
    '    self._target(*self._args, **self._kwargs)',
    `  File "${site}", line 504, in run_engine_core`,
    '    raise e',
    `  File "${site}", line 492, in run_engine_core`,
    '    engine_core.run_busy_loop()',
    cause,
  ]) emit('vllm', l, 'stderr');
  process.exit(1);
}

/** The child keeps running for at most this long, so a supervisor bug cannot leak it forever. */
const CHILD_TTL_MS = 10 * 60_000;

/**
 * FAKE_SPAWN_CHILD: a long-lived child in our process group, like vLLM's EngineCore. It
 * ignores SIGHUP (the pty hangup when its parent, the session leader, exits) and has no
 * stdio, so it outlives the parent: only a signal to the whole group ends it early.
 */
export function spawnChild(state: FakeState, knobs: Knobs): void {
  const script = `process.on('SIGHUP', () => {}); setTimeout(() => process.exit(0), ${CHILD_TTL_MS});`;
  const child = spawn(process.execPath, ['-e', script, 'fake-engine-core'], { stdio: 'ignore', detached: false });
  child.unref();
  state.childPid = child.pid ?? null;
  // Like vLLM's EngineCore, the child is where the model's memory lives.
  if (child.pid !== undefined) recordGpuUse(knobs, child.pid, 'VLLM::EngineCore');
  process.stdout.write(`FAKE child pid=${child.pid}\n`);
}
