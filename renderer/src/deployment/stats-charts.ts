// The deployment's last hour as four charts (STYLE.md example 13: each uPlot
// is created once and kept; every sample only calls setData over a fixed
// one-hour window). The history comes from GET /history when the page opens;
// after that the event stream's samples are appended as the page gets them.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ApiError, type Client } from '../../../daemon/contract/client.js';
import type { LiveStats } from '../../../daemon/contract/live.js';
import { StatsWindow, xRange, type StatsColumns } from './stats-window.js';

export type HistoryState = 'loading' | 'loaded' | 'none' | 'failed';

export interface StatsChartsOptions {
  /** How loading the history went, for the component to say (none: the daemon keeps no history for it). */
  onHistory?: (state: HistoryState, detail: string | null) => void;
}

type Tone = 'accent' | 'warn' | 'ok' | 'err';

interface ChartSpec {
  title: string;
  unit: string;
  series: { label: string; tone: Tone; values: (c: StatsColumns) => (number | null)[] }[];
  /** A fixed y range (percent); otherwise from 0 to the data's maximum. */
  yMax?: number;
  digits: number;
}

const CHARTS: ChartSpec[] = [
  { title: 'Requests per second', unit: 'req/s', digits: 2, series: [{ label: 'requests/s', tone: 'accent', values: (c) => c.requestsPerS }] },
  {
    title: 'Time to first token',
    unit: 'ms',
    digits: 0,
    series: [
      { label: 'p50', tone: 'accent', values: (c) => c.ttftP50Ms },
      { label: 'p95', tone: 'warn', values: (c) => c.ttftP95Ms },
    ],
  },
  { title: 'Tokens per second', unit: 'tok/s', digits: 1, series: [{ label: 'tokens/s', tone: 'ok', values: (c) => c.tokensPerS }] },
  { title: 'KV-cache use', unit: '%', digits: 0, yMax: 100, series: [{ label: 'KV cache', tone: 'err', values: (c) => c.kvCachePct }] },
];

const CHART_HEIGHT = 150;

/** Colours as the page's CSS variables say now, re-read when the OS switches light/dark. */
interface Palette {
  accent: string;
  warn: string;
  ok: string;
  err: string;
  fg: string;
  muted: string;
  grid: string;
}

function readPalette(el: Element): Palette {
  const s = getComputedStyle(el);
  const v = (name: string, fallback: string) => s.getPropertyValue(name).trim() || fallback;
  return {
    accent: v('--accent', '#3b82f6'),
    warn: v('--warn', '#d97706'),
    ok: v('--ok', '#16a34a'),
    err: v('--err', '#dc2626'),
    fg: v('--fg', '#1f2328'),
    muted: v('--muted', '#6b7280'),
    grid: v('--border', '#d0d7de'),
  };
}

function latest(values: (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i]!;
  return null;
}

interface Chart {
  spec: ChartSpec;
  plot: uPlot;
  figure: HTMLElement;
}

export class StatsCharts {
  private readonly window = new StatsWindow();
  private readonly charts: Chart[] = [];
  private readonly resize: ResizeObserver;
  private readonly scheme: MediaQueryList;
  private palette: Palette;
  private readonly abort = new AbortController();
  private disposed = false;

  constructor(
    private readonly host: HTMLElement,
    private readonly name: string,
    private readonly client: Pick<Client, 'deploymentHistory'>,
    private readonly opts: StatsChartsOptions = {},
  ) {
    this.palette = readPalette(host);
    this.scheme = matchMedia('(prefers-color-scheme: dark)');
    const width = this.chartWidth();
    for (const spec of CHARTS) this.charts.push(this.create(spec, width));
    this.resize = new ResizeObserver(() => this.fitWidth());
    this.resize.observe(host);
    this.scheme.addEventListener('change', this.onScheme);
    void this.loadHistory();
  }

  /** Adds samples (the event stream's; another deployment's are ignored) and redraws once. */
  add(samples: readonly LiveStats[]): void {
    if (this.disposed) return;
    if (this.window.add(samples.filter((s) => s.name === this.name))) this.draw();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.abort.abort();
    this.resize.disconnect();
    this.scheme.removeEventListener('change', this.onScheme);
    for (const c of this.charts) {
      c.plot.destroy();
      c.figure.remove();
    }
  }

