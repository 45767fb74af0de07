// The first page: every GPU and what holds it, every deployment and its load,
// live from the event stream.
import type { LiveState } from '../store/reducer.js';
import { DeploymentsTable } from './deployments-table.js';
import { DoctorPanel, NoDeployments, NoGpu } from './empty-states.js';
import { GpuCard } from './gpu-card.js';

export function Dashboard({ state }: { state: LiveState }) {
  const { gpus, usage, deployments, stats } = state;
  const containerUsed = deployments.some((d) => d.spec.mode === 'container');
  const waiting = state.connection === 'unreachable' ? 'Nothing to show until the daemon answers.' : 'Connecting to the daemon…';
  return (
    <div class="dashboard">
      <h1 class="sr-only">Dashboard</h1>
      <DoctorPanel containerUsed={containerUsed} />
      <section aria-labelledby="gpus-title">
        <h2 id="gpus-title">GPUs</h2>
        {gpus === null ? (
          <p class="muted">{state.synced ? 'Waiting for the first GPU inventory (nvidia-smi)…' : waiting}</p>
        ) : !gpus.available ? (
          <NoGpu inventory={gpus} />
        ) : (
          <div class="gpu-grid">
            {gpus.gpus.map((g) => (
              <GpuCard key={g.uuid} gpu={g} usage={usage} deployments={deployments} />
            ))}
          </div>
        )}
        {gpus && gpus.lost.length > 0 && (
          <p class="error">
            {gpus.lost.length} GPU{gpus.lost.length === 1 ? '' : 's'} fell off the bus: {gpus.lost.map((l) => l.message).join('; ')}
          </p>
        )}
      </section>
      <section aria-labelledby="deployments-title">
        <h2 id="deployments-title">Deployments</h2>
        {!state.synced ? (
          <p class="muted">{waiting}</p>
        ) : deployments.length === 0 ? (
          <NoDeployments />
        ) : (
          <DeploymentsTable deployments={deployments} stats={stats} />
        )}
      </section>
    </div>
  );
}
