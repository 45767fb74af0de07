// Every deployment in one table: what it serves, how, its state and load, and
// its lifecycle buttons. Below ~700 px the rows stack (styles.css), each cell
// labelled by data-label.
import type { DeploymentStatus } from '../../../daemon/contract/api.js';
import type { LiveStats } from '../../../daemon/contract/live.js';
import { backendLabel, listOr, rate, seconds } from '../format.js';
import { href } from '../router.js';
import { replicaSummary, shareColour, stateLabel } from '../store/derive.js';
import { DeploymentActions } from './deployment-actions.js';

export function StateBadge({ d }: { d: DeploymentStatus }) {
  const label = stateLabel(d);
  return <span class={`state state-${d.sleeping ? 'sleeping' : d.state}`}>{label}</span>;
}

function Row({ d, stats, colour }: { d: DeploymentStatus; stats: LiveStats | undefined; colour: number }) {
  const r = replicaSummary(d);
  const inFlight = stats?.inFlight ?? d.replicas.reduce((a, x) => a + x.inFlight, 0);
  const queued = stats?.queued ?? d.queued;
  return (
    <tr data-testid="deployment-row">
      <th scope="row" data-label="Name">
        <span class="swatch" style={{ '--seg': `var(--share-${colour})` }} aria-hidden="true" />
        <a href={href.deployment(d.name)}>{d.name}</a>
        <div class="muted small mono">{d.spec.modelId}</div>
      </th>
      <td data-label="Serves">{d.spec.servedName.join(', ')}</td>
      <td data-label="Backend">
        {backendLabel(d.spec.backend)} {d.spec.backendVersion}
        {d.spec.mode === 'container' && <span class="muted"> (container)</span>}
      </td>
      <td data-label="State" class="state-cell">
        <StateBadge d={d} />
        {d.reason && <div class="reason">{d.reason}</div>}
      </td>
      <td data-label="Replicas" class="num">
        {r.ready}/{r.wanted}
      </td>
      <td data-label="GPUs">{listOr(r.gpus)}</td>
      <td data-label="Port" class="mono">
        {listOr(r.ports)}
      </td>
      <td data-label="Req/s" class="num">
        {rate(stats?.requestsPerS)}
      </td>
      <td data-label="TTFT p50" class="num">
        {seconds(stats?.ttftP50S)}
      </td>
      <td data-label="Tokens/s" class="num">
        {rate(stats?.tokensPerS)}
      </td>
      <td data-label="In flight" class="num">
        {inFlight}
      </td>
      <td data-label="Queued" class="num">
        {queued}
      </td>
      <td data-label="Actions">
        <DeploymentActions d={d} />
      </td>
    </tr>
  );
}

export function DeploymentsTable({ deployments, stats }: { deployments: DeploymentStatus[]; stats: Record<string, LiveStats> }) {
  return (
    <table class="deployments">
      <caption class="sr-only">Deployments</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Serves</th>
          <th scope="col">Backend</th>
          <th scope="col">State</th>
          <th scope="col" class="num">Replicas</th>
          <th scope="col">GPUs</th>
          <th scope="col">Port</th>
          <th scope="col" class="num">Req/s</th>
          <th scope="col" class="num">TTFT p50</th>
          <th scope="col" class="num">Tokens/s</th>
          <th scope="col" class="num">In flight</th>
          <th scope="col" class="num">Queued</th>
          <th scope="col">
            <span class="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {deployments.map((d) => (
          <Row key={d.name} d={d} stats={stats[d.name]} colour={shareColour(d.name, deployments)} />
        ))}
      </tbody>
    </table>
  );
}
