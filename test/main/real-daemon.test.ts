// The desktop app's main process with the real daemon: bin/berth.mjs spawned
// exactly as the app spawns it (execPath + entry + `serve`, settings and the
// token in the environment), the fake engine and a fake 8-GPU nvidia-smi
// behind it. It needs the daemon to answer /api/v1/health with the contract's
// Health (service "berth", apiVersion) and to open its event stream with a
// snapshot, then send deployments in their deltas.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
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

/** Every file under `dir`, as text. */
function filesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [{ path: p, text: readFileSync(p, 'utf8') }];
  });
}

/** As index.ts builds it; `token` is read at each start, as index.ts reads settings.hfToken(). */
function realLaunch(port: number, home: string, token: () => string | null = () => TOKEN): () => DaemonLaunch {
  return () => ({
    port,
    execPath: process.execPath,
    entry: join(REPO, 'bin/berth.mjs'),
    env: daemonEnv(testEnv(home, 'h100x8', { BERTH_ENGINE_PORT_BASE: String(randomPortBase()), BERTH_STOP_GRACE_MS: '3000' }), { port, vllmPython: FAKE_PYTHON, sglangPython: FAKE_PYTHON }, token()),
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

  it('the tray follows the real event stream, and the token saved in settings reaches the engine by name, never in argv or a log', async () => {
    const home = tempHome();
    homes.push(home);
    const port = await freePort();
    const tray = new FakeTray();
    const keychain = new FakeSafeStorage();
    const settings = new DesktopSettings(new Conf<Record<string, unknown>>({ cwd: join(home, 'app'), configName: 'settings' }), keychain, { launchAtLogin: () => {} });
    // Saved as the window's Settings page saves it (setHfToken over the bridge).
    assert.equal(settings.setHfToken(TOKEN).ok, true);
    const daemon = new DaemonProcess(realLaunch(port, home, () => settings.hfToken()));
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
    await client.createDeployment({ body: { name: 'qwen', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', env: { FAKE_ECHO_ENV: 'HF_TOKEN,BERTH_PORT,BERTH_VLLM_PYTHON,BERTH_HOST' } } });
    await waitFor(() => tray.tooltip === 'Berth: 1 serving', `the deployment serving in the tray (tooltip: ${tray.tooltip})`);
    assert.equal(tray.image, 'serving');
    assert.ok(tray.labels().includes('qwen: serving > Stop qwen'));

    const replica = (await client.getDeployment({ params: { name: 'qwen' } })).replicas[0]!;
    const engine = (await (await fetch(`http://127.0.0.1:${replica.port}/fake/state`)).json()) as { env: Record<string, string>; argv: string[] };
    assert.equal(engine.env.HF_TOKEN, TOKEN);
    // Berth's own settings stop at the daemon; the token is in no argv.
    assert.deepEqual(Object.keys(engine.env).filter((k) => k.startsWith('BERTH_')), []);
    assert.equal(engine.argv.join(' ').includes(TOKEN), false);
    // Nor in what the daemon reports about the deployment, nor in the app's settings file.
    assert.equal(JSON.stringify(await client.getDeployment({ params: { name: 'qwen' } })).includes(TOKEN), false);
    assert.equal(JSON.stringify(settings.view()).includes(TOKEN), false);

    tray.click('Stop qwen');
    await waitFor(() => tray.labels().includes('qwen: stopped'), 'the stop in the tray');
    assert.equal(await desktop.beforeQuit(), 'stopped');
    // The daemon's log, the engine's logs and the state files: the token is in none of them.
    const files = filesUnder(home);
    assert.ok(files.some((f) => f.path.endsWith('daemon.log')) && files.some((f) => f.path.includes(join('logs', 'qwen'))), files.map((f) => f.path).join(', '));
    assert.deepEqual(files.filter((f) => f.text.includes(TOKEN)).map((f) => f.path), []);
  });
});
