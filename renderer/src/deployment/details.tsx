// The deployment page's read-only parts: the facts under the title, the
// state timeline, and this deployment's share of each GPU.
import type { DeploymentStatus } from '../../../daemon/contract/api.js';
import type { GpuShare, StreamEvent } from '../../../daemon/contract/live.js';
import { timelineRows } from './timeline.js';

const gib = (mib: number) => `${(mib / 1024).toFixed(1)} GiB`;

function timeOf(ts: string): string {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toLocaleTimeString();
}

export function StateBadge({ deployment: d }: { deployment: DeploymentStatus }) {
  const label = d.sleeping ? 'sleeping' : d.state;
  const tone = d.sleeping ? 'neutral' : d.state === 'ready' ? 'ok' : d.state === 'failed' ? 'err' : d.state === 'starting' || d.state === 'pulling' || d.state === 'pending' ? 'warn' : 'neutral';
  return <span class={`dp-badge dp-tone-${tone}`}>{label}</span>;
}

export function Facts({ deployment: d }: { deployment: DeploymentStatus }) {
  const gpus = [...new Set(d.replicas.flatMap((r) => r.gpus))].sort((a, b) => a - b);
  const ports = d.replicas.map((r) => r.port).filter((p): p is number => p !== null);
  const ready = d.replicas.filter((r) => r.state === 'ready').length;
  const active = d.replicas.filter((r) => r.state !== 'stopped' && r.state !== 'failed').length;
  const { scale, resource } = d.spec;
  const perReplica = resource.workers * resource.gpu.count;
  return (
    <dl class="dp-facts">
      <div>
        <dt>Served as</dt>
        <dd>{d.spec.servedName.join(', ')}</dd>
      </div>
      <div>
        <dt>Model</dt>
        <dd class="dp-mono">{d.spec.modelId}</dd>
      </div>
      <div>
        <dt>Backend</dt>
        <dd>
          {d.spec.backend} {d.spec.backendVersion}
          {d.spec.mode === 'container' ? ' (container)' : ''}
        </dd>
      </div>
      {d.spec.loras.length ? (
        <div>
          <dt>LoRA adapters</dt>
          <dd class="dp-mono">
            {d.spec.loras.map((l, i) => (
              <span key={l.name} title={l.path}>
                {i ? ', ' : ''}
                {l.name}
              </span>
            ))}
          </dd>
        </div>
      ) : null}
      <div>
        <dt>GPUs</dt>
        <dd>
          {gpus.length ? gpus.join(', ') : 'none held'}
          <span class="dp-muted"> ({perReplica === 0 ? 'no GPU' : `${perReplica} per replica`})</span>
        </dd>
      </div>
      <div>
        <dt>Port</dt>
        <dd>{ports.length ? ports.join(', ') : '—'}</dd>
      </div>
      <div>
        <dt>Replicas</dt>
        <dd>
          {ready} ready of {active} <span class="dp-muted">(scale {scale.min}–{scale.max})</span>
        </dd>
      </div>
      <div>
        <dt>Requests</dt>
        <dd>
          {d.replicas.reduce((n, r) => n + r.inFlight, 0)} in flight, {d.queued} queued
        </dd>
      </div>
    </dl>
  );
}

export function Timeline({ name, notices }: { name: string; notices: StreamEvent[] }) {
  const rows = timelineRows(notices, name);
  if (rows.length === 0) return <p class="dp-muted">No state changes seen since this page opened.</p>;
  return (
    <table class="dp-table dp-timeline">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Replica</th>
          <th scope="col">Change</th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}>
            <td data-label="Time">
              <time dateTime={r.ts}>{timeOf(r.ts)}</time>
            </td>
            <td data-label="Replica">{r.replica ?? 'deployment'}</td>
            <td data-label="Change">
              {r.from ?? '—'} → <span class={`dp-tone-text-${r.tone}`}>{r.to}</span>
            </td>
            <td data-label="Reason" class="dp-reason">
              {r.reason ?? ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function GpuShares({ name, shares }: { name: string; shares: GpuShare[] }) {
  const mine = shares.filter((s) => s.deployment === name).sort((a, b) => a.gpuIndex - b.gpuIndex || a.replica.localeCompare(b.replica));
  if (mine.length === 0) return <p class="dp-muted">Holds no GPU memory now.</p>;
  return (
    <ul class="dp-shares">
      {mine.map((s) => {
        const used = s.usedMiB;
        const alloc = s.allocatedMiB;
        const pct = used !== null && alloc ? Math.min(100, (used / alloc) * 100) : null;
        return (
          <li key={`${s.gpuIndex}/${s.replica}`}>
            <div class="dp-share-head">
              <strong>GPU {s.gpuIndex}</strong> <span class="dp-muted">{s.replica}</span>
            </div>
            <div class="dp-share-text">
              used {used === null ? 'not reported yet' : gib(used)} of {alloc === null ? 'no fixed budget' : `${gib(alloc)} allocated`}
            </div>
            {pct !== null ? (
              <div class="dp-bar" aria-hidden="true">
                <div class="dp-bar-fill" style={{ width: `${pct}%` }} />
              </div>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}
