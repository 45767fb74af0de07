// One deployment: what it is, what it is doing, and the tools to watch and
// try it (logs, charts, chat). The shell passes what the store knows; this
// page fetches only what the store does not hold (the log stream, the
// charts' history) and calls the client for actions.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DeploymentStatus } from '../../../daemon/contract/api.js';
import type { Client } from '../../../daemon/contract/client.js';
import type { GpuShare, LiveStats, StreamEvent } from '../../../daemon/contract/live.js';
import { DeploymentActions } from './actions.js';
import { ChartsView } from './charts-view.js';
import { ChatPlayground } from './chat.js';
import { Facts, GpuShares, StateBadge, Timeline } from './details.js';
import { LogsView } from './logs-view.js';
import './deployment.css';

export interface DeploymentPageProps {
  name: string;
  deployment: DeploymentStatus | undefined;
  notices: StreamEvent[];
  stats: LiveStats | undefined;
  gpuShares: GpuShare[];
  client: Client;
}

const TABS = [
  { id: 'logs', label: 'Logs' },
  { id: 'metrics', label: 'Metrics' },
  { id: 'chat', label: 'Chat' },
] as const;
type TabId = (typeof TABS)[number]['id'];

export function DeploymentPage({ name, deployment, notices, stats, gpuShares, client }: DeploymentPageProps) {
  if (!deployment) {
    return (
      <section class="dp-page">
        <h2>No such deployment</h2>
        <p>
          There is no deployment named <strong>{name}</strong>: it may have been deleted. <a href="#/">Back to the dashboard</a>
        </p>
      </section>
    );
  }
  const d = deployment;
  return (
    <section class="dp-page" aria-labelledby="dp-title">
      <header class="dp-header">
        <div class="dp-title-row">
          <h2 id="dp-title">{d.name}</h2>
          <StateBadge deployment={d} />
          {d.desired === 'stopped' && d.state !== 'stopped' ? <span class="dp-muted">stopping</span> : null}
        </div>
        {d.reason ? (
          <p class={`dp-reason-line ${d.state === 'failed' ? 'dp-err-text' : 'dp-muted'}`} role={d.state === 'failed' ? 'alert' : undefined}>
            {d.reason}
          </p>
        ) : null}
        <Facts deployment={d} />
        <DeploymentActions deployment={d} client={client} />
      </header>
      <div class="dp-columns">
        <section class="dp-card" aria-labelledby="dp-timeline-title">
          <h3 id="dp-timeline-title">State timeline</h3>
          <Timeline name={d.name} notices={notices} />
        </section>
        <section class="dp-card" aria-labelledby="dp-gpu-title">
          <h3 id="dp-gpu-title">GPU memory</h3>
          <GpuShares name={d.name} shares={gpuShares} />
        </section>
      </div>
      <Tabs deployment={d} stats={stats} client={client} />
    </section>
  );
}

/**
 * Logs, Metrics, Chat. A panel is mounted the first time its tab opens and
 * then kept (hidden): the terminal keeps following, the charts keep their
 * hour, the conversation stays.
 */
function Tabs({ deployment, stats, client }: { deployment: DeploymentStatus; stats: LiveStats | undefined; client: Client }) {
  const [active, setActive] = useState<TabId>('logs');
  const [opened, setOpened] = useState<Set<TabId>>(() => new Set(['logs']));
  const tabRefs = useRef<Partial<Record<TabId, HTMLButtonElement | null>>>({});
  // Samples seen since the page opened, for charts opened later (the daemon's
  // history covers the same hour when it has the route; duplicates merge by time).
  const seen = useRef<LiveStats[]>([]);
  useEffect(() => {
    if (!stats) return;
    seen.current.push(stats);
    if (seen.current.length > 2000) seen.current = seen.current.slice(-1000);
  }, [stats]);

  const open = (id: TabId, focus = false) => {
    setActive(id);
    setOpened((s) => (s.has(id) ? s : new Set([...s, id])));
    if (focus) tabRefs.current[id]?.focus();
  };

  // The ARIA tabs pattern: arrows move between tabs, Home/End jump to the ends.
  const onKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex((t) => t.id === active);
    let next: number | null = null;
    if (e.key === 'ArrowRight') next = (i + 1) % TABS.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + TABS.length) % TABS.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = TABS.length - 1;
    if (next === null) return;
    e.preventDefault();
    open(TABS[next]!.id, true);
  };

  return (
    <div class="dp-tabs">
      <div role="tablist" aria-label="Deployment tools" class="dp-tablist" onKeyDown={onKey}>
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`dp-tab-${t.id}`}
            aria-controls={`dp-panel-${t.id}`}
            aria-selected={active === t.id}
            tabIndex={active === t.id ? 0 : -1}
            ref={(el) => {
              tabRefs.current[t.id] = el;
            }}
            onClick={() => open(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      {TABS.map((t) => (
        <div key={t.id} role="tabpanel" id={`dp-panel-${t.id}`} aria-labelledby={`dp-tab-${t.id}`} hidden={active !== t.id} class="dp-panel">
          {opened.has(t.id) ? panel(t.id, deployment, stats, seen.current, client) : null}
        </div>
      ))}
    </div>
  );
}

function panel(id: TabId, deployment: DeploymentStatus, stats: LiveStats | undefined, seen: LiveStats[], client: Client) {
  switch (id) {
    case 'logs':
      return <LogsView deployment={deployment} />;
    case 'metrics':
      return <ChartsView name={deployment.name} stats={stats} earlier={seen} client={client} />;
    case 'chat':
      return <ChatPlayground deployment={deployment} />;
  }
}