  private async loadHistory(): Promise<void> {
    this.opts.onHistory?.('loading', null);
    try {
      const h = await this.client.deploymentHistory({ params: { name: this.name }, signal: this.abort.signal });
      if (this.disposed) return;
      this.window.add(h.points);
      this.draw();
      this.opts.onHistory?.('loaded', `one sample every ${h.intervalS} s`);
    } catch (err) {
      if (this.disposed) return;
      // A daemon without the history route (older) or without samples for
      // this deployment yet: the charts start empty and fill from the stream.
      if (err instanceof ApiError && err.status === 404) this.opts.onHistory?.('none', null);
      else this.opts.onHistory?.('failed', err instanceof Error ? err.message : String(err));
    }
  }

  private create(spec: ChartSpec, width: number): Chart {
    const figure = document.createElement('figure');
    figure.className = 'dp-chart';
    figure.setAttribute('role', 'img');
    const caption = document.createElement('figcaption');
    caption.textContent = `${spec.title} (${spec.unit})`;
    figure.append(caption);
    this.host.append(figure);
    const p = () => this.palette;
    const axis = (): uPlot.Axis => ({
      stroke: () => p().muted,
      grid: { stroke: () => p().grid, width: 1 },
      ticks: { stroke: () => p().grid, width: 1 },
    });
    const plot = new uPlot(
      {
        width,
        height: CHART_HEIGHT,
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true, range: () => xRange(this.window.newest, Date.now() / 1000) },
          y: {
            range: (_u, _min, max) => {
              if (spec.yMax !== undefined) return [0, spec.yMax];
              const top = Number.isFinite(max) && max > 0 ? max * 1.15 : 1;
              return [0, top];
            },
          },
        },
        axes: [axis(), { ...axis(), size: 50, values: (_u, ticks) => tickLabels(ticks) }],
        series: [
          {},
          ...spec.series.map((s) => ({
            label: s.label,
            stroke: () => p()[s.tone],
            width: 1.5,
            points: { show: false },
            spanGaps: false,
            value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : `${fmt(v, spec.digits)} ${spec.unit}`),
          })),
        ],
        legend: { live: true },
      },
      this.data(spec, this.window.columns()),
      figure,
    );
    this.label(figure, spec, this.window.columns());
    return { spec, plot, figure };
  }

  private data(spec: ChartSpec, c: StatsColumns): uPlot.AlignedData {
    return [c.t, ...spec.series.map((s) => s.values(c))] as uPlot.AlignedData;
  }

  /** Screen readers get the chart's newest values in words; the canvas says nothing to them. */
  private label(figure: HTMLElement, spec: ChartSpec, c: StatsColumns): void {
    const parts = spec.series.map((s) => {
      const v = latest(s.values(c));
      return `${s.label} ${v === null ? 'no data' : `${fmt(v, spec.digits)} ${spec.unit}`}`;
    });
    figure.setAttribute('aria-label', `${spec.title}, last hour: ${c.t.length ? `now ${parts.join(', ')}` : 'no samples yet'}`);
  }

  private draw(): void {
    const c = this.window.columns();
    for (const chart of this.charts) {
      chart.plot.setData(this.data(chart.spec, c));
      // Away from the pointer the legend shows the newest values, not dashes.
      if (c.t.length > 0 && !(chart.plot.cursor.left! >= 0)) chart.plot.setLegend({ idx: c.t.length - 1 });
      this.label(chart.figure, chart.spec, c);
    }
  }

  private chartWidth(): number {
    // Two charts side by side when there is room, else one per row (see deployment.css).
    const w = this.host.clientWidth;
    const columns = w >= 720 ? 2 : 1;
    const gap = 16;
    return Math.max(200, Math.floor((w - gap * (columns - 1)) / columns));
  }

  private fitWidth(): void {
    if (this.disposed || this.host.clientWidth === 0) return;
    const width = this.chartWidth();
    for (const c of this.charts) if (c.plot.width !== width) c.plot.setSize({ width, height: CHART_HEIGHT });
  }

  private readonly onScheme = () => {
    this.palette = readPalette(this.host);
    for (const c of this.charts) c.plot.redraw(false);
  };
}

/** Tick labels with as many decimals as the step between ticks needs (0.5 steps read 0.5, not 1). */
function tickLabels(ticks: number[]): string[] {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  const digits = step >= 1 || step === 0 ? 0 : Math.min(3, Math.ceil(-Math.log10(step) - 1e-9));
  return ticks.map((t) => t.toFixed(digits));
}

function fmt(v: number, digits: number): string {
  if (Math.abs(v) >= 1000) return v.toFixed(0);
  return v.toFixed(digits);
}
