// The bar on every page: the name, the daemon's overall state, the endpoint
// any OpenAI client uses, and the navigation.
import type { Overall } from '../store/derive.js';
import type { Route } from '../router.js';
import { href } from '../router.js';
import { Copyable } from './copy.js';

const OVERALL_TEXT: Record<Overall, string> = {
  connecting: 'connecting…',
  unreachable: 'daemon unreachable',
  error: 'a deployment failed',
  starting: 'starting',
  serving: 'serving',
  idle: 'idle',
};

const NAV: { label: string; href: string; current: (r: Route) => boolean }[] = [
  { label: 'Dashboard', href: href.dashboard(), current: (r) => r.page === 'dashboard' || r.page === 'deployment' },
  { label: 'New deployment', href: href.newDeployment(), current: (r) => r.page === 'new' },
  { label: 'Settings', href: href.settings(), current: (r) => r.page === 'settings' },
];

export function Header({ overall, route, endpoint }: { overall: Overall; route: Route; endpoint: string }) {
  return (
    <header class="app-header">
      <div class="brand-row">
        <a class="brand" href={href.dashboard()}>
          Berth
        </a>
        <span class={`overall overall-${overall}`} role="status" aria-label={`Berth is ${OVERALL_TEXT[overall]}`}>
          <span class="dot" aria-hidden="true" />
          {OVERALL_TEXT[overall]}
        </span>
        <span class="endpoint">
          <span class="muted">Endpoint</span>
          <Copyable text={endpoint} label="Copy endpoint URL" />
        </span>
      </div>
      <nav aria-label="Main">
        {NAV.map((n) => (
          <a href={n.href} aria-current={n.current(route) ? 'page' : undefined}>
            {n.label}
          </a>
        ))}
      </nav>
    </header>
  );
}
