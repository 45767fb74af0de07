// Mounts the log terminal (loaded on first use: xterm is most of the UI's
// bytes, and the dashboard must not wait for it) and its few controls.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DeploymentStatus } from '../../../daemon/contract/api.js';
import { fillPath, queryString, streams } from '../../../daemon/contract/routes.js';
import type { LogStreamState, LogTerminal } from './log-terminal.js';

const STATE_TEXT: Record<LogStreamState, string> = {
  idle: 'Waiting for a replica',
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Refused, retrying…',
  ended: 'Ended: the replica is gone',
};

export function LogsView({ deployment }: { deployment: DeploymentStatus }) {
  const host = useRef<HTMLDivElement>(null);
  const term = useRef<LogTerminal | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  const [state, setState] = useState<LogStreamState>('idle');
  const [follow, setFollow] = useState(true);
  /** The replica the user picked; null follows the deployment (the daemon moves the stream to each new replica). */
  const [picked, setPicked] = useState<string | null>(null);
  /** The replica on screen, as the stream said. */
  const [streaming, setStreaming] = useState<string | null>(null);

  const replicas = deployment.replicas;
  const chosen = picked !== null && replicas.some((r) => r.id === picked) ? picked : null;
  // What following the deployment shows: while following, the replica the
  // stream says it shows; else (or before it has said) the newest.
  const onScreen = chosen === null && streaming !== null && replicas.some((r) => r.id === streaming) ? streaming : null;
  const followed = onScreen ?? replicas.at(-1)?.id ?? null;
  const replica = chosen ?? followed;

  useEffect(() => {
    let gone = false;
    import('./log-terminal.js').then(
      ({ LogTerminal }) => {
        if (gone || !host.current) return;
        term.current = new LogTerminal(host.current, { onState: setState, onFollowChange: setFollow, onReplica: setStreaming });
        setLoaded(true);
      },
      (err: unknown) => !gone && setFailed(err instanceof Error ? err.message : String(err)),
    );
    return () => {
      gone = true;
      term.current?.dispose();
      term.current = null;
    };
  }, []);

  // Open even before any replica exists: the stream shows the first one as it starts.
  useEffect(() => {
    term.current?.show({ deployment: deployment.name, replica: chosen });
  }, [loaded, deployment.name, chosen]);

  const toggleFollow = () => {
    const next = !follow;
    setFollow(next);
    term.current?.setFollow(next);
  };

  const textUrl =
    fillPath(streams.deploymentLogs, { name: deployment.name }) + queryString({ tail: 5000, format: 'text', replica: replica ?? undefined });

  return (
    <div class="dp-logs">
      <div class="dp-toolbar">
        {replicas.length > 1 ? (
          <label class="dp-field dp-inline">
            <span>Replica</span>
            <select value={replica ?? ''} onChange={(e) => setPicked(e.currentTarget.value === followed ? null : e.currentTarget.value)}>
              {replicas.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.id} ({r.state})
                </option>
              ))}
            </select>
          </label>
        ) : replica ? (
          <span class="dp-muted">{replica}</span>
        ) : null}
        <button type="button" class="dp-toggle" aria-pressed={follow} onClick={toggleFollow} title="Keep the newest line in view">
          Follow
        </button>
        <a href={textUrl} target="_blank" rel="noopener noreferrer">
          Open as text
        </a>
        <span class={`dp-stream dp-stream-${state}`} role="status">
          {failed ? `The terminal could not load: ${failed}` : loaded ? STATE_TEXT[state] : 'Loading the terminal…'}
        </span>
      </div>
      {replica === null ? (
        <p class="dp-note">No replica right now: its engine's output appears here as soon as one starts.</p>
      ) : null}
      <div class="dp-terminal" ref={host} role="region" aria-label={`Engine log of ${deployment.name}`} />
    </div>
  );
}
