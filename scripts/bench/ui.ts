// The UI's weight and speed, as issue 15 budgets them: the JavaScript a
// browser downloads (at most 300 KB gzipped, terminal and charts included)
// and the time from opening the daemon's page cold to a painted dashboard
// (at most 1 s), measured in headless Chromium against a real daemon.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const UI_DIR = join(REPO, 'dist/renderer');
export const CHROMIUM = process.env.BENCH_CHROMIUM ?? '/usr/bin/chromium';

export const JS_BUDGET_BYTES = 300 * 1024;
export const PAINT_BUDGET_MS = 1000;

export interface BundleFile {
  file: string;
  bytes: number;
  gzipBytes: number;
  /** Loaded by index.html itself (entry or modulepreload), not on demand. */
  initial: boolean;
}

export interface BundleReport {
  files: BundleFile[];
  jsGzipBytes: number;
  initialJsGzipBytes: number;
  /** CSS loaded by index.html itself. */
  cssGzipBytes: number;
}

/** Sizes of what dist/renderer serves; gzip at the level a web server uses by default (6). */
export function bundleSize(dir = UI_DIR): BundleReport {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const assets = join(dir, 'assets');
  const files = readdirSync(assets)
    .filter((f) => f.endsWith('.js') || f.endsWith('.css'))
    .map((f) => {
      const body = readFileSync(join(assets, f));
      return { file: f, bytes: statSync(join(assets, f)).size, gzipBytes: gzipSync(body, { level: 6 }).length, initial: html.includes(`assets/${f}`) };
    })
    .sort((a, b) => b.gzipBytes - a.gzipBytes);
  const sum = (xs: BundleFile[]) => xs.reduce((n, f) => n + f.gzipBytes, 0);
  const js = files.filter((f) => f.file.endsWith('.js'));
  return {
    files,
    jsGzipBytes: sum(js),
    initialJsGzipBytes: sum(js.filter((f) => f.initial)),
    cssGzipBytes: sum(files.filter((f) => f.file.endsWith('.css') && f.initial)),
  };
}

export interface PaintReport {
  loads: number;
  /** Median over the cold loads, ms from navigation start. */
  firstContentfulPaintMs: number | null;
  dashboardPaintedMs: number | null;
  error: string | null;
}

/**
 * Opens `url` cold (a new browser context each time: empty cache, no
 * service worker) `loads` times and reports medians: first contentful paint,
 * and the moment the dashboard shows the GPU cards and the deployments table
 * filled from the daemon's event stream.
 */
export async function paintTimes(url: string, loads: number, dashboardSelector: string): Promise<PaintReport> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium
    .launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'] })
    .catch((err: Error) => err);
  if (browser instanceof Error) return { loads: 0, firstContentfulPaintMs: null, dashboardPaintedMs: null, error: `no Chromium at ${CHROMIUM}: ${browser.message.split('\n')[0]}` };
  const fcp: number[] = [];
  const painted: number[] = [];
  try {
    for (let i = 0; i < loads + 1; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(url, { waitUntil: 'commit' });
      await page.waitForSelector(dashboardSelector, { state: 'visible', timeout: 10_000 });
      const t = await page.evaluate(() => {
        const paint = performance.getEntriesByName('first-contentful-paint')[0];
        return { fcp: paint ? paint.startTime : null, now: performance.now() };
      });
      await context.close();
      // The first load warms Chromium itself (its own caches, the GPU process), not the page.
      if (i === 0) continue;
      if (t.fcp !== null) fcp.push(t.fcp);
      painted.push(t.now);
    }
  } finally {
    await browser.close();
  }
  const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : null);
  return { loads, firstContentfulPaintMs: median(fcp), dashboardPaintedMs: median(painted), error: null };
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

export function renderUi(bundle: BundleReport, paint: PaintReport): string {
  const lines = ['UI bundle (gzip -6)', '  file                                   raw        gzip   loaded'];
  for (const f of bundle.files) lines.push(`  ${f.file.padEnd(36)} ${kb(f.bytes).padStart(10)} ${kb(f.gzipBytes).padStart(10)}   ${f.initial ? 'at start' : 'on demand'}`);
  const jsOk = bundle.jsGzipBytes <= JS_BUDGET_BYTES;
  lines.push(`  all JavaScript: ${kb(bundle.jsGzipBytes)} gzipped (budget ${kb(JS_BUDGET_BYTES)}): ${jsOk ? 'met' : 'MISSED'}`);
  lines.push(`  loaded at start: ${kb(bundle.initialJsGzipBytes)} JS + ${kb(bundle.cssGzipBytes)} CSS`);
  lines.push('', `Cold load in headless Chromium (median of ${paint.loads})`);
  if (paint.error) lines.push(`  not measured: ${paint.error}`);
  else {
    const ms = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(0)} ms`);
    const paintOk = paint.dashboardPaintedMs !== null && paint.dashboardPaintedMs <= PAINT_BUDGET_MS;
    lines.push(`  first contentful paint: ${ms(paint.firstContentfulPaintMs)}`);
    lines.push(`  dashboard painted (GPU cards and deployments from the event stream): ${ms(paint.dashboardPaintedMs)} (budget ${PAINT_BUDGET_MS} ms): ${paintOk ? 'met' : 'MISSED'}`);
  }
  return lines.join('\n');
}

export function uiMet(bundle: BundleReport, paint: PaintReport): boolean {
  return bundle.jsGzipBytes <= JS_BUDGET_BYTES && paint.error === null && paint.dashboardPaintedMs !== null && paint.dashboardPaintedMs <= PAINT_BUDGET_MS;
}
