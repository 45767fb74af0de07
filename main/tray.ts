// The tray is a pure function of state: trayModel() turns what main knows
// (the daemon process, the live store, two settings) into an icon, a
// one-line tooltip and menu items with their enabled flags. TrayPresenter
// only applies a model, and only when it changed. "Daemon unreachable" is a
// state the model shows, not an error path.
import { join } from 'node:path';
import type { Menu, MenuItemConstructorOptions, Tray } from 'electron';
import type { DeploymentStatus } from '../daemon/contract/api.js';
import type { DaemonStatus } from './daemon-process.js';
import type { LiveState } from './live-store.js';

export const TRAY_ICONS = ['idle', 'starting', 'serving', 'error', 'unreachable'] as const;
export type TrayIcon = (typeof TRAY_ICONS)[number];

export type TrayAction =
  | { type: 'start'; name: string }
  | { type: 'stop'; name: string }
  | { type: 'open' }
  | { type: 'copy-endpoint' }
  | { type: 'launch-at-login'; on: boolean }
  | { type: 'retry' }
  | { type: 'quit' };

export type TrayItem =
  | { kind: 'separator' }
  /** Text only (greyed out). */
  | { kind: 'label'; label: string }
  | { kind: 'action'; label: string; enabled: boolean; action: TrayAction }
  | { kind: 'checkbox'; label: string; checked: boolean; enabled: boolean; action: TrayAction }
  | { kind: 'submenu'; label: string; items: TrayItem[] };

export interface TrayModel {
  icon: TrayIcon;
  tooltip: string;
  items: TrayItem[];
}

