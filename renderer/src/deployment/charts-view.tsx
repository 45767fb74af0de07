// Mounts the charts (uPlot, loaded on first use) and hands them each new
// sample the page receives.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Client } from '../../../daemon/contract/client.js';
import type { LiveStats } from '../../../daemon/contract/live.js';
import type { HistoryState, StatsCharts } from './stats-charts.js';

export interface ChartsViewProps {
  name: string;
  stats: LiveStats | undefined;
  /** Samples the page saw before this view opened. */
  earlier: readonly LiveStats[];
  client: Client;
}

export function ChartsView({ name, stats, earlier, client }: ChartsViewProps) {
  const host = useRef<HTMLDivElement>(null);
  const charts = useRef<StatsCharts | null>(null);
  /** Samples that arrived before uPlot did. */
  const early = useRef<LiveStats[]>([...earlier]);
  const [history, setHistory] = useState<{ state: HistoryState; detail: string | null }>({ state: 'loading', detail: null });
  const [failed, setFailed] = useState<string | null>(null);

  useEffect(() => {
    let gone = false;
    import('./stats-charts.js').then(
      ({ StatsCharts }) => {
        if (gone || !host.current) return;
        const c = new StatsCharts(host.current, name, client, { onHistory: (state, detail) => setHistory({ state, detail }) });
        c.add(early.current);
        early.current = [];
        charts.current = c;
      },
      (err: unknown) => !gone && setFailed(err instanceof Error ? err.message : String(err)),
    );
    return () => {
      gone = true;
      charts.current?.dispose();
      charts.current = null;
    };
  }, [name, client]);

  useEffect(() => {
    if (!stats || stats.name !== name) return;
    if (charts.current) charts.current.add([stats]);
    else early.current.push(stats);
  }, [stats]);

  let note: string;
  if (failed) note = `The charts could not load: ${failed}`;
  else if (history.state === 'loading') note = 'Loading the last hour…';
  else if (history.state === 'loaded') note = `The last hour, ${history.detail ?? ''}; new samples arrive from the daemon as they are taken.`;
  else if (history.state === 'none') note = 'No history kept for this deployment yet: the charts fill as the daemon takes samples.';
  else note = `The history could not be read (${history.detail ?? 'unknown error'}): the charts fill as the daemon takes samples.`;

  return (
    <div class="dp-metrics">
      <p class="dp-muted" role="status">
        {note}
      </p>
      <div class="dp-charts" ref={host} />
    </div>
  );
}
