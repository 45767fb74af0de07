// The UI's single live store and its single event stream, started once by main.tsx.
import { ApiError, authGate, client } from '../api.js';
import { openEventStream, type EventStream } from './event-stream.js';
import { initialState, reduce, type Action, type LiveState } from './reducer.js';
import { createStore, type Store } from './store.js';

export const live: Store<LiveState, Action> = createStore(reduce, initialState);

let stream: EventStream | null = null;

export function startLive(): EventStream {
  stream ??= openEventStream({
    dispatch: live.dispatch,
    // The browser does not say why it gave up; an ordinary call does.
    probe: async () => {
      try {
        await client.listDeployments();
        return 'other';
      } catch (err) {
        return err instanceof ApiError && err.status === 401 ? 'unauthorized' : 'other';
      }
    },
  });
  return stream;
}

// After a login the stream was waiting: open it now.
authGate.subscribe(() => {
  if (!authGate.needed) stream?.reopen();
});
