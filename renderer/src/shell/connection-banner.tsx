// What the user sees while the event stream is down: briefly "reconnecting…"
// (a daemon restart), then how to start the daemon. The last known state stays
// on screen below it, marked as stale by this banner.
import type { Connection } from '../store/reducer.js';
import { Copyable } from './copy.js';

export function ConnectionBanner({ connection, synced }: { connection: Connection; synced: boolean }) {
  if (connection === 'reconnecting') {
    return (
      <div class="banner warn" role="status">
        {synced ? 'Reconnecting to the Berth daemon…' : 'Connecting to the Berth daemon…'}
      </div>
    );
  }
  if (connection !== 'unreachable') return null;
  return (
    <div class="banner err" role="alert">
      <strong>Daemon unreachable.</strong> The Berth daemon is not answering at {location.host}. Start it with{' '}
      <Copyable text="berth serve" label="Copy berth serve" /> (or <Copyable text="npm start" label="Copy npm start" /> in a
      checkout); this page reconnects by itself.{synced && ' What you see below may be out of date.'}
    </div>
  );
}
