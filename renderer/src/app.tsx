// TEMPORARY (h-deploy branch only): shows the deployment page against today's
// daemon until h-ui's shell and store land; the merge keeps h-ui's app.tsx.
import { useEffect, useState } from 'preact/hooks';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import { createClient, fetchTransport } from '../../daemon/contract/client.js';
import type { GpuShare, LiveStats, StreamEvent } from '../../daemon/contract/live.js';
import { DeploymentPage } from './deployment/page.js';

const client = createClient(fetchTransport());

function routeName(): string | null {
  const m = /^#\/deployments\/([^/]+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]!) : null;
}

export function App() {
  const [name, setName] = useState<string | null>(routeName());
  const [list, setList] = useState<DeploymentStatus[]>([]);
  const [notices, setNotices] = useState<StreamEvent[]>([]);
  const [stats, setStats] = useState<LiveStats | undefined>(undefined);
  const [shares, setShares] = useState<GpuShare[]>([]);

  useEffect(() => {
    const onHash = () => setName(routeName());
    addEventListener('hashchange', onHash);
    const load = () => client.listDeployments().then((r) => setList(r.deployments), () => undefined);
    void load();
    const es = new EventSource('/api/v1/events');
    const onEvent = (e: MessageEvent<string>) => {
      const ev = JSON.parse(e.data) as StreamEvent;
      if (ev.type === 'stats') setStats(ev.stats[0]);
      else if (ev.type === 'gpus') setShares(ev.usage.shares);
      else {
        if (ev.type === 'replica.state' || ev.type.startsWith('deployment.')) setNotices((n) => [...n, ev].slice(-200));
        void load();
      }
    };
    for (const t of ['replica.state', 'deployment.created', 'deployment.updated', 'deployment.deleted', 'deployment.wake', 'deployment.sleep', 'deployment.scale', 'stats', 'gpus'])
      es.addEventListener(t, onEvent as EventListener);
    const usage = setInterval(() => client.gpuUsage().then((u) => setShares(u.shares), () => undefined), 5000);
    // ?demo: made-up samples and shares, to see the charts draw before the daemon sends stats.
    let demo: ReturnType<typeof setInterval> | undefined;
    if (location.search.includes('demo')) {
      let i = 0;
      demo = setInterval(() => {
        i++;
        const name = routeName() ?? 'qwen';
        const w = Math.sin(i / 5);
        setStats({ name, at: new Date().toISOString(), requestsPerS: 2 + w, tokensPerS: 80 + 30 * w, ttftP50S: i % 7 === 0 ? null : 0.08 + 0.02 * w, ttftP95S: i % 7 === 0 ? null : 0.2 + 0.05 * w, inFlight: 1, queued: 0, kvCacheUsage: 0.3 + 0.2 * w });
        setShares([{ gpuIndex: 0, gpuUuid: null, deployment: name, replica: `${name}-0`, allocatedMiB: 14745, usedMiB: 13020, pids: [1] }]);
      }, 300);
    }
    return () => {
      clearInterval(demo);
      es.close();
      clearInterval(usage);
      removeEventListener('hashchange', onHash);
    };
  }, []);

  const current = name ?? list[0]?.name ?? null;
  return (
    <main style={{ maxWidth: '1200px', margin: '0 auto', padding: '16px' }}>
      {current ? (
        <DeploymentPage
          name={current}
          deployment={list.find((d) => d.name === current)}
          notices={notices.filter((n) => 'name' in n && n.name === current)}
          stats={stats && stats.name === current ? stats : undefined}
          gpuShares={shares}
          client={client}
        />
      ) : (
        <p>No deployments yet.</p>
      )}
    </main>
  );
}
