// One GPU: its memory as a bar with each deployment's share (allocated, and
// the used part solid), other processes in grey, then free; utilisation and
// temperature.
import type { DeploymentStatus, Gpu } from '../../../daemon/contract/api.js';
import type { GpuUsageReport } from '../../../daemon/contract/live.js';
import { memoryBar, type BarSegment } from '../store/derive.js';
import { celsius, mib, pct } from '../format.js';

function segmentText(s: BarSegment): string {
  if (s.kind !== 'share') return `${s.label}: ${mib(s.usedMiB)}`;
  const alloc = s.allocatedMiB === null ? '' : ` of ${mib(s.allocatedMiB)} allocated`;
  return `${s.label}: ${mib(s.usedMiB)} used${alloc}`;
}

function Segment({ s }: { s: BarSegment }) {
  const colour = s.colour === null ? 'var(--share-none)' : `var(--share-${s.colour})`;
  return (
    <span class={`seg seg-${s.kind}`} style={{ width: `${s.widthPct}%`, '--seg': colour }} title={segmentText(s)}>
      <span class="seg-used" style={{ width: `${s.usedPctOfSegment}%` }} />
    </span>
  );
}

export function GpuCard({ gpu, usage, deployments }: { gpu: Gpu; usage: GpuUsageReport | null; deployments: DeploymentStatus[] }) {
  const bar = memoryBar(gpu, usage, deployments);
  const titleId = `gpu-${gpu.index}-title`;
  return (
    <article class="card gpu-card" aria-labelledby={titleId} data-testid="gpu-card">
      <h3 id={titleId}>
        <span class="gpu-index">GPU {gpu.index}</span> {gpu.name}
      </h3>
      {bar ? (
        <>
          <div
            class="membar"
            role="img"
            aria-label={`GPU ${gpu.index} memory: ${mib(bar.usedMiB)} used of ${mib(bar.totalMiB)}${bar.segments.length ? '; ' : ''}${bar.segments
              .map(segmentText)
              .join('; ')}`}
          >
            {bar.segments.map((s) => (
              <Segment s={s} key={`${s.kind}-${s.label}`} />
            ))}
          </div>
          <ul class="legend">
            {bar.segments.map((s) => (
              <li key={`${s.kind}-${s.label}`}>
                <span class="swatch" style={{ '--seg': s.colour === null ? 'var(--share-none)' : `var(--share-${s.colour})` }} />
                {segmentText(s)}
              </li>
            ))}
            <li>
              <span class="swatch free" />
              free: {mib(bar.freeMiB)} of {mib(bar.totalMiB)}
            </li>
          </ul>
        </>
      ) : (
        <p class="muted">The driver reports no memory total for this GPU (unified memory).</p>
      )}
      <dl class="gpu-stats">
        <div>
          <dt>Utilisation</dt>
          <dd>{pct(gpu.utilizationPct)}</dd>
        </div>
        <div>
          <dt>Temperature</dt>
          <dd>{celsius(gpu.temperatureC)}</dd>
        </div>
        {gpu.powerDrawW !== null && (
          <div>
            <dt>Power</dt>
            <dd>
              {Math.round(gpu.powerDrawW)} W{gpu.powerLimitW !== null ? ` / ${Math.round(gpu.powerLimitW)} W` : ''}
            </dd>
          </div>
        )}
      </dl>
    </article>
  );
}
