// The tray as a pure function of state, and its applier on a fake Tray.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DaemonStatus } from '../../main/daemon-process.js';
import type { LiveState } from '../../main/live-store.js';
import { TRAY_ICONS, TrayPresenter, iconFile, menuTemplate, trayModel, type TrayAction, type TrayInput, type TrayItem } from '../../main/tray.js';
import { REPO } from '../helpers/daemon.js';
import { deployment } from './deployments.js';
import { FakeTray, buildMenu } from './fake-electron.js';

const running: DaemonStatus = { kind: 'running', port: 7788, url: 'http://127.0.0.1:7788', version: '0.1.0', owned: true };
const DAEMON = { version: '0.1.0', apiVersion: 1, startedAt: '2025-01-01T00:00:00.000Z' };
const live = (deployments: LiveState['deployments']): LiveState => ({ link: { kind: 'live' }, daemon: DAEMON, deployments });
const input = (over: Partial<TrayInput>): TrayInput => ({ daemon: running, live: live([]), launchAtLogin: false, keepRunningOnQuit: false, ...over });

/** Every item's label, submenus as "parent > child", with [x] for disabled. */
function labels(items: TrayItem[]): string[] {
  return items.flatMap((i) => {
    switch (i.kind) {
      case 'separator':
        return ['---'];
      case 'label':
        return [`[x] ${i.label}`];
      case 'action':
        return [`${i.enabled ? '' : '[x] '}${i.label}`];
      case 'checkbox':
        return [`${i.checked ? '[v]' : '[ ]'} ${i.label}`];
      case 'submenu':
        return [i.label, ...labels(i.items).map((l) => `${i.label} > ${l}`)];
    }
  });
}

function find(items: TrayItem[], label: string): TrayItem | undefined {
  for (const i of items) {
    if ('label' in i && i.label === label) return i;
    if (i.kind === 'submenu') {
      const hit = find(i.items, label);
      if (hit) return hit;
    }
  }
  return undefined;
}