export interface TrayInput {
  daemon: DaemonStatus;
  live: LiveState;
  launchAtLogin: boolean;
  keepRunningOnQuit: boolean;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The state word the menu shows beside a deployment's name. */
export function deploymentWord(d: DeploymentStatus): string {
  if (d.desired === 'stopped') return d.state === 'stopping' ? 'stopping' : 'stopped';
  if (d.state === 'failed') return d.reason ? `failed: ${d.reason}` : 'failed';
  if (d.state === 'ready') {
    const ready = d.replicas.filter((r) => r.state === 'ready').length;
    return ready > 1 ? `serving, ${ready} replicas` : 'serving';
  }
  if (d.sleeping) return 'sleeping, starts on the next request';
  if (d.state === 'pending' || d.state === 'pulling' || d.state === 'starting') return 'starting';
  return d.state;
}

type Activity = 'failed' | 'starting' | 'serving' | 'idle';

function activity(d: DeploymentStatus): Activity {
  if (d.desired !== 'running') return 'idle';
  if (d.state === 'failed') return 'failed';
  if (d.state === 'ready') return 'serving';
  if (!d.sleeping && (d.state === 'pending' || d.state === 'pulling' || d.state === 'starting')) return 'starting';
  return 'idle';
}

function counts(deployments: DeploymentStatus[]): Record<Activity, number> {
  const c: Record<Activity, number> = { failed: 0, starting: 0, serving: 0, idle: 0 };
  for (const d of deployments) c[activity(d)]++;
  return c;
}

/** Where the daemon is, in words: `127.0.0.1:7788`. */
const at = (port: number) => `127.0.0.1:${port}`;

function headline(input: TrayInput): { icon: TrayIcon; status: string; tooltip: string } {
  const d = input.daemon;
  switch (d.kind) {
    case 'checking':
      return { icon: 'starting', status: `Looking for the Berth daemon on ${at(d.port)}…`, tooltip: 'Berth: looking for the daemon' };
    case 'starting':
      return { icon: 'starting', status: `Starting the Berth daemon on ${at(d.port)}…`, tooltip: 'Berth: starting the daemon' };
    case 'error':
      return { icon: 'error', status: d.message, tooltip: `Berth: ${d.message}` };
    case 'stopping':
      return { icon: 'idle', status: 'Stopping the daemon and its models…', tooltip: 'Berth: stopping' };
    case 'stopped':
      return { icon: 'idle', status: 'The daemon is stopped', tooltip: 'Berth: stopped' };
    case 'running':
      break;
  }
  const link = input.live.link;
  // Connected but no snapshot yet: the deployments are not known, not absent.
  if (link.kind === 'connecting' || (link.kind === 'live' && !input.live.daemon)) return { icon: 'starting', status: `Connecting to the daemon on ${at(d.port)}…`, tooltip: 'Berth: connecting to the daemon' };
  if (link.kind === 'lost') return { icon: 'unreachable', status: `Daemon unreachable at ${at(d.port)}; retrying`, tooltip: `Berth: daemon unreachable at ${at(d.port)}` };
  if (link.kind === 'refused') return { icon: 'error', status: link.message, tooltip: `Berth: ${link.message}` };
  const c = counts(input.live.deployments);
  const where = d.owned ? `Daemon on ${at(d.port)}` : `Daemon on ${at(d.port)} (started outside this app)`;
  const parts = [c.serving && `${c.serving} serving`, c.starting && `${c.starting} starting`, c.failed && `${c.failed} failed`].filter(Boolean);
  const summary = parts.length ? parts.join(', ') : input.live.deployments.length ? 'idle, no model running' : 'idle, no deployments';
  const icon: TrayIcon = c.failed ? 'error' : c.starting ? 'starting' : c.serving ? 'serving' : 'idle';
  return { icon, status: where, tooltip: `Berth: ${summary}` };
}

function deploymentItem(d: DeploymentStatus, canAct: boolean): TrayItem {
  const running = d.desired === 'running';
  return {
    kind: 'submenu',
    label: clip(`${d.name}: ${deploymentWord(d)}`, 60),
    items: [
      { kind: 'label', label: clip(deploymentWord(d), 120) },
      running
        ? { kind: 'action', label: `Stop ${d.name}`, enabled: canAct && d.state !== 'stopping', action: { type: 'stop', name: d.name } }
        : { kind: 'action', label: `Start ${d.name}`, enabled: canAct && d.state !== 'stopping', action: { type: 'start', name: d.name } },
    ],
  };
}

export function trayModel(input: TrayInput): TrayModel {
  const { icon, status, tooltip } = headline(input);
  const running = input.daemon.kind === 'running';
  const live = running && input.live.link.kind === 'live' && input.live.daemon !== null;
  const items: TrayItem[] = [{ kind: 'label', label: clip(status, 100) }, { kind: 'separator' }];
  if (live) {
    // Only a live stream's list: a stale one would offer to start what may be gone.
    if (input.live.deployments.length === 0) items.push({ kind: 'label', label: 'No deployments yet: open Berth to add one' });
    for (const d of input.live.deployments) items.push(deploymentItem(d, true));
    items.push({ kind: 'separator' });
  }
  items.push({ kind: 'action', label: 'Open Berth', enabled: true, action: { type: 'open' } });
  items.push({ kind: 'action', label: 'Copy endpoint URL', enabled: running, action: { type: 'copy-endpoint' } });
  if (input.daemon.kind === 'error' || (running && input.live.link.kind !== 'live' && input.live.link.kind !== 'connecting')) {
    items.push({ kind: 'action', label: 'Retry', enabled: true, action: { type: 'retry' } });
  }
  items.push({ kind: 'separator' });
  items.push({ kind: 'checkbox', label: 'Launch at login', checked: input.launchAtLogin, enabled: true, action: { type: 'launch-at-login', on: !input.launchAtLogin } });
  items.push({ kind: 'separator' });
  // Say what quitting does to the models: only a daemon this app started is stopped.
  const stopsModels = running && input.daemon.kind === 'running' && input.daemon.owned && !input.keepRunningOnQuit;
  const busy = input.daemon.kind === 'stopping';
  items.push({ kind: 'action', label: stopsModels ? 'Quit Berth (stops the models)' : 'Quit Berth', enabled: !busy, action: { type: 'quit' } });
  // Windows cuts tooltips at 127 characters.
  return { icon, tooltip: clip(tooltip, 120), items };
}

/** The endpoint "Copy endpoint URL" copies: the gateway's OpenAI base URL. */
export function endpointUrl(port: number): string {
  return `http://127.0.0.1:${port}/v1`;
}

export function menuTemplate(items: TrayItem[], dispatch: (a: TrayAction) => void): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    switch (item.kind) {
      case 'separator':
        return { type: 'separator' };
      case 'label':
        return { label: item.label, enabled: false };
      case 'action':
        return { label: item.label, enabled: item.enabled, click: () => dispatch(item.action) };
      case 'checkbox':
        return { type: 'checkbox', label: item.label, checked: item.checked, enabled: item.enabled, click: () => dispatch(item.action) };
      case 'submenu':
        return { label: item.label, submenu: menuTemplate(item.items, dispatch) };
    }
  });
}

/** The icon file for a state. macOS gets the monochrome template (the menu bar tints it); Electron picks the @2x file on HiDPI. */
export function iconFile(dir: string, icon: TrayIcon, platform: NodeJS.Platform): string {
  return join(dir, platform === 'darwin' ? `${icon}Template.png` : `${icon}.png`);
}

export type TrayHandle = Pick<Tray, 'setImage' | 'setToolTip' | 'setContextMenu'>;

/** Applies models to the tray, skipping one equal to the last (stats events arrive every few seconds and change nothing here). */
export class TrayPresenter {
  private last: { icon: string; tooltip: string; items: string } | null = null;

  constructor(
    private readonly tray: TrayHandle,
    private readonly deps: { buildMenu(template: MenuItemConstructorOptions[]): Menu; iconPath(icon: TrayIcon): string; dispatch(a: TrayAction): void },
  ) {}

  /** True when something was applied. */
  render(model: TrayModel): boolean {
    const items = JSON.stringify(model.items);
    const last = this.last;
    if (last && last.icon === model.icon && last.tooltip === model.tooltip && last.items === items) return false;
    if (!last || last.icon !== model.icon) this.tray.setImage(this.deps.iconPath(model.icon));
    if (!last || last.tooltip !== model.tooltip) this.tray.setToolTip(model.tooltip);
    if (!last || last.items !== items) this.tray.setContextMenu(this.deps.buildMenu(menuTemplate(model.items, this.deps.dispatch)));
    this.last = { icon: model.icon, tooltip: model.tooltip, items };
    return true;
  }
}
