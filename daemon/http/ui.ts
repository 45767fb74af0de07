// The browser UI, served from the daemon's own origin: the bundle Vite builds
// into dist/renderer (index.html + assets/ with hashed names). Only `/` and
// `/index.html` are the page (the UI routes with hashes, `/#/deployments/x`),
// and `/assets/*` its files; every other path falls through to the 404 in our
// envelope. No API key is needed for these: the page logs in through
// /api/v1/session when the API answers 401. The Host and Origin checks run
// before this, as for the API.
//
// express.static (serve-static and send) serves /assets: it refuses `..` in
// the decoded path (so `/assets/../x` and `/assets/%2e%2e/x` never leave the
// folder), ignores dotfiles, answers GET and HEAD only, lists no folder with
// `index: false` and `redirect: false`, and falls through on everything it does
// not serve, so the 404 stays ours. Its conditional and range requests come
// free. index.html is not served by it: each answer carries a fresh nonce.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import express, { Router, type Response } from 'express';

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
];

/**
 * The page's policy. @xterm/xterm 6 writes its theme, row sizes and scrollbar
 * colours into <style> elements it creates at run time (Viewport.ts,
 * DomRenderer.ts) and has no option to avoid it, so style-src carries a
 * per-response nonce: the page reads it from <meta property="csp-nonce">
 * (Vite's convention) and sets it on those elements. Scripts stay 'self'
 * only. uPlot needs nothing: it styles through the CSSOM, which CSP leaves be.
 * Style attributes stay refused: xterm writes one only for 24-bit colour
 * cells, which then show in the default colour.
 */
export function contentSecurityPolicy(nonce?: string): string {
  return CSP.map((d) => (nonce && d.startsWith('style-src ') ? `${d} 'nonce-${nonce}'` : d)).join('; ');
}

function secure(res: Response, nonce?: string): void {
  res.setHeader('content-security-policy', contentSecurityPolicy(nonce));
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
}

/** index.html with the nonce the page hands to the <style> elements it creates. */
export function withNonce(html: string, nonce: string): string {
  const meta = `<meta property="csp-nonce" nonce="${nonce}">`;
  const head = /<head[^>]*>/i.exec(html);
  return head ? html.slice(0, head.index + head[0].length) + meta + html.slice(head.index + head[0].length) : meta + html;
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Berth</title></head>
<body><h1>Berth's UI is not built</h1>
<p>The daemon is running, but the browser UI was not found beside it. In the Berth checkout, run <code>npm run build</code>, then reload this page.</p>
<p>The API (<code>/api/v1</code>) and the OpenAI endpoint (<code>/v1</code>) work without it.</p></body></html>
`;

/** `dir` is the built bundle (dist/renderer under the package root). */
export function uiRouter(dir: string): Router {
  const r = Router({ strict: true, caseSensitive: true });
  const page = async (_req: unknown, res: Response) => {
    let html: string;
    try {
      html = await readFile(join(dir, 'index.html'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      secure(res);
      res.status(503).setHeader('cache-control', 'no-cache');
      res.type('html').send(NOT_BUILT);
      return;
    }
    const nonce = randomBytes(16).toString('base64');
    secure(res, nonce);
    // Revalidated every time: it names the hashed assets of the build it came from.
    res.setHeader('cache-control', 'no-cache');
    res.type('html').send(withNonce(html, nonce));
  };
  r.get('/', page);
  r.get('/index.html', page);
  r.use(
    '/assets',
    express.static(join(dir, 'assets'), {
      index: false,
      redirect: false,
      dotfiles: 'ignore',
      fallthrough: true,
      // Hashed names: a new build is new URLs, so a file never changes under its name.
      immutable: true,
      maxAge: '1y',
      setHeaders: (res) => secure(res),
    }),
  );
  return r;
}
