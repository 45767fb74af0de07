// Start, stop, restart, edit, copy as new, delete: each a call through the one
// client, with its own busy state and the daemon's message when it refuses.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DeploymentStatus } from '../../../daemon/contract/api.js';
import type { Client } from '../../../daemon/contract/client.js';

type Action = 'start' | 'stop' | 'restart' | 'delete';

const VERB: Record<Action, string> = { start: 'Starting', stop: 'Stopping', restart: 'Restarting', delete: 'Deleting' };

/** Which lifecycle buttons make sense now (the daemon still has the last word). */
export function allowedActions(d: DeploymentStatus): Record<'start' | 'stop' | 'restart', boolean> {
  const active = d.replicas.some((r) => r.state === 'pending' || r.state === 'pulling' || r.state === 'starting' || r.state === 'ready');
  return {
    start: d.desired === 'stopped' || d.state === 'failed',
    stop: d.desired === 'running' || active,
    restart: d.desired === 'running',
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function DeploymentActions({ deployment, client }: { deployment: DeploymentStatus; client: Client }) {
  const name = deployment.name;
  const [busy, setBusy] = useState<Action | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const alive = useRef(true);
  const confirmButton = useRef<HTMLButtonElement>(null);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );
  // The question takes the focus once, so a keyboard user answers it next.
  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);

  async function run(action: Action) {
    setBusy(action);
    setError(null);
    const params = { params: { name } };
    try {
      if (action === 'start') await client.startDeployment(params);
      else if (action === 'stop') await client.stopDeployment(params);
      else if (action === 'restart') await client.restartDeployment(params);
      else {
        await client.deleteDeployment(params);
        location.hash = '#/';
      }
    } catch (err) {
      if (alive.current) setError(`${VERB[action]} ${name} failed: ${messageOf(err)}`);
    } finally {
      if (alive.current) {
        setBusy(null);
        setConfirming(false);
      }
    }
  }

  const allowed = allowedActions(deployment);
  const enc = encodeURIComponent(name);
  return (
    <div class="dp-actions">
      <div class="dp-buttons" role="group" aria-label="Actions">
        <button type="button" class="dp-primary" disabled={busy !== null || !allowed.start} onClick={() => run('start')}>
          {busy === 'start' ? 'Starting…' : 'Start'}
        </button>
        <button type="button" disabled={busy !== null || !allowed.stop} onClick={() => run('stop')}>
          {busy === 'stop' ? 'Stopping…' : 'Stop'}
        </button>
        <button type="button" disabled={busy !== null || !allowed.restart} onClick={() => run('restart')}>
          {busy === 'restart' ? 'Restarting…' : 'Restart'}
        </button>
        <a class="dp-button" href={`#/deployments/${enc}/edit`}>
          Edit
        </a>
        <a class="dp-button" href={`#/new?from=${enc}`}>
          Copy as new
        </a>
        <button type="button" class="dp-danger" disabled={busy !== null} onClick={() => setConfirming(true)} aria-expanded={confirming}>
          Delete
        </button>
      </div>
      {confirming ? (
        <div class="dp-confirm" role="alertdialog" aria-label={`Delete ${name}?`}>
          <p>
            Delete <strong>{name}</strong>? Its replicas stop and its settings are removed; log files stay on disk.
          </p>
          <div class="dp-buttons">
            <button type="button" class="dp-danger" disabled={busy !== null} onClick={() => run('delete')} ref={confirmButton}>
              {busy === 'delete' ? 'Deleting…' : `Delete ${name}`}
            </button>
            <button type="button" disabled={busy !== null} onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      {error ? (
        <p class="dp-err-text" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
