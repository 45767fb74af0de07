// The UI's Content-Security-Policy in a real browser (headless Chromium): the
// built page runs under it, and @xterm/xterm 6, which writes its styles into
// <style> elements it creates, works when the page gives those elements the
// nonce of <meta property="csp-nonce"> and is refused without it. That is why
// index.html carries a per-answer nonce (daemon/http/ui.ts).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const CHROMIUM = '/usr/bin/chromium';

interface Violation {
  directive: string;
  blocked: string;
}

// In-page code is written as source text: the repository's TypeScript
// program is Node's, without the DOM's types, and the browser runs it as is.

/** Records every CSP violation from the page's first byte, in `violations`. */
const RECORD_VIOLATIONS = `
  globalThis.violations = [];
  document.addEventListener('securitypolicyviolation', (e) => violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI }));
`;

/** Opens an xterm in a new element, writes a line, and gives the CSS display of a rendered cell (xterm's own <style> sets it). */
const OPEN_TERMINAL = `(async () => {
  const el = document.body.appendChild(document.createElement('div'));
  const term = new Terminal();
  term.open(el);
  await new Promise((resolve) => term.write('\x1b[32mready\x1b[0m', resolve));
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const cell = el.querySelector('.xterm-rows span');
  return cell ? getComputedStyle(cell).display : 'no cell rendered';
})()`;

/** What the UI does before it creates a terminal: every <style> element gets the page's nonce. */
const HAND_OUT_NONCE = `{
  const nonce = document.querySelector('meta[property="csp-nonce"]').nonce;
  const create = Document.prototype.createElement;
  Document.prototype.createElement = function (tag, options) {
    const el = create.call(this, tag, options);
    if (String(tag).toLowerCase() === 'style') el.nonce = nonce;
    return el;
  };
}`;

async function open(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  // Init scripts and evaluate run through the DevTools protocol, which the page's policy does not govern.
  await page.addInitScript(RECORD_VIOLATIONS);
  await page.goto(url);
  return page;
}

const violations = (page: Page) => page.evaluate<Violation[]>('violations');
const openTerminal = (page: Page) => page.evaluate<string>(OPEN_TERMINAL);

describe('the UI under its policy, in Chromium', { skip: existsSync(CHROMIUM) ? false : `needs Chromium at ${CHROMIUM} (Debian's chromium package)` }, () => {
  let d: TestDaemon;
  let browser: Browser;
  const xterm = readFileSync(join(REPO, 'node_modules/@xterm/xterm/lib/xterm.js'), 'utf8');
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
  });

  it('runs the built bundle with no violation', async () => {
    const page = await open(browser, `${d.url}/`);
    // The dashboard painted from the event stream: the page's scripts, styles and stream all ran.
    await page.waitForSelector('[data-testid="gpu-card"]');
    assert.equal(await page.locator('[data-testid="gpu-card"]').count(), 8);
    assert.deepEqual(await violations(page), []);
    await page.close();
  });

  it('refuses xterm\'s <style> elements without the nonce', async () => {
    const page = await open(browser, `${d.url}/`);
    await page.evaluate(xterm);
    assert.notEqual(await openTerminal(page), 'inline-block');
    assert.ok((await violations(page)).some((v) => v.directive === 'style-src-elem' && v.blocked === 'inline'));
    await page.close();
  });

  it('applies them when the page hands them the nonce of its meta tag', async () => {
    const page = await open(browser, `${d.url}/`);
    await page.evaluate(xterm);
    await page.evaluate(HAND_OUT_NONCE);
    assert.equal(await openTerminal(page), 'inline-block');
    assert.deepEqual(await violations(page), []);
    await page.close();
  });
});
