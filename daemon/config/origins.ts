// Which browser origins may drive the daemon (Ollama's OLLAMA_ORIGINS
// convention): entries are origins with `*` wildcards, `*` alone is any
// origin, and they add to the defaults (the daemon's own UI and loopback).
// A web page the user merely visits must not start, evict or load models, and
// browsers send some cross-origin POSTs (text/plain) without a preflight, so
// the Origin itself is the check. Pure: settings in, a predicate out.

/** Loopback pages (a dev server on localhost:3000, a notebook) are the user's own. */
const LOOPBACK_ORIGINS = ['localhost', '127.0.0.1', '[::1]'].flatMap((h) => [`http://${h}:*`, `https://${h}:*`]);

// scheme://host[:port], the form browsers serialize an Origin in: no path, no
// trailing slash, no userinfo. Hosts may carry `*` (`*.example.com`), and so
// may ports (`localhost:*`). Non-http schemes (app://, tauri://) are allowed.
const PATTERN = /^[a-z][a-z0-9+.-]*:\/\/(?:\[[0-9a-f:.*]+\]|[a-z0-9_.*-]+)(?::(?:\d{1,5}|\*))?$/;

/** Why `entry` is not an allowed-origin pattern, or null when it is one. */
export function originPatternError(entry: string): string | null {
  if (entry === '*' || entry === 'null') return null;
  if (PATTERN.test(entry.toLowerCase())) return null;
  return `"${entry}" is not an origin: expected scheme://host[:port] with optional * wildcards (e.g. https://*.example.com, http://localhost:*), "*" or "null"`;
}

/**
 * The defaults: loopback pages, plus the daemon's own UI at its listening
 * address and at each allowedHosts name (the Host check accepts those, so a
 * page served there is our own). The Electron window loads the UI from the
 * daemon's own http origin too, so the desktop app needs no app:// or file://
 * entry; add one here if it ever loads the UI from disk.
 */
export function defaultOrigins(settings: { host: string; port: number; allowedHosts: readonly string[] }): string[] {
  const own = new Set<string>();
  // Port 0 means "any free port", known only after listen(); tests bind loopback, which the defaults cover.
  if (settings.port !== 0) {
    const names = [settings.host, ...settings.allowedHosts].filter((h) => h !== '0.0.0.0' && h !== '::');
    for (const name of names) own.add(`http://${name.includes(':') && !name.startsWith('[') ? `[${name}]` : name}:${settings.port}`);
  }
  return [...LOOPBACK_ORIGINS, ...own];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** One pattern as an anchored expression; `:*` also matches an origin on its scheme's default port (no port shown). */
function compile(pattern: string): RegExp {
  const p = pattern.toLowerCase();
  const anyPort = p.endsWith(':*');
  const body = anyPort ? p.slice(0, -2) : p;
  // `*` never spans a `/`: a browser's Origin has none after the scheme, so this only keeps a pattern from matching a URL.
  const source = escapeRegExp(body).replace(/\*/g, '[^/]*');
  return new RegExp(`^${source}${anyPort ? '(?::\\d+)?' : ''}$`);
}

/**
 * Whether a request's Origin may use the daemon. `*` allows every origin but
 * `null` (sandboxed iframes, file:// pages, redirects across origins): that one
 * is anonymous, so it passes only when listed as `null` itself.
 */
export function originPolicy(settings: {
  host: string;
  port: number;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
}): (origin: string) => boolean {
  const entries = [...settings.allowedOrigins, ...defaultOrigins(settings)];
  const any = entries.includes('*');
  const allowNull = entries.includes('null');
  const exact = new Set<string>();
  const wild: RegExp[] = [];
  for (const e of entries) {
    if (e === '*' || e === 'null') continue;
    if (e.includes('*')) wild.push(compile(e));
    else exact.add(e.toLowerCase());
  }
  return (origin) => {
    if (origin === 'null') return allowNull;
    if (any) return true;
    const o = origin.toLowerCase();
    return exact.has(o) || wild.some((r) => r.test(o));
  };
}
