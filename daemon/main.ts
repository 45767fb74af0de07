// The daemon process: read settings, build the object graph, listen, and on a
// signal stop every engine before exiting (no GPU process outlives us).
import { createServer as createHttpServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Settings } from './config/settings.js';
import { EventBus } from './events/bus.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { enginePool } from './gateway/upstream.js';
import { cachedInventory } from './gpu/cache.js';
import { readGpuInventory } from './gpu/inventory.js';
import { assertSafeBind } from './http/security.js';
import { installWire } from './http/wire/server.js';
import { createRuntime } from './launchers/runtime.js';
import { createLogger } from './logs/logger.js';
import { isPortFree } from './net/port-probe.js';
import { createLiveFeed } from './api/live-feed.js';
import { createServer } from './server.js';
import { StateStore } from './state/store.js';
import { Supervisor } from './supervisor/supervisor.js';
import { BERTH_VERSION } from './version.js';

export interface RunningDaemon {
  url: string;
  server: Server;
  supervisor: Supervisor;
  events: EventBus;
  log: Logger;
  close(): Promise<void>;
}

// Engines inherit the daemon's environment (PATH, HOME, HF_TOKEN, CUDA paths)
// minus Berth's own settings, so our API key never reaches a model server.
function engineBaseEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !k.startsWith('BERTH_')) out[k] = v;
  out.TERM ??= 'xterm-256color';
  return out;
}

export async function startDaemon(settings: Settings, opts: { log?: Logger; env?: NodeJS.ProcessEnv } = {}): Promise<RunningDaemon> {
  assertSafeBind(settings);
  const log = opts.log ?? createLogger(settings.logLevel);
  const events = new EventBus();
  const store = new StateStore(settings.home);
  const inventory = cachedInventory(() => readGpuInventory({ nvidiaSmi: settings.nvidiaSmi }));
  const metrics = new GatewayMetrics({
    replicaStates: () =>
      supervisor.list().flatMap((d) => d.replicas.map((r) => ({ deployment: d.name, state: r.state, count: 1 }))),
  });
  const baseEnv = engineBaseEnv(opts.env ?? process.env);
  const { launcher, modes } = createRuntime(settings, baseEnv);
  const supervisor: Supervisor = new Supervisor({
    settings,
    store,
    launcher,
    modes,
    events,
    log,
    inventory,
    isPortFree: (port) => isPortFree('127.0.0.1', port),
    baseEnv,
    observer: {
      coldStart: (deployment, seconds) => metrics.observeColdStart(deployment, seconds),
      swap: (deployment, _evicted, seconds) => metrics.observeSwap(deployment, seconds),
    },
  });
  // Subscribed to the bus before init() restores anything, so the stream
  // misses no event; the sampler ticks from here until close.
  const live = createLiveFeed({ supervisor, events, inventory, metrics, version: BERTH_VERSION });
  live.start();
  const { reaped, warnings } = await supervisor.init().catch((err: unknown) => {
    live.close();
    throw err;
  });
  if (reaped) log.warn({ reaped }, 'reaped engines left by a previous daemon');
  for (const w of warnings) log.warn(w);

  const listener = createServer({ settings, supervisor, events, inventory, log, metrics, version: BERTH_VERSION, live });
  // Longer than any client's idle timeout (undici's is 4 s, SDKs' up to 60 s),
  // so a client never reuses a connection we are closing.
  const keepAliveTimeoutMs = 65_000;
  const server = createHttpServer({ keepAliveTimeout: keepAliveTimeoutMs, noDelay: true }, listener);
  server.headersTimeout = 70_000;
  const wire = installWire(server, { ...listener.wire, keepAliveTimeoutMs });
  await new Promise<void>((resolve, reject) => {
    server.listen(settings.port, settings.host);
    server.once('listening', () => resolve());
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(new Error(`${settings.host}:${settings.port} is already in use (is another berth daemon running? try BERTH_PORT)`));
      } else reject(err);
    });
  }).catch(async (err: unknown) => {
    live.close();
    await supervisor.shutdown();
    throw err;
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : settings.port;
  const url = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;
  log.info({ url, home: settings.home }, 'berth daemon listening');

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      live.close();
      server.close();
      server.closeAllConnections();
      wire.closeAll();
      enginePool.close();
      await supervisor.shutdown();
    })());
  return { url, server, supervisor, events, log, close };
}

/** Foreground daemon for `berth serve`: exits after engines stop on SIGINT/SIGTERM. */
export async function serveForeground(settings: Settings): Promise<number> {
  const daemon = await startDaemon(settings);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) return; // close() is under way; a repeated Ctrl-C must not cut it short
      stopping = true;
      daemon.log.info({ signal: sig }, 'stopping engines');
      void daemon.close().then(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve(0);
      });
    };
    // on(), not once(): while an nvidia-smi run is in flight, execa's
    // signal-exit also listens, and re-raises the signal to kill the process
    // when it finds itself the only listener, which it would be once a once()
    // listener had removed itself: the daemon would die with its engines
    // still running.
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
