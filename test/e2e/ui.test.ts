// The UI end to end, as a user meets it: a real daemon (fake 4-GPU nvidia-smi,
// fake vLLM launched through the real argv), the bundle it serves, and Debian's
// Chromium clicking through it. Nothing here talks to the daemon behind the
// page's back except to set up a machine or to check what the engine saw.
// Screenshots of the dashboard, the form and the deployment page land in
// test-results/screenshots/ (named in the README).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { GPU_APPS_DIR_ENV } from '../fakes/nvidia-smi/gpu-apps.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { SAFETY_MS } from '../helpers/limits.js';
import { chromiumMissing, launchChromium, screenshot } from './browser.js';

const missing = chromiumMissing();

/** Waits until `fn` (run in the test, reading the page) returns a value. */
async function eventually<T>(fn: () => Promise<T | undefined | null | false>, what: string): Promise<T> {
  const end = Date.now() + SAFETY_MS;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(SAFETY_MS);
  await page.goto(url);
  return page;
}

describe(missing ?? 'the UI in headless Chromium, against a real daemon', { skip: missing ?? false }, () => {
  let d: TestDaemon;
  let browser: Browser;
  let page: Page;
  let daemonStopped = false;
  const appsDir = mkdtempSync(join(tmpdir(), 'berth-e2e-gpu-apps-'));

  before(async () => {
    // nvidia-smi is run by the daemon in this process, with this process's environment.
    process.env.FAKE_NVIDIA_SMI_GPUS = '4';
    process.env[GPU_APPS_DIR_ENV] = appsDir;
    d = await startTestDaemon({
      machine: 'h100x8',
      env: {
        // A 4-GPU box; the fake engines show up in nvidia-smi's compute apps.
        FAKE_NVIDIA_SMI_GPUS: '4',
        [GPU_APPS_DIR_ENV]: appsDir,
        // Answers long enough to watch them stream and to stop one halfway.
        FAKE_TOKENS: '200',
        FAKE_TOKEN_DELAY_MS: '40',
      },
    });
    browser = await launchChromium();
    page = await openPage(browser, `${d.url}/`);
  });
  after(async () => {
    await browser?.close();
    if (!daemonStopped) await d?.stop();
    delete process.env.FAKE_NVIDIA_SMI_GPUS;
    delete process.env[GPU_APPS_DIR_ENV];
    rmSync(appsDir, { recursive: true, force: true });
  });

  it('paints a card per GPU and says what to do with no deployment', async () => {
    await page.getByTestId('gpu-card').first().waitFor();
    assert.equal(await page.getByTestId('gpu-card').count(), 4);
    await page.getByRole('heading', { name: 'No deployments yet' }).waitFor();
    await screenshot(page, 'dashboard-empty');
  });

  it('creates a deployment through the form: the command line follows the fields, a bad arg is flagged on its field', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New deployment' }).click();
    await page.getByLabel('Name', { exact: true }).fill('qwen');
    await page.getByLabel('Model', { exact: true }).fill('Qwen/Qwen2.5-0.5B-Instruct');
    const plan = page.getByRole('region', { name: 'Command line' });
    await plan.getByText('--model Qwen/Qwen2.5-0.5B-Instruct', { exact: false }).waitFor();
    assert.equal(await plan.getByText('--tensor-parallel-size', { exact: false }).count(), 0);

    await page.getByLabel('GPU count').fill('2');
    await plan.getByText('--tensor-parallel-size 2', { exact: false }).waitFor();

    const args = page.getByLabel('Extra args');
    await args.fill('--max-model-len 4096\n--no-such-flag');
    // The daemon's own argparse verdict, on the field it is about.
    await eventually(async () => (await args.getAttribute('aria-invalid')) === 'true', 'the bad arg to be flagged');
    const why = await page.locator('#f-args-error').textContent();
    assert.match(why ?? '', /--no-such-flag/);

    await args.fill('--max-model-len 4096');
    await plan.getByText('--max-model-len 4096', { exact: false }).waitFor();
    assert.equal(await args.getAttribute('aria-invalid'), null);
    await screenshot(page, 'form');

    await page.getByRole('button', { name: 'Create deployment' }).click();
    await page.waitForURL(/#\/deployments\/qwen$/);
    await page.getByRole('heading', { name: 'qwen', exact: true }).waitFor();
    await page.locator('.dp-badge', { hasText: 'ready' }).waitFor();
  });

  it('shows the deployment\'s share on the GPU cards it runs on', async () => {
    await page.goto(`${d.url}/#/`);
    const gpu0 = page.getByRole('img', { name: /^GPU 0 memory/ });
    const label = await eventually(async () => {
      const l = await gpu0.getAttribute('aria-label');
      return l?.includes('qwen') && !l.includes('—') ? l : undefined;
    }, 'GPU 0 to show qwen\'s share');
    // What the engine really uses (nvidia-smi's compute apps), beside what Berth allocated.
    assert.match(label, /qwen: 1\.0 GiB used of 71\.7 GiB allocated/);
    // Two GPUs per replica: GPU 1 carries it too, GPU 2 does not.
    assert.match((await page.getByRole('img', { name: /^GPU 1 memory/ }).getAttribute('aria-label')) ?? '', /qwen/);
    assert.doesNotMatch((await page.getByRole('img', { name: /^GPU 2 memory/ }).getAttribute('aria-label')) ?? '', /qwen/);
    await page.getByTestId('deployment-row').filter({ hasText: 'qwen' }).waitFor();
    await screenshot(page, 'dashboard');
  });

  it('streams the engine\'s log into the terminal', async () => {
    await page.goto(`${d.url}/#/deployments/qwen`);
    await page.getByRole('tab', { name: 'Logs' }).click();
    const terminal = page.getByRole('region', { name: 'Engine log of qwen' });
    await terminal.getByText('Application startup complete', { exact: false }).first().waitFor();
  });

  it('streams a chat answer token by token, and Stop ends it', async () => {
    await page.getByRole('tab', { name: 'Chat' }).click();
    await page.getByLabel('Message').fill('Say something long.');
    await page.getByRole('button', { name: 'Send' }).click();
    const answer = page.locator('.dp-turn-assistant .dp-turn-text').last();
    // Token by token: the text is seen growing while the turn is still busy.
    const first = await eventually(async () => {
      const t = (await answer.textContent()) ?? '';
      return t.length > 0 && t !== '…' ? t : undefined;
    }, 'the first tokens');
    const later = await eventually(async () => {
      const t = (await answer.textContent()) ?? '';
      return t.length > first.length ? t : undefined;
    }, 'more tokens');
    assert.ok(later.startsWith(first), 'the answer grows by appending');
    assert.equal(await page.locator('.dp-turn-assistant').last().getAttribute('aria-busy'), 'true');
    await screenshot(page, 'deployment-chat');

    await page.getByRole('button', { name: 'Stop generating' }).click();
    await page.locator('.dp-turn-assistant').last().getByText('Stopped.').waitFor();
    const stoppedAt = (await answer.textContent()) ?? '';
    // 200 tokens at 40 ms would take 8 s: a stopped answer is well short of it and stays so.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await answer.textContent(), stoppedAt);
    // And the daemon told the engine: the fake logs the abort it saw.
    const engineLog = await d.client.deploymentLogs({ params: { name: 'qwen' }, query: { tail: 200 } });
    await eventually(async () => {
      const { lines } = await d.client.deploymentLogs({ params: { name: 'qwen' }, query: { tail: 200 } });
      return lines.some((l) => /abort/i.test(l));
    }, `the engine to log the abort (log so far: ${engineLog.lines.slice(-5).join(' | ')})`);
  });

  it('charts the deployment\'s last hour from the sampled stats', async () => {
    await page.getByRole('tab', { name: 'Metrics' }).click();
    for (const title of ['Requests per second', 'Time to first token', 'Tokens per second', 'KV-cache use']) {
      const chart = page.getByRole('img', { name: new RegExp(`^${title}, last hour: now`) });
      await chart.waitFor();
    }
    await screenshot(page, 'deployment-metrics');
  });

  it('moves the log terminal to the new replica after a restart, under a marker', async () => {
    await page.getByRole('tab', { name: 'Logs' }).click();
    const terminal = page.getByRole('region', { name: 'Engine log of qwen' });
    await terminal.getByText('Application startup complete', { exact: false }).first().waitFor();
    // Not following, the view stays where it is: at the top once the
    // terminal starts over, where the new replica's marker goes (following,
    // its hundred start-up lines would scroll the marker out of the rows drawn).
    const follow = page.getByRole('button', { name: 'Follow' });
    await follow.click();
    await page.getByRole('button', { name: 'Restart', exact: true }).click();
    // The same stream moves on: no reload, no reconnect.
    await terminal.getByText('— replica qwen-1 —').waitFor();
    await follow.click();
    await terminal.getByText('Application startup complete', { exact: false }).first().waitFor();
    await page.locator('.dp-badge', { hasText: 'ready' }).waitFor();
  });

  it('stops the deployment from its page', async () => {
    await page.getByRole('tab', { name: 'Logs' }).click();
    await screenshot(page, 'deployment');
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await page.locator('.dp-badge', { hasText: 'stopped' }).waitFor();
    const status = await d.client.getDeployment({ params: { name: 'qwen' } });
    assert.equal(status.state, 'stopped');
    // The stopped chat left nothing in flight, in the daemon and on the dashboard.
    assert.equal((await d.client.deploymentStats({ params: { name: 'qwen' } })).gateway.inFlight, 0);
    await page.goto(`${d.url}/#/`);
    const row = page.getByTestId('deployment-row').filter({ hasText: 'qwen' });
    await row.getByText('stopped').waitFor();
    await eventually(async () => (await row.locator('td[data-label="In flight"]').textContent())?.trim() === '0', 'the row to show nothing in flight');
    // Its GPUs are free again on the cards.
    const gpu0 = page.getByRole('img', { name: /^GPU 0 memory/ });
    await eventually(async () => !((await gpu0.getAttribute('aria-label')) ?? 'qwen').includes('qwen'), 'GPU 0 to drop qwen\'s share');
  });

  it('is usable in a narrow window in dark mode', async () => {
    const narrow = await browser.newPage({ viewport: { width: 480, height: 900 }, colorScheme: 'dark' });
    narrow.setDefaultTimeout(SAFETY_MS);
    await narrow.goto(`${d.url}/#/`);
    await narrow.getByTestId('deployment-row').first().waitFor();
    // Nothing wider than the window: no sideways scrolling.
    assert.ok(await narrow.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'the page fits 480 px');
    const bg = await narrow.evaluate('getComputedStyle(document.body).backgroundColor');
    assert.notEqual(bg, 'rgb(255, 255, 255)', 'dark mode follows the OS');
    await screenshot(narrow, 'dashboard-narrow-dark');
    await narrow.close();
  });

  it('says the daemon is unreachable, and how to start it, when it goes away', async () => {
    await page.goto(`${d.url}/#/`);
    await page.getByTestId('gpu-card').first().waitFor();
    await d.stop();
    daemonStopped = true;
    const alert = page.getByRole('alert').filter({ hasText: 'Daemon unreachable' });
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /berth serve/);
    await screenshot(page, 'unreachable');
  });
});

