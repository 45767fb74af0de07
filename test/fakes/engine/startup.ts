// The start-up sequence of each engine, replayed from a success fixture and cut where the
// engine binds, serves and (SGLang) warms up. The differences are the ones a supervisor must
// get right (engine-logs README, "Readiness"):
// - vLLM binds its socket early (right after `non-default args`) but listens only after the
//   engine is built, prints no "Uvicorn running on" line, and /health is 200 once listening.
// - SGLang binds late, in uvicorn, prints "Uvicorn running on", answers /health at once but
//   is ready only after its warm-up ("The server is fired up and ready to roll!").
import { createServer as createNetServer } from 'node:net';
import type { Server } from 'node:http';
import type { EngineConfig } from './config.js';
import type { Runtime } from './inference.js';
import { forever, killSelf, spawnChild } from './lifecycle.js';
import { replay, sleep } from './log-lines.js';
import type { Readiness } from './server.js';
import { createEngineServer } from './server.js';
import { logLines } from './shared.js';

export interface Template {
  lines: string[];
  edit: (line: string) => string;
}

const at = (lines: string[], re: RegExp, what: string): number => {
  const i = lines.findIndex((l) => re.test(l));
  if (i < 0) throw new Error(`fake engine: start-up template has no ${what} line`);
  return i;
};

/** A start-up template has the engine's "now serving" boundary; other fixtures are only replayed. */
export function isStartupTemplate(engine: 'vllm' | 'sglang', lines: string[]): boolean {
  return lines.some((l) => (engine === 'vllm' ? /Application startup complete\./ : /Uvicorn running on/).test(l));
}

export async function startVllm(rt: Runtime, t: Template, onServer: (s: Server) => void): Promise<void> {
  const { cfg } = rt;
  const { knobs } = cfg;
  const { lines } = t;
  const bound = at(lines, /non-default args:/, 'non-default args');
  const serving = at(lines, /Starting vLLM API server on/, 'Starting vLLM API server');
  const ready = at(lines, /Application startup complete\./, 'Application startup complete');
  await replay('vllm', lines.slice(0, bound + 1), 0, t.edit);
  // create_server_socket() runs here; the socket stays bound, not listening, until the end.
  if (!(await portFree(cfg))) return vllmPortInUse(t);
  if (knobs.spawnChild) spawnChild(rt.state, knobs);
  await replay('vllm', lines.slice(bound + 1, serving), knobs.startDelayMs, t.edit);
  if (knobs.neverReady) return forever();
  const head = lines.slice(serving, ready + 1);
  if (cfg.runtimeLora) {
    // The LoRA routes are registered with the API router, before /metrics is mounted.
    const metrics = head.findIndex((l) => l.includes('Route: /metrics,'));
    const route = (p: string) => (head[metrics] as string).replace('/metrics, Methods: GET', `${p}, Methods: POST`);
    if (metrics >= 0) head.splice(metrics, 0, route('/v1/load_lora_adapter'), route('/v1/unload_lora_adapter'));
  }
  await replay('vllm', head, 0, t.edit);
  const server = createEngineServer(rt, { generateReady: true });
  if (!(await listen(server, cfg))) return vllmPortInUse(t);
  onServer(server);
}

/** vLLM's bind failure: the fixture's traceback (OSError: [Errno 98]) on stderr, exit 1. */
async function vllmPortInUse(t: Template): Promise<never> {
  const lines = logLines('vllm-0.9.0.1-port-in-use');
  await replay('vllm', lines.slice(lines.indexOf('Traceback (most recent call last):')), 0, t.edit);
  process.exit(1);
}

export async function startSglang(rt: Runtime, t: Template, onServer: (s: Server) => void): Promise<void> {
  const { cfg } = rt;
  const { knobs } = cfg;
  const { lines } = t;
  const uvicorn = at(lines, /INFO: +Started server process/, 'uvicorn Started server process');
  const running = at(lines, /Uvicorn running on/, 'Uvicorn running on');
  const readyAt = lines.findIndex((l) => l.includes('The server is fired up and ready to roll!'));
  await replay('sglang', lines.slice(0, 1), 0, t.edit);
  if (knobs.spawnChild) spawnChild(rt.state, knobs);
  await replay('sglang', lines.slice(1, uvicorn), knobs.startDelayMs, t.edit);
  if (knobs.neverReady) return forever();
  await replay('sglang', lines.slice(uvicorn, running), 0, t.edit);
  const readiness: Readiness = { generateReady: false };
  const server = createEngineServer(rt, readiness);
  if (!(await listen(server, cfg))) return sglangPortInUse(t, knobs.warmupMs);
  onServer(server);
  await replay('sglang', lines.slice(running, running + 1), 0, t.edit);
  // The warm-up thread's GET /get_model_info and POST /generate; /health is 200 meanwhile.
  const warmup = lines.slice(running + 1, readyAt < 0 ? undefined : readyAt);
  await replay('sglang', warmup, 0, t.edit);
  await sleep(knobs.warmupMs);
  readiness.generateReady = true;
  if (readyAt >= 0) await replay('sglang', lines.slice(readyAt, readyAt + 1), 0, t.edit);
}

/**
 * SGLang's late bind failing (sglang-0.4.6-port-in-use.log): uvicorn's ERROR line and lifespan
 * shutdown, then the warm-up thread polls the port's other owner for ~2 minutes before it
 * logs "Initialization failed" and SIGKILLs the tree. The fake waits FAKE_WARMUP_MS instead
 * of 120 x 1 s, then SIGKILLs itself the same way.
 */
async function sglangPortInUse(t: Template, waitMs: number): Promise<never> {
  const lines = logLines('sglang-0.4.6-port-in-use');
  const from = lines.findIndex((l) => /ERROR: +\[Errno 98\]/.test(l));
  const giveUp = lines.findIndex((l) => l.includes('Initialization failed'));
  await replay('sglang', lines.slice(from, giveUp), 0, t.edit);
  await sleep(waitMs);
  await replay('sglang', lines.slice(giveUp), 0, t.edit);
  return killSelf();
}

/** Whether the port can be bound now (vLLM's early create_server_socket). */
function portFree(cfg: EngineConfig): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port: cfg.port, host: cfg.bindHost, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

function listen(server: Server, cfg: EngineConfig): Promise<boolean> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
    server.listen({ port: cfg.port, host: cfg.bindHost, exclusive: true }, () => resolve(true));
  });
}

