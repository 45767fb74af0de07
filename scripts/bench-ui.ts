// npm run bench:ui: the UI's bundle size and cold-load paint time against a
// real daemon (fake 8×H100 and one fake engine, so the dashboard has GPU cards
// and a deployment row to paint). Also run at the end of `npm run bench`.
import { startBerth } from './bench/berth.js';
import { bundleSize, paintTimes, renderUi, uiMet } from './bench/ui.js';

/** What "the dashboard is painted" means: a GPU card and a deployment row, both from the event stream. */
export const DASHBOARD_PAINTED = '[data-testid="gpu-card"] >> nth=0';

export async function benchUi(log: (s: string) => void, url?: string): Promise<{ text: string; met: boolean }> {
  const bundle = bundleSize();
  let berth: Awaited<ReturnType<typeof startBerth>> | undefined;
  try {
    if (!url) {
      log('starting a daemon for the UI paint timing...\n');
      berth = await startBerth();
      await berth.deploy('ui-bench', { FAKE_START_DELAY_MS: '0' });
      url = berth.url;
    }
    const loads = Number(process.env.BENCH_UI_LOADS ?? 5);
    log(`timing ${loads} cold loads of ${url}/ in headless Chromium...\n`);
    const paint = await paintTimes(`${url}/`, loads, DASHBOARD_PAINTED);
    return { text: renderUi(bundle, paint), met: uiMet(bundle, paint) };
  } finally {
    await berth?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchUi((s) => process.stderr.write(s));
  console.log(r.text);
  process.exit(r.met ? 0 : 1);
}