describe(missing ?? 'the UI on a machine without an NVIDIA GPU', { skip: missing ?? false }, () => {
  let d: TestDaemon;
  let browser: Browser;
  before(async () => {
    d = await startTestDaemon({ machine: 'no-devices' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
  });

  it('says no GPU was found and what still works', async () => {
    const page = await openPage(browser, `${d.url}/`);
    const note = page.getByRole('note').filter({ hasText: 'No NVIDIA GPU found' });
    await note.waitFor();
    assert.match((await note.textContent()) ?? '', /What still works/);
    await screenshot(page, 'no-gpu');
  });
});

describe(missing ?? 'the UI when no engine is installed', { skip: missing ?? false }, () => {
  let d: TestDaemon;
  let browser: Browser;
  before(async () => {
    // The doctor runs the engines' python with this process's environment: both "lack" their package.
    process.env.FAKE_IMPORT_FAIL = '1';
    d = await startTestDaemon({ machine: 'h100x8' });
    browser = await launchChromium();
  });
  after(async () => {
    delete process.env.FAKE_IMPORT_FAIL;
    await browser?.close();
    await d?.stop();
  });

  it('says so and offers the doctor\'s install line to copy', async () => {
    const page = await openPage(browser, `${d.url}/`);
    const panel = page.getByRole('region', { name: 'No inference engine installed' });
    await panel.waitFor();
    assert.match((await panel.textContent()) ?? '', /vllm==0\.9\.0\.1/);
    await panel.getByRole('button', { name: /^Copy the fix for vllm/ }).waitFor();
    await screenshot(page, 'no-engine');
  });
});
