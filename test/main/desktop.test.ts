// The desktop app's behaviour end to end with a fake electron: a daemon on a
// real socket, the tray following its event stream, tray clicks reaching its
// API, the window following the daemon's status, and quit with and without
// "keep models running".
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Conf from 'conf';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import { DaemonProcess, daemonEnv, type DaemonLaunch } from '../../main/daemon-process.js';
import { Desktop, windowTarget } from '../../main/desktop.js';
import { DesktopSettings } from '../../main/settings.js';
import type { WindowTarget } from '../../main/window.js';
import { REPO, waitFor } from '../helpers/daemon.js';
import { SAFETY_MS } from '../helpers/limits.js';
import { freePort } from '../helpers/process.js';
import { deployment } from './deployments.js';
import { FakeSafeStorage, FakeTray, buildMenu } from './fake-electron.js';

const tmp = mkdtempSync(join(tmpdir(), 'berth-desktop-'));
const cleanups: (() => void)[] = [];
after(() => {
  for (const fn of cleanups.reverse()) fn();
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * A daemon the test scripts: health as the contract says, an event stream it
 * pushes to, and start/stop routes that record calls and answer like the
 * daemon (a 409 in the envelope for `busy`).
 */
async function scriptedDaemon() {
  const streams = new Set<ServerResponse>();
  const calls: string[] = [];
  let id = 0;
  const deployments = new Map<string, DeploymentStatus>([['qwen', deployment('qwen', 'ready')], ['busy', deployment('busy', 'stopped')]]);
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    if (url === '/api/v1/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', service: 'berth', version: '9.9.9', apiVersion: 1, uptimeSeconds: 1 }));
      return;
    }
    if (url === '/api/v1/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      streams.add(res);
      req.on('close', () => streams.delete(res));
      const ts = new Date().toISOString();
      res.write(`id: ${++id}\nevent: snapshot\ndata: ${JSON.stringify({ type: 'snapshot', ts, daemon: { version: '9.9.9', apiVersion: 1, startedAt: ts }, deployments: [...deployments.values()], gpus: null, usage: null, stats: [] })}\n\n`);
      return;
    }
    const m = /^\/api\/v1\/deployments\/([^/]+)\/(start|stop)$/.exec(url);
    if (m && req.method === 'POST') {
      calls.push(`${m[2]} ${m[1]}`);
      if (m[1] === 'busy') {
        res.writeHead(409, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'insufficient_gpus', message: 'busy needs 1 GPU; 0 free (GPU 0 held by qwen)' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(deployments.get(m[1]!)));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    port: (server.address() as AddressInfo).port,
    calls,
    push(d: DeploymentStatus) {
      deployments.set(d.name, d);
      for (const res of streams) res.write(`id: ${++id}\nevent: deployment.updated\ndata: ${JSON.stringify({ type: 'deployment.updated', ts: new Date().toISOString(), name: d.name, deployment: d })}\n\n`);
    },
    dropStreams() {
      for (const res of streams) res.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function makeDesktop(launch: () => DaemonLaunch, opts: { keepRunningOnQuit?: boolean } = {}) {
  const tray = new FakeTray();
  const targets: WindowTarget[] = [];
  let opened = 0;
  const copied: string[] = [];
  const notes: string[] = [];
  let quitAsked = 0;
  const settings = new DesktopSettings(new Conf<Record<string, unknown>>({ cwd: mkdtempSync(join(tmp, 'settings-')), configName: 'settings' }), new FakeSafeStorage(), { launchAtLogin: () => {} });
  if (opts.keepRunningOnQuit) settings.update({ keepRunningOnQuit: true });
  const daemon = new DaemonProcess(launch);
  const desktop = new Desktop({
    apiKey: null,
    settings,
    daemon,
    tray: tray.handle,
    buildMenu,
    iconPath: (icon) => `/icons/${icon}.png`,
    window: { open: () => void opened++, setTarget: (t) => void targets.push(t) },
    clipboard: { writeText: (text: string) => void copied.push(text) },
    notify: (title, body) => void notes.push(`${title}: ${body}`),
    quit: () => void quitAsked++,
    streamRetryMs: 20,
  });
  cleanups.push(() => void desktop.beforeQuit());
  return { desktop, tray, targets, copied, notes, settings, daemon, opened: () => opened, quitAsked: () => quitAsked };
}

const launchTo = (port: number, over: Partial<DaemonLaunch> = {}): (() => DaemonLaunch) => () => ({
  port,
  execPath: process.execPath,
  entry: join(REPO, 'test/fakes/daemon/fake-berth.mjs'),
  env: daemonEnv({ PATH: process.env.PATH }, { port, vllmPython: null, sglangPython: null }, null),
  logFile: join(tmp, `log-${port}`, 'daemon.log'),
  apiKey: null,
  startTimeoutMs: SAFETY_MS,
  stopTimeoutMs: SAFETY_MS,
  probeIntervalMs: 50,
  ...over,
});

describe('the desktop app with a fake electron', () => {
  it('attaches, then the tray follows the event stream: state changes show in its icon, tooltip and menu', async () => {
    const d = await scriptedDaemon();
    const app = makeDesktop(launchTo(d.port));
    assert.equal((await app.desktop.start()).kind, 'running');
    await waitFor(() => app.tray.tooltip === 'Berth: 1 serving', 'the snapshot in the tray');
    assert.equal(app.tray.image, '/icons/serving.png');
    assert.ok(app.tray.labels().includes('Daemon on 127.0.0.1:' + d.port + ' (started outside this app)'));
    assert.ok(app.tray.labels().includes('qwen: serving > Stop qwen'));
    assert.deepEqual(app.targets.at(-1), { kind: 'daemon', url: `http://127.0.0.1:${d.port}/` });

    d.push(deployment('qwen', 'failed', { reason: 'engine exited with code 1' }));
    await waitFor(() => app.tray.image === '/icons/error.png', 'the failure in the tray');
    assert.equal(app.tray.tooltip, 'Berth: 1 failed');
    assert.ok(app.tray.labels().includes('qwen: failed: engine exited with code 1'));

    d.push(deployment('qwen', 'starting'));
    await waitFor(() => app.tray.image === '/icons/starting.png', 'the restart in the tray');
  });

  it('tray clicks: stop and start reach the daemon, a refusal becomes a notification, the endpoint is copied', async () => {
    const d = await scriptedDaemon();
    const app = makeDesktop(launchTo(d.port));
    await app.desktop.start();
    await waitFor(() => app.tray.labels().includes('qwen: serving > Stop qwen'), 'the menu');
    app.tray.click('Stop qwen');
    app.tray.click('Start busy');
    await waitFor(() => app.notes.length === 1 && d.calls.length === 2, 'both calls answered');
    assert.deepEqual(d.calls.sort(), ['start busy', 'stop qwen']);
    assert.deepEqual(app.notes, ['Could not start busy: busy needs 1 GPU; 0 free (GPU 0 held by qwen)']);
    app.tray.click('Copy endpoint URL');
    assert.deepEqual(app.copied, [`http://127.0.0.1:${d.port}/v1`]);
    app.tray.click('Open Berth');
    assert.equal(app.opened(), 1);
    app.tray.click('Launch at login');
    assert.equal(app.settings.values().launchAtLogin, true);
    await waitFor(() => app.tray.menu!.some((i) => i.label === 'Launch at login' && i.checked === true), 'the checkbox ticked');
    app.tray.click('Quit Berth');
    assert.equal(app.quitAsked(), 1);
  });

  it('a daemon that goes away is "unreachable", with Retry; Retry starts one when nothing is left', async () => {
    const d = await scriptedDaemon();
    const app = makeDesktop(launchTo(d.port));
    await app.desktop.start();
    await waitFor(() => app.tray.tooltip === 'Berth: 1 serving', 'the snapshot');
    d.dropStreams();
    await d.close();
    await waitFor(() => app.tray.image === '/icons/unreachable.png', 'the unreachable icon');
    assert.equal(app.tray.tooltip, `Berth: daemon unreachable at 127.0.0.1:${d.port}`);
    assert.ok(!app.tray.labels().some((l) => l.startsWith('qwen')), 'no stale deployments offered');
    // Retry: nothing listens now, so the app spawns its own (fake-berth here) and follows it.
    app.tray.click('Retry');
    await waitFor(() => app.tray.tooltip === 'Berth: idle, no deployments', 'the spawned daemon in the tray');
    assert.equal(app.daemon.status.kind === 'running' && app.daemon.status.owned, true);
    assert.equal(await app.desktop.beforeQuit(), 'stopped');
  });

  it('quit stops the daemon the app spawned; with "keep models running" on, it is left running', async () => {
    const port = await freePort();
    const app = makeDesktop(launchTo(port));
    await app.desktop.start();
    await waitFor(() => app.tray.tooltip === 'Berth: idle, no deployments', 'the tray');
    assert.ok(app.tray.labels().includes('Quit Berth (stops the models)'));
    assert.equal(await app.desktop.beforeQuit(), 'stopped');
    assert.equal(await app.desktop.beforeQuit(), 'stopped', 'a second before-quit waits on the same stop');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/api/v1/health`));

    const port2 = await freePort();
    const keep = makeDesktop(launchTo(port2), { keepRunningOnQuit: true });
    await keep.desktop.start();
    await waitFor(() => keep.tray.tooltip === 'Berth: idle, no deployments', 'the tray');
    assert.ok(keep.tray.labels().includes('Quit Berth'));
    const { pid } = (await (await fetch(`http://127.0.0.1:${port2}/env`)).json()) as { pid: number };
    assert.equal(await keep.desktop.beforeQuit(), 'left-running');
    assert.equal((await fetch(`http://127.0.0.1:${port2}/api/v1/health`)).ok, true);
    process.kill(pid, 'SIGTERM');
  });

  it('the window shows why when the daemon cannot start', async () => {
    const other = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    cleanups.push(() => other.close());
    const port = (other.address() as AddressInfo).port;
    const app = makeDesktop(launchTo(port));
    await app.desktop.start();
    const last = app.targets.at(-1)!;
    assert.equal(last.kind, 'status');
    assert.match(last.kind === 'status' ? last.message : '', new RegExp(`Port ${port} is used by another service`));
    assert.equal(app.tray.image, '/icons/error.png');
    assert.deepEqual(windowTarget({ kind: 'starting', port: 7788, pid: 1 }).kind, 'status');
  });
});
