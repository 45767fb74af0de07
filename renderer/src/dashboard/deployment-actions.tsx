// Start, stop and restart, inline: each disabled where it means nothing, busy
// while its call runs, its error shown beside it.
import type { DeploymentStatus } from '../../../daemon/contract/api.js';
import { client } from '../api.js';
import { lifecycleActions } from '../store/derive.js';
import { useAction } from '../use-action.js';

const BUSY = { Start: 'Starting…', Stop: 'Stopping…', Restart: 'Restarting…' } as const;

export function DeploymentActions({ d }: { d: DeploymentStatus }) {
  const action = useAction();
  const can = lifecycleActions(d);
  const params = { params: { name: d.name } };
  const button = (label: keyof typeof BUSY, enabled: boolean, call: () => Promise<unknown>) => (
    <button
      type="button"
      class="btn small"
      aria-label={`${label} ${d.name}`}
      disabled={!enabled || action.busy !== null}
      aria-busy={action.busy === label ? true : undefined}
      onClick={() => void action.run(label, call)}
    >
      {action.busy === label ? BUSY[label] : label}
    </button>
  );
  return (
    <div class="actions">
      {button('Start', can.start, () => client.startDeployment(params))}
      {button('Stop', can.stop, () => client.stopDeployment(params))}
      {button('Restart', can.restart, () => client.restartDeployment(params))}
      {action.error && (
        <span class="error" role="alert">
          {action.error}
        </span>
      )}
    </div>
  );
}
