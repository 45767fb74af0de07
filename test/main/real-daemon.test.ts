// The desktop app's main process with the real daemon: bin/berth.mjs spawned
// exactly as the app spawns it (execPath + entry + `serve`, settings and the
// token in the environment), the fake engine and a fake 8-GPU nvidia-smi
// behind it. It needs the daemon to answer /api/v1/health with the contract's
// Health (service "berth", apiVersion) and to open its event stream with a
// snapshot, then send deployments in their deltas.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Conf from 'conf';
import { daemonClient, probeDaemon } from '../../main/daemon-client.js';
import { DaemonProcess, daemonEnv, type DaemonLaunch } from '../../main/daemon-process.js';
import { Desktop } from '../../main/desktop.js';
import { DesktopSettings } from '../../main/settings.js';
import { FAKE_PYTHON, REPO, randomPortBase, tempHome, testEnv, waitFor } from '../helpers/daemon.js';
import { SAFETY_MS } from '../helpers/limits.js';
import { freePort } from '../helpers/process.js';
import { FakeSafeStorage, FakeTray, buildMenu } from './fake-electron.js';

const homes: string[] = [];
const stops: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const stop of stops) await stop().catch(() => {});
  for (const h of homes) rmSync(h, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});

const TOKEN = 'hf_RealDaemonTokenValue0123456';

function realLaunch(port: number, home: string): () => DaemonLaunch {
  return () => ({
    port,
    execPath: process.execPath,
    entry: join(REPO, 'bin/berth.mjs'),
    env: daemonEnv(testEnv(home, 'h100x8', { BERTH_ENGINE_PORT_BASE: String(randomPortBase()), BERTH_STOP_GRACE_MS: '3000' }), { port, vllmPython: FAKE_PYTHON, sglangPython: FAKE_PYTHON }, TOKEN),
    logFile: join(home, 'logs', 'daemon.log'),
    apiKey: null,
    startTimeoutMs: SAFETY_MS,
    stopTimeoutMs: SAFETY_MS,
  });
}

describe('the desktop app with the real daemon', () => {
  it('spawns `berth serve` and owns it; a second app attaches without owning it; quit stops only the owner\'s', async () => {
    const home = tempHome();
    homes.push(home);
    const port = await freePort();
    const owner = new DaemonProcess(realLaunch(port, home));
    stops.push(() => owner.quit(false));
    const status = await owner.start();
    assert.equal(status.kind, 'running', status.kind === 'error' ? status.message : '');
    assert.equal(status.kind === 'running' && status.owned, true);

    const second = new DaemonProcess(realLaunch(port, home));
    const attached = await second.start();
    assert.equal(attached.kind === 'running' && attached.owned, false);
    assert.equal(await second.quit(false), 'not-owned');
    assert.equal((await probeDaemon(`http://127.0.0.1:${port}`, null)).kind, 'berth');

    assert.equal(await owner.quit(false), 'stopped');
    assert.equal((await probeDaemon(`http://127.0.0.1:${port}`, null)).kind, 'absent');
  });

  it('the tray follows the real event stream, and the stored token reaches the engine by name', async () => {
    const home = tempHome();
    homes.push(home);
    const port = await freePort();
    const tray = new FakeTray();
    const settings = new DesktopSettings(new Conf<Record<string, unknown>>({ cwd: join(home, 'app'), configName: 'settings' }), new FakeSafeStorage(), { launchAtLogin: () => {} });
    const daemon = new DaemonProcess(realLaunch(port, home));
    const desktop = new Desktop({
      apiKey: null,
      settings,
      daemon,
      tray: tray.handle,
      buildMenu,
      iconPath: (icon) => icon,
      window: { open: () => {}, setTarget: () => {} },
      clipboard: { writeText: () => {} },
      notify: () => {},
      quit: () => {},
    });
    stops.push(() => desktop.beforeQuit());
    const started = await desktop.start();
    assert.equal(started.kind, 'running', started.kind === 'error' ? started.message : '');
    await waitFor(() => tray.tooltip === 'Berth: idle, no deployments', `the snapshot in the tray (tooltip: ${tray.tooltip})`);

    const client = daemonClient(`http://127.0.0.1:${port}`, null);
    await client.createDeployment({ body: { name: 'qwen', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', env: { FAKE_ECHO_ENV: 'HF_TOKEN' } } });
    await waitFor(() => tray.tooltip === 'Berth: 1 serving', `the deployment serving in the tray (tooltip: ${tray.tooltip})`);
    assert.equal(tray.image, 'serving');
    assert.ok(tray.labels().includes('qwen: serving > Stop qwen'));

    const replica = (await client.getDeployment({ params: { name: 'qwen' } })).replicas[0]!;
    const engine = (await (await fetch(`http://127.0.0.1:${replica.port}/fake/state`)).json()) as { env: Record<string, string> };
    assert.equal(engine.env.HF_TOKEN, TOKEN);

    tray.click('Stop qwen');
    await waitFor(() => tray.labels().includes('qwen: stopped'), 'the stop in the tray');
    assert.equal(await desktop.beforeQuit(), 'stopped');
  });
});
