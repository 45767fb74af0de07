// The floor for a Node proxy: bytes piped between the client's socket and a
// fresh engine socket, nothing parsed, nothing pooled. It cannot route or
// meter; what Berth spends above it is the price of doing so, and what it
// spends above nginx is the price of the runtime. Its own process, like the
// daemon, so that its CPU can be read alone.
//
// BENCH_RELAY_PROCESSES=N (1) runs it as N processes sharing the port
// (node:cluster): the experiment for "would a second thread for /v1 get
// Berth past one core", asked of the cheapest possible Node proxy.
import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
import { createServer, connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { groupMembers } from '../../daemon/state/proc.js';

export interface Relay {
  port: number;
  /** The relay's processes (one, or a cluster's primary and workers). */
  pids(): number[];
  processes: number;
  stop(): Promise<void>;
}

/**
 * Starts the relay in a child process: 127.0.0.1:`listen` → 127.0.0.1:`upstream`.
 * `wrapper`: a command it runs under (valgrind), keeping its pid.
 */
export async function startRelay(listen: number, upstream: number, processes = 1, wrapper: string[] = [], startTimeoutMs = 20_000): Promise<Relay> {
  const [command, ...args] = [...wrapper, process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), String(listen), String(upstream), String(processes)];
  const child = spawn(command!, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true, // a process group of its own: the cluster's CPU is read over it
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<boolean>((resolve) => {
    child.stdout.once('data', () => resolve(true));
    void exited.then(() => resolve(false));
  });
  if (!(await Promise.race([ready, sleep(startTimeoutMs).then(() => false)]))) {
    process.kill(-child.pid!, 'SIGKILL');
    throw new Error('the Node relay did not start');
  }
  return {
    port: listen,
    pids: () => (processes === 1 ? [child.pid!] : groupMembers(child.pid!)),
    processes,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

function relay(listen: number, upstream: number, ready: () => void): void {
  const server = createServer((client: Socket) => {
    client.setNoDelay(true);
    const engine = connect({ host: '127.0.0.1', port: upstream, noDelay: true });
    client.pipe(engine);
    engine.pipe(client);
    const close = () => {
      client.destroy();
      engine.destroy();
    };
    client.on('error', close);
    engine.on('error', close);
    client.on('close', close);
    engine.on('close', close);
  });
  server.listen(listen, '127.0.0.1', ready);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [listen, upstream, processes] = process.argv.slice(2).map(Number) as [number, number, number];
  if (processes <= 1) relay(listen, upstream, () => process.stdout.write('listening\n'));
  else if (cluster.isPrimary) {
    let up = 0;
    for (let i = 0; i < processes; i++) cluster.fork().on('listening', () => ++up === processes && process.stdout.write('listening\n'));
    process.on('SIGTERM', () => process.exit(0));
  } else relay(listen, upstream, () => {});
}
