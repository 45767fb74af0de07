// The baseline: Debian's nginx configured the way one would put it in front of an
// engine for streaming (proxy_buffering off, keepalive to the upstream), run in the
// foreground from a throwaway prefix so it touches nothing under /etc or /var.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { groupMembers } from '../../daemon/state/proc.js';

export const NGINX_MISSING =
  'nginx not found: install Debian\'s package (sudo apt-get update && sudo apt-get install -y nginx) or set BENCH_NGINX=/path/to/nginx';

/** The nginx binary: $BENCH_NGINX if set, else PATH, else /usr/sbin (not on PATH for non-root shells). */
export function findNginx(): { bin: string; version: string } | null {
  const candidates = process.env.BENCH_NGINX ? [process.env.BENCH_NGINX] : ['nginx', '/usr/sbin/nginx'];
  for (const bin of candidates) {
    const r = spawnSync(bin, ['-v'], { encoding: 'utf8' });
    if (r.status === 0) return { bin, version: r.stderr.trim().replace(/^nginx version: /, '') };
  }
  return null;
}

/** One proxy: nginx listens on `listen` and forwards everything to 127.0.0.1:`upstream`. */
export interface Route {
  listen: number;
  upstream: number;
}

function config(dir: string, routes: Route[]): string {
  const servers = routes.map(
    (r, i) => `
  upstream engine${i} {
    server 127.0.0.1:${r.upstream};
    keepalive 64;
    keepalive_requests 1000000;
    # Below the engine's own keep-alive (uvicorn's, and the fake's: 5 s), as
    # Berth's pool does: with nginx's default of 60 s, a burst after a pause
    # reuses connections the engine is closing, and a POST on one is a 502.
    keepalive_timeout 4s;
  }
  server {
    listen 127.0.0.1:${r.listen};
    location / {
      proxy_pass http://engine${i};
      # HTTP/1.1 with the Connection header cleared is what lets upstream keepalive work.
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }`,
  );
  return `daemon off;
master_process on;
worker_processes auto;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  # nginx's default closes a client connection after 1000 requests; the load
  # generator's connections would then be reconnecting, which is not what we measure.
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${servers.join('\n')}
}
`;
}

export interface Nginx {
  /** The master process and its workers. */
  pids(): number[];
  stop(): Promise<void>;
}

export async function startNginx(bin: string, routes: Route[]): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-nginx-'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, config(dir, routes));
  // -e: the log for messages before nginx.conf is read; the compiled-in one is under /var/log.
  const child = spawn(bin, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], {
    detached: true, // its own process group, so stop() can reach the workers too
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let running = true;
  const exited = new Promise<void>((resolve) => {
    const done = () => {
      running = false;
      resolve();
    };
    child.once('exit', done);
    child.once('error', (err) => {
      stderr += String(err);
      done();
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (running) {
        child.kill('SIGTERM'); // fast shutdown: the master stops its workers
        const hung = await Promise.race([exited.then(() => false), sleep(5000).then(() => true)]);
        if (hung) process.kill(-child.pid!, 'SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    })());

  // Ready when every route answers the engine's /health through the proxy.
  const end = Date.now() + 10_000;
  for (const r of routes) {
    for (;;) {
      if (!running || Date.now() > end) {
        let log = '';
        try {
          log = readFileSync(join(dir, 'error.log'), 'utf8').slice(-2000);
        } catch {
          /* nginx died before opening it */
        }
        await stop();
        throw new Error(`nginx did not come up on port ${r.listen}:\n${stderr}${log}`);
      }
      if (await fetch(`http://127.0.0.1:${r.listen}/health`).then((res) => res.ok, () => false)) break;
      await sleep(50);
    }
  }
  // nginx runs in a process group of its own (detached): the master and its workers.
  return { pids: () => groupMembers(child.pid!), stop };
}
