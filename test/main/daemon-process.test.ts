// Attach or spawn against real sockets and real child processes: a daemon
// present (attach, never owned, never stopped), absent (spawn, own, stop or
// leave on quit), another service on the port, an incompatible version.
// The spawned daemon is test/fakes/daemon/fake-berth.mjs, started exactly as
// the app starts `berth serve`; real-daemon.test.ts does the same with the
// real one.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { probeDaemon } from '../../main/daemon-client.js';
import { DaemonProcess, daemonEnv, lastLogLine, type DaemonLaunch, type DaemonStatus } from '../../main/daemon-process.js';
import { REPO, waitFor } from '../helpers/daemon.js';
import { SAFETY_MS } from '../helpers/limits.js';
import { freePort } from '../helpers/process.js';

const FAKE_BERTH = join(REPO, 'test/fakes/daemon/fake-berth.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'berth-main-'));
const pids = new Set<number>();
const servers: (Server | NetServer)[] = [];

after(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const s of servers) {
    // Keep-alive sockets from fetch would hold an http server open for its 5 s timeout.
    if ('closeAllConnections' in s) s.closeAllConnections();
    s.close();
  }
  rmSync(tmp, { recursive: true, force: true });
});

const TOKEN = 'hf_ThisIsTheTokenValue123456';

function launchFor(port: number, over: Partial<DaemonLaunch> & { extraEnv?: Record<string, string> } = {}): DaemonLaunch {
  const { extraEnv, ...rest } = over;
  return {
    port,
    execPath: process.execPath,
    entry: FAKE_BERTH,
    env: daemonEnv({ PATH: process.env.PATH, ...extraEnv }, { port, vllmPython: '/home/me/venvs/vllm/bin/python', sglangPython: null }, TOKEN),
    logFile: join(tmp, `logs-${port}`, 'daemon.log'),
    apiKey: null,
    startTimeoutMs: SAFETY_MS,
    stopTimeoutMs: SAFETY_MS,
    probeIntervalMs: 50,
    ...rest,
  };
}

function track(d: DaemonProcess): DaemonStatus[] {
  const seen: DaemonStatus[] = [];
  d.onStatus((s) => {
    seen.push(s);
    if (s.kind === 'starting') pids.add(s.pid);
  });
  return seen;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function envOf(port: number): Promise<{ argv: string[]; env: Record<string, string | null>; pid: number }> {
  return (await fetch(`http://127.0.0.1:${port}/env`)).json() as never;
}

async function listen(server: Server | NetServer): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

/** A fake-berth the test starts itself: a daemon already running when the app starts. */
async function startOutside(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [FAKE_BERTH, 'serve'], { env: { PATH: process.env.PATH, BERTH_PORT: String(port) }, stdio: 'ignore' });
  pids.add(child.pid!);
  await waitFor(async () => (await probeDaemon(`http://127.0.0.1:${port}`, null)).kind === 'berth', 'the outside daemon to listen');
  return child;
}

