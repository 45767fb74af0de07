// The daemon as its own process, for tests that kill it the hard way.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO, waitFor } from './daemon.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface DaemonProcess {
  child: ChildProcess;
  url: string;
  output(): string;
}

export async function spawnDaemon(env: Record<string, string>, port: number): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [join(REPO, 'bin/berth.mjs'), 'serve', '--port', String(port)], {
    env: { ...env, BERTH_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`daemon exited: ${out}`);
      return (await fetch(url + '/api/v1/health')).ok;
    }, 'daemon to listen');
  } catch (err) {
    // The caller never gets the child to clean up: a daemon that was merely
    // slow would otherwise outlive the test run, engines and all.
    child.kill('SIGTERM');
    throw err;
  }
  return { child, url, output: () => out };
}