describe('trayModel', () => {
  it('idle: a running daemon with nothing deployed', () => {
    const m = trayModel(input({}));
    assert.equal(m.icon, 'idle');
    assert.equal(m.tooltip, 'Berth: idle, no deployments');
    assert.deepEqual(labels(m.items), [
      '[x] Daemon on 127.0.0.1:7788',
      '---',
      '[x] No deployments yet: open Berth to add one',
      '---',
      'Open Berth',
      'Copy endpoint URL',
      '---',
      '[ ] Launch at login',
      '---',
      'Quit Berth (stops the models)',
    ]);
  });

  it('serving: a ready deployment, with its state and a Stop item', () => {
    const m = trayModel(input({ live: live([deployment('qwen', 'ready')]) }));
    assert.equal(m.icon, 'serving');
    assert.equal(m.tooltip, 'Berth: 1 serving');
    assert.deepEqual(labels(m.items).filter((l) => l.startsWith('qwen')), ['qwen: serving', 'qwen: serving > [x] serving', 'qwen: serving > Stop qwen']);
    assert.deepEqual((find(m.items, 'Stop qwen') as { action: TrayAction }).action, { type: 'stop', name: 'qwen' });
  });

  it('starting: the daemon being looked for or spawned, or a deployment coming up', () => {
    assert.equal(trayModel(input({ daemon: { kind: 'checking', port: 7788 } })).icon, 'starting');
    const spawning = trayModel(input({ daemon: { kind: 'starting', port: 7788, pid: 42 } }));
    assert.equal(spawning.icon, 'starting');
    assert.equal(spawning.tooltip, 'Berth: starting the daemon');
    assert.equal((find(spawning.items, 'Copy endpoint URL') as { enabled: boolean }).enabled, false);
    const m = trayModel(input({ live: live([deployment('qwen', 'ready'), deployment('llama', 'starting')]) }));
    assert.equal(m.icon, 'starting');
    assert.equal(m.tooltip, 'Berth: 1 serving, 1 starting');
    assert.ok(find(m.items, 'llama: starting'));
    assert.equal(trayModel(input({ live: { link: { kind: 'connecting' }, daemon: null, deployments: [] } })).icon, 'starting');
    // Connected, before the snapshot: the deployments are unknown, not absent.
    const early = trayModel(input({ live: { link: { kind: 'live' }, daemon: null, deployments: [] } }));
    assert.equal(early.icon, 'starting');
    assert.equal(early.tooltip, 'Berth: connecting to the daemon');
    assert.equal(find(early.items, 'No deployments yet: open Berth to add one'), undefined);
  });

  it('error: a failed deployment, with its reason', () => {
    const m = trayModel(input({ live: live([deployment('qwen', 'ready'), deployment('big', 'failed', { reason: 'CUDA out of memory' })]) }));
    assert.equal(m.icon, 'error');
    assert.equal(m.tooltip, 'Berth: 1 serving, 1 failed');
    assert.ok(find(m.items, 'big: failed: CUDA out of memory'));
    assert.equal((find(m.items, 'Stop big') as { enabled: boolean }).enabled, true, 'a failed deployment can still be stopped');
  });

  it('error: another service on the port, named in the tooltip and the menu, with Retry', () => {
    const message = 'Port 7788 is used by another service, not Berth (it answered 404 to GET /api/v1/health).';
    const m = trayModel(input({ daemon: { kind: 'error', port: 7788, code: 'port_in_use', message } }));
    assert.equal(m.icon, 'error');
    assert.ok(m.tooltip.startsWith('Berth: Port 7788 is used by another service'));
    assert.ok(m.tooltip.length <= 120, 'Windows cuts tooltips at 127 characters');
    assert.ok(!m.tooltip.includes('\n'), 'one line');
    assert.ok(labels(m.items)[0]!.startsWith('[x] Port 7788 is used by another service'));
    assert.ok(find(m.items, 'Retry'));
    assert.equal(find(m.items, 'Quit Berth (stops the models)'), undefined);
    assert.ok(find(m.items, 'Quit Berth'));
  });

  it('unreachable: the stream lost is a state with Retry, and hides the stale deployments', () => {
    const m = trayModel(input({ live: { link: { kind: 'lost', reason: 'nothing listens on the port', retryInMs: 500 }, daemon: null, deployments: [deployment('qwen', 'ready')] } }));
    assert.equal(m.icon, 'unreachable');
    assert.equal(m.tooltip, 'Berth: daemon unreachable at 127.0.0.1:7788');
    assert.equal(find(m.items, 'qwen: serving'), undefined);
    assert.ok(find(m.items, 'Retry'));
    assert.ok(find(m.items, 'Open Berth'));
  });

  it('several deployments: each with its own state and the right start/stop item', () => {
    const m = trayModel(
      input({
        live: live([
          deployment('a-ready', 'ready', { replicas: ['ready', 'ready', 'starting'] }),
          deployment('b-stopped', 'stopped'),
          deployment('c-sleeping', 'stopped', { desired: 'running', sleeping: true }),
          deployment('d-stopping', 'stopping', { desired: 'stopped' }),
          deployment('e-pending', 'pending'),
        ]),
      }),
    );
    const top = labels(m.items).filter((l) => /^[a-e]-/.test(l) && !l.includes(' > '));
    assert.deepEqual(top, ['a-ready: serving, 2 replicas', 'b-stopped: stopped', 'c-sleeping: sleeping, starts on the next request', 'd-stopping: stopping', 'e-pending: starting']);
    assert.ok(find(m.items, 'Stop a-ready'));
    assert.deepEqual((find(m.items, 'Start b-stopped') as { action: TrayAction }).action, { type: 'start', name: 'b-stopped' });
    assert.ok(find(m.items, 'Stop c-sleeping'));
    assert.equal((find(m.items, 'Start d-stopping') as { enabled: boolean }).enabled, false, 'nothing to do while it stops');
    assert.equal(m.icon, 'starting');
    assert.equal(m.tooltip, 'Berth: 1 serving, 1 starting');
  });

  it('the daemon started outside the app: said in the menu, and Quit does not claim to stop models', () => {
    const m = trayModel(input({ daemon: { ...running, owned: false } as DaemonStatus, live: live([deployment('qwen', 'ready')]) }));
    assert.equal(labels(m.items)[0], '[x] Daemon on 127.0.0.1:7788 (started outside this app)');
    assert.ok(find(m.items, 'Quit Berth'));
    assert.ok(find(trayModel(input({ keepRunningOnQuit: true })).items, 'Quit Berth'));
  });

  it('Launch at login is a checkbox that toggles', () => {
    const on = find(trayModel(input({ launchAtLogin: true })).items, 'Launch at login') as { checked: boolean; action: TrayAction };
    assert.equal(on.checked, true);
    assert.deepEqual(on.action, { type: 'launch-at-login', on: false });
  });

  it('every menu action reaches dispatch', () => {
    const got: TrayAction[] = [];
    const tray = new FakeTray();
    tray.handle.setContextMenu(buildMenu(menuTemplate(trayModel(input({ live: live([deployment('qwen', 'ready')]) })).items, (a) => got.push(a))));
    for (const label of ['Stop qwen', 'Open Berth', 'Copy endpoint URL', 'Launch at login', 'Quit Berth (stops the models)']) tray.click(label);
    assert.deepEqual(got, [{ type: 'stop', name: 'qwen' }, { type: 'open' }, { type: 'copy-endpoint' }, { type: 'launch-at-login', on: true }, { type: 'quit' }]);
    assert.throws(() => tray.click('serving'), /disabled/);
  });
});

describe('TrayPresenter', () => {
  it('applies a model to the tray, and only what changed', () => {
    const tray = new FakeTray();
    const p = new TrayPresenter(tray.handle, { buildMenu, iconPath: (i) => `/icons/${i}.png`, dispatch: () => {} });
    assert.equal(p.render(trayModel(input({}))), true);
    assert.equal(tray.image, '/icons/idle.png');
    assert.equal(tray.tooltip, 'Berth: idle, no deployments');
    assert.ok(tray.labels().includes('Open Berth'));
    tray.calls.length = 0;
    assert.equal(p.render(trayModel(input({}))), false, 'an equal model is not applied again');
    assert.equal(tray.calls.length, 0);
    p.render(trayModel(input({ launchAtLogin: true })));
    assert.deepEqual(tray.calls.map((c) => c.method), ['setContextMenu'], 'only the menu changed');
    p.render(trayModel(input({ launchAtLogin: true, live: live([deployment('qwen', 'ready')]) })));
    assert.deepEqual(tray.calls.slice(1).map((c) => c.method), ['setImage', 'setToolTip', 'setContextMenu']);
    assert.equal(tray.image, '/icons/serving.png');
  });
});

describe('tray icons', () => {
  it('a PNG exists for every state, at 1x and 2x, in colour and as a macOS template', () => {
    const dir = join(REPO, 'resources/icons');
    for (const icon of TRAY_ICONS) {
      for (const platform of ['linux', 'darwin'] as const) {
        const file = iconFile(dir, icon, platform);
        assert.ok(existsSync(file), file);
        assert.ok(existsSync(file.replace(/\.png$/, '@2x.png')), file);
      }
    }
    assert.equal(iconFile('/i', 'error', 'darwin'), '/i/errorTemplate.png');
    assert.equal(iconFile('/i', 'error', 'win32'), '/i/error.png');
  });
});
