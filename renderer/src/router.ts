// Hash routes, so the daemon serves one page at `/` and every view has a URL
// a user can bookmark or reload. Pure: parse and build, no DOM.
export type Route =
  | { page: 'dashboard' }
  | { page: 'new'; from: string | null }
  | { page: 'deployment'; name: string }
  | { page: 'edit'; name: string }
  | { page: 'settings' }
  | { page: 'not-found'; hash: string };

function decode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** `#/deployments/qwen/edit` → `{page: 'edit', name: 'qwen'}`. */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [path = '', query = ''] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return { page: 'dashboard' };
  if (parts[0] === 'new' && parts.length === 1) {
    const from = new URLSearchParams(query).get('from');
    return { page: 'new', from: from || null };
  }
  if (parts[0] === 'settings' && parts.length === 1) return { page: 'settings' };
  if (parts[0] === 'deployments' && parts[1] !== undefined) {
    const name = decode(parts[1]);
    if (name !== null && parts.length === 2) return { page: 'deployment', name };
    if (name !== null && parts.length === 3 && parts[2] === 'edit') return { page: 'edit', name };
  }
  return { page: 'not-found', hash };
}

export const href = {
  dashboard: () => '#/',
  newDeployment: (from?: string) => (from ? `#/new?from=${encodeURIComponent(from)}` : '#/new'),
  deployment: (name: string) => `#/deployments/${encodeURIComponent(name)}`,
  edit: (name: string) => `#/deployments/${encodeURIComponent(name)}/edit`,
  settings: () => '#/settings',
};
