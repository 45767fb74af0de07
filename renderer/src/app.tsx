import { api } from '../../daemon/contract/routes.js';

export function App() {
  return (
    <main>
      <h1>Berth</h1>
      <p>{api.health.path}</p>
    </main>
  );
}
