// xterm's DOM renderer styles the terminal through <style> elements it
// creates as it opens (cell size, the theme's colours, the scrollbar). The
// daemon serves the UI under a CSP whose style-src is 'self', which blocks
// such elements unless they carry the response's nonce. The page learns the
// nonce the way Vite's `html.cspNonce` publishes it, `<meta
// property="csp-nonce" nonce="...">`, and stamps it on the style elements
// created while xterm opens. xterm creates each of them once, in open(), and
// only rewrites their text later, which the nonce then covers.

/** The page's CSP nonce, or null when the page has none (no CSP, or the dev server). */
export function cspNonce(doc: Document): string | null {
  // The `nonce` property, not the attribute: browsers hide the attribute's value from scripts.
  const meta = doc.querySelector<HTMLMetaElement>('meta[property="csp-nonce"]');
  return meta?.nonce || null;
}

/** Runs `fn` with every <style> element `doc` creates meanwhile carrying the nonce. */
export function withStyleNonce<T>(doc: Document, fn: () => T): T {
  const nonce = cspNonce(doc);
  if (nonce === null) return fn();
  const create = doc.createElement;
  doc.createElement = function (this: Document, tag: string, options?: ElementCreationOptions): HTMLElement {
    const el = create.call(this, tag, options);
    if (tag.toLowerCase() === 'style') el.nonce = nonce;
    return el;
  } as typeof doc.createElement;
  try {
    return fn();
  } finally {
    // The override is an own property shadowing Document.prototype's method: removing it restores that.
    delete (doc as { createElement?: unknown }).createElement;
  }
}