describe('attach or spawn', () => {
  it('absent: spawns the daemon with Electron\'s Node switch, settings and the token in its environment (never argv), and owns it', async () => {
    const port = await freePort();
    const d = new DaemonProcess(() => launchFor(port));
    const seen = track(d);
    const status = await d.start();
    assert.equal(status.kind, 'running');
    assert.equal(status.kind === 'running' && status.owned, true);
    assert.equal(d.owned, true);
    assert.deepEqual(seen.map((s) => s.kind), ['checking', 'starting', 'running']);
    const got = await envOf(port);
    assert.equal(got.env.ELECTRON_RUN_AS_NODE, '1');
    assert.equal(got.env.BERTH_HOST, '127.0.0.1');
    assert.equal(got.env.BERTH_PORT, String(port));
    assert.equal(got.env.BERTH_VLLM_PYTHON, '/home/me/venvs/vllm/bin/python');
    assert.equal(got.env.BERTH_SGLANG_PYTHON, null, 'unset: the daemon keeps its own default');
    assert.equal(got.env.HF_TOKEN, TOKEN);
    assert.deepEqual(got.argv, [FAKE_BERTH, 'serve']);
    assert.ok(!got.argv.join(' ').includes(TOKEN));
    // Its output goes to the log file, not to a pipe the app would have to keep open.
    assert.match(readFileSync(launchFor(port).logFile, 'utf8'), /fake-berth listening/);

    assert.equal(await d.quit(false), 'stopped');
    assert.equal(alive(got.pid), false, 'the daemon this app spawned is stopped on quit');
    assert.equal((await probeDaemon(`http://127.0.0.1:${port}`, null)).kind, 'absent');
    assert.equal(d.status.kind, 'stopped');
  });

  it('two starts at once (Retry clicked twice) spawn one daemon', async () => {
    const port = await freePort();
    const d = new DaemonProcess(() => launchFor(port));
    const seen = track(d);
    const [a, b] = await Promise.all([d.start(), d.start()]);
    assert.equal(a, b);
    assert.equal(seen.filter((s) => s.kind === 'starting').length, 1);
    assert.equal(await d.quit(false), 'stopped');
  });

  it('absent, "keep models running after quit" on: the spawned daemon is left running', async () => {
    const port = await freePort();
    const d = new DaemonProcess(() => launchFor(port));
    track(d);
    await d.start();
    const { pid } = await envOf(port);
    assert.equal(await d.quit(true), 'left-running');
    assert.equal(alive(pid), true);
    assert.equal((await probeDaemon(`http://127.0.0.1:${port}`, null)).kind, 'berth');
    // The next app start attaches to it, and does not own it.
    const next = new DaemonProcess(() => launchFor(port));
    const status = await next.start();
    assert.equal(status.kind === 'running' && status.owned, false);
    assert.equal(await next.quit(false), 'not-owned');
    assert.equal(alive(pid), true);
    process.kill(pid, 'SIGTERM');
  });

  it('present: attaches to a Berth daemon already on the port, and never stops it', async () => {
    const port = await freePort();
    const outside = await startOutside(port);
    const d = new DaemonProcess(() => launchFor(port));
    const seen = track(d);
    const status = await d.start();
    assert.deepEqual(status, { kind: 'running', port, url: `http://127.0.0.1:${port}`, version: '0.0.0-fake', owned: false });
    assert.deepEqual(seen.map((s) => s.kind), ['checking', 'running'], 'nothing spawned');
    assert.equal(d.owned, false);
    assert.equal(existsSync(launchFor(port).logFile), false);
    assert.equal(await d.quit(false), 'not-owned');
    assert.equal(alive(outside.pid!), true, 'an attached daemon is never killed');
    assert.equal((await probeDaemon(`http://127.0.0.1:${port}`, null)).kind, 'berth');
    outside.kill('SIGTERM');
  });

  it('another service on the port: an error state naming the port, and nothing spawned', async () => {
    const other = createHttpServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<h1>Not Found</h1>');
    });
    const port = await listen(other);
    const d = new DaemonProcess(() => launchFor(port));
    const seen = track(d);
    const status = await d.start();
    assert.equal(status.kind, 'error');
    if (status.kind === 'error') {
      assert.equal(status.code, 'port_in_use');
      assert.match(status.message, new RegExp(`^Port ${port} is used by another service, not Berth \\(it answered 404 to GET /api/v1/health\\)`));
    }
    assert.ok(!seen.some((s) => s.kind === 'starting'));
    assert.equal(existsSync(launchFor(port).logFile), false);
  });

  it('another service answering 200 with something else, or not speaking HTTP, is not taken for Berth', async () => {
    const json = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok' }));
    });
    const jsonPort = await listen(json);
    const s1 = await new DaemonProcess(() => launchFor(jsonPort)).start();
    assert.equal(s1.kind === 'error' && s1.code, 'port_in_use');
    assert.match(s1.kind === 'error' ? s1.message : '', /not as Berth/);

    const raw = createNetServer((socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n'));
    const rawPort = await listen(raw);
    const s2 = await new DaemonProcess(() => launchFor(rawPort)).start();
    assert.equal(s2.kind === 'error' && s2.code, 'port_in_use');

    const mute = createNetServer(() => {});
    const mutePort = await listen(mute);
    const p = await probeDaemon(`http://127.0.0.1:${mutePort}`, null, 200);
    assert.equal(p.kind, 'silent');
    assert.match(p.kind === 'silent' ? p.detail : '', /did not answer within 200 ms/);
  });

  it('an incompatible apiVersion: an error state saying both versions', async () => {
    const port = await freePort();
    const outside = spawn(process.execPath, [FAKE_BERTH, 'serve'], { env: { PATH: process.env.PATH, BERTH_PORT: String(port), FAKE_BERTH_API_VERSION: '2' }, stdio: 'ignore' });
    pids.add(outside.pid!);
    await waitFor(async () => (await probeDaemon(`http://127.0.0.1:${port}`, null)).kind === 'incompatible', 'the v2 daemon to listen');
    const d = new DaemonProcess(() => launchFor(port));
    const status = await d.start();
    assert.equal(status.kind === 'error' && status.code, 'incompatible');
    assert.match(status.kind === 'error' ? status.message : '', /speaks API version 2; this app speaks 1/);
    assert.equal(await d.quit(false), 'not-running');
    assert.equal(alive(outside.pid!), true);
    outside.kill('SIGTERM');
  });

  it('a daemon that wants an API key: an error state saying how to give it one', async () => {
    const locked = createHttpServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'invalid_api_key', message: 'missing or wrong API key: send Authorization: Bearer <key>' } }));
    });
    const port = await listen(locked);
    const status = await new DaemonProcess(() => launchFor(port)).start();
    assert.equal(status.kind === 'error' && status.code, 'api_key');
    assert.match(status.kind === 'error' ? status.message : '', /BERTH_API_KEY/);
  });

  it('a daemon that exits while starting: an error with its last words and the log path', async () => {
    const port = await freePort();
    const d = new DaemonProcess(() => launchFor(port, { extraEnv: { FAKE_BERTH_FAIL: `127.0.0.1:${port} is already in use (is another berth daemon running? try BERTH_PORT)` } }));
    const status = await d.start();
    assert.equal(status.kind === 'error' && status.code, 'spawn_failed');
    assert.match(status.kind === 'error' ? status.message : '', new RegExp(`berth serve: 127\\.0\\.0\\.1:${port} is already in use`));
    assert.match(status.kind === 'error' ? status.message : '', /daemon log: .*daemon\.log/);
  });

  it('an executable that cannot be started: an error, not a crash', async () => {
    const port = await freePort();
    const status = await new DaemonProcess(() => launchFor(port, { execPath: join(tmp, 'no-such-electron') })).start();
    assert.equal(status.kind === 'error' && status.code, 'spawn_failed');
    assert.match(status.kind === 'error' ? status.message : '', /ENOENT/);
  });

  it('a spawned daemon that dies later turns into an error state; Retry spawns a new one', async () => {
    const port = await freePort();
    const d = new DaemonProcess(() => launchFor(port));
    track(d);
    await d.start();
    const { pid } = await envOf(port);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => d.status.kind === 'error', 'the error state');
    assert.equal(d.status.kind === 'error' && d.status.code, 'exited');
    assert.match(d.status.kind === 'error' ? d.status.message : '', /stopped unexpectedly \(SIGKILL\)/);
    const again = await d.start();
    assert.equal(again.kind === 'running' && again.owned, true);
    assert.notEqual((await envOf(port)).pid, pid);
    assert.equal(await d.quit(false), 'stopped');
  });

  it('quit: a daemon that ignores SIGTERM is killed after the bounded wait', async () => {
    const port = await freePort();
    const d = new DaemonProcess(() => launchFor(port, { extraEnv: { FAKE_BERTH_IGNORE_TERM: '1' }, stopTimeoutMs: 300 }));
    track(d);
    await d.start();
    const { pid } = await envOf(port);
    assert.equal(await d.quit(false), 'killed');
    assert.equal(alive(pid), false);
  });
});

describe('daemon launch helpers', () => {
  it('daemonEnv leaves unset Pythons and no token out, and overrides inherited BERTH_ settings', () => {
    const env = daemonEnv({ PATH: '/bin', BERTH_PORT: '1', BERTH_HOST: '0.0.0.0', HOME: '/home/me' }, { port: 7788, vllmPython: null, sglangPython: '/s/python' }, null);
    assert.deepEqual(env, { PATH: '/bin', HOME: '/home/me', BERTH_PORT: '7788', BERTH_HOST: '127.0.0.1', ELECTRON_RUN_AS_NODE: '1', BERTH_SGLANG_PYTHON: '/s/python' });
  });

  it('lastLogLine reads plain and pino JSON output', () => {
    assert.equal(lastLogLine('a\nberth serve: port taken\n\n'), 'berth serve: port taken');
    assert.equal(lastLogLine('{"level":50,"msg":"boom"}\n{"level":30}\n'), 'boom');
    assert.equal(lastLogLine('{"level":50,"msg":"x","err":{"message":"EACCES"}}'), 'EACCES');
    assert.equal(lastLogLine(''), null);
  });
});
