// Views read the live state through this hook and re-render on every change.
// They never fetch state themselves; actions (start, stop…) call the client
// and the change comes back on the event stream.
import { useEffect, useState } from 'preact/hooks';
import type { Store } from './store.js';

export function useStore<S, A>(store: Store<S, A>): S {
  const [state, setState] = useState(store.get());
  useEffect(() => {
    // Catch a change between the first render and this subscription.
    setState(store.get());
    return store.subscribe(() => setState(store.get()));
  }, [store]);
  return state;
}
