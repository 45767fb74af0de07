// The floor for a Node proxy: bytes piped between the client's socket and a
// fresh engine socket, nothing parsed, nothing pooled. It cannot route or
// meter; what Berth spends above it is the price of doing so, and what it
// spends above nginx is the price of the runtime. Its own process, like the
// daemon, so that its CPU can be read alone.
import { spawn } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export interface Relay {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Starts the relay in a child process: 127.0.0.1:`listen` → 127.0.0.1:`upstream`. */
export async function startRelay(listen: number, upstream: number): Promise<Relay> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(listen), String(upstream)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<boolean>((resolve) => {
    child.stdout.once('data', () => resolve(true));
    void exited.then(() => resolve(false));
  });
  if (!(await Promise.race([ready, sleep(20_000).then(() => false)]))) {
    child.kill('SIGKILL');
    throw new Error('the Node relay did not start');
  }
  return {
    port: listen,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function relay(listen: number, upstream: number): void {
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
  server.listen(listen, '127.0.0.1', () => process.stdout.write('listening\n'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) relay(Number(process.argv[2]), Number(process.argv[3]));
