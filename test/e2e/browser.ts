// Headless Chromium for the end-to-end tests: Debian's chromium driven by
// playwright-core (no browser download), a fresh profile per launch, and the
// flags this machine's closed network needs (no background connections that
// would fail and retry). Screenshots go to test-results/screenshots/, which
// the README names.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { REPO } from '../helpers/daemon.js';

export const CHROMIUM = process.env.BERTH_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO, 'test-results/screenshots');

/**
 * Why the browser tests cannot run here, or null when they can. CI installs
 * chromium (.ci/run), so there they always run; a contributor without it
 * sees the reason in the skipped suite's name.
 */
export function chromiumMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  // CI sets this: there a missing browser is a failure, not a skip.
  if (process.env.BERTH_E2E_REQUIRED === '1') throw new Error(`no Chromium at ${CHROMIUM}, and BERTH_E2E_REQUIRED=1`);
  return `skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set BERTH_TEST_CHROMIUM)`;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
