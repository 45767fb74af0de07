// The shell: header, connection banner and the page the hash names. Every
// page reads the one live store; none fetches state on its own.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { StreamEvent } from '../../daemon/contract/live.js';
import { authGate, client } from './api.js';
import { Dashboard } from './dashboard/dashboard.js';
import { DeploymentPage } from './deployment/page.js';
import { lazy } from './lazy.js';
import { Login } from './login.js';
import { href, type Route } from './router.js';
import { ConnectionBanner } from './shell/connection-banner.js';
import { Header } from './shell/header.js';
import { overallState, sharesOf } from './store/derive.js';
import { live } from './store/live.js';
import type { LiveState } from './store/reducer.js';
import { useStore } from './store/use-live.js';
import { useRoute } from './use-route.js';

const NO_NOTICES: StreamEvent[] = [];

const DeploymentFormRoute = lazy(() => import('./form/deployment-form.js').then((m) => m.DeploymentFormRoute));
const SettingsPage = lazy(() => import('./settings/settings-page.js').then((m) => m.SettingsPage));

function useAuthNeeded(): boolean {
  const [needed, setNeeded] = useState(authGate.needed);
  useEffect(() => authGate.subscribe(() => setNeeded(authGate.needed)), []);
  return needed;
}

function titleOf(route: Route): string {
  switch (route.page) {
    case 'dashboard':
      return 'Dashboard';
    case 'new':
      return 'New deployment';
    case 'deployment':
      return route.name;
    case 'edit':
      return `Edit ${route.name}`;
    case 'settings':
      return 'Settings';
    case 'not-found':
      return 'Not found';
  }
}

function Page({ route, state }: { route: Route; state: LiveState }) {
  switch (route.page) {
    case 'dashboard':
      return <Dashboard state={state} />;
    case 'new':
    case 'edit':
      return <DeploymentFormRoute route={route} deployments={state.deployments} synced={state.synced} inventory={state.gpus} />;
    case 'deployment':
      return (
        <DeploymentPage
          name={route.name}
          deployment={state.deployments.find((d) => d.name === route.name)}
          notices={state.notices[route.name] ?? NO_NOTICES}
          stats={state.stats[route.name]}
          gpuShares={sharesOf(state.usage, route.name)}
          client={client}
        />
      );
    case 'settings':
      return <SettingsPage />;
    case 'not-found':
      return (
        <div class="card empty">
          <h1>Nothing here</h1>
          <p>
            <code>{route.hash}</code> is not a page of Berth. <a href={href.dashboard()}>Go to the dashboard</a>.
          </p>
        </div>
      );
  }
}

export function App() {
  const state = useStore(live);
  const route = useRoute();
  const authNeeded = useAuthNeeded();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  useEffect(() => {
    document.title = `${titleOf(route)} · Berth`;
    // A new page: move focus to it, as a page load would, so keyboard and
    // screen-reader users start there rather than on the link they left.
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [route]);

  if (authNeeded) return <Login />;
  return (
    <>
      <Header overall={overallState(state)} route={route} endpoint={`${location.origin}/v1`} />
      <ConnectionBanner connection={state.connection} synced={state.synced} />
      <main ref={main} tabIndex={-1}>
        <Page route={route} state={state} />
      </main>
    </>
  );
}
