// GET /api/v1/deployments/:name/stats: the gateway's numbers for one
// deployment plus each ready engine's own gauges, for the UI.
import type { DeploymentStats } from '../contract/stats.js';
import { scrapeEngine } from '../metrics/engine-stats.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { Supervisor } from '../supervisor/supervisor.js';

export async function deploymentStats(sup: Supervisor, metrics: GatewayMetrics, name: string): Promise<DeploymentStats> {
  const d = sup.get(name);
  const ready = new Map(sup.readyReplicas(name).map((r) => [r.id, r]));
  const engines = await Promise.all(
    d.replicas.map(async (r) => {
      const live = ready.get(r.id);
      if (!live) return { replica: r.id, port: r.port, state: r.state, gauges: null, error: null };
      const scrape = await scrapeEngine(`${live.baseUrl}/metrics`, d.spec.backend);
      return { replica: r.id, port: r.port, state: r.state, gauges: scrape.gauges, error: scrape.error };
    }),
  );
  return { name, gateway: await metrics.snapshot(d.spec.servedName, name), engines, at: new Date().toISOString() };
}
