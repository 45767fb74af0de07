// A store small enough to read in one go: state, a pure reducer, listeners.
// Views subscribe through use-live.ts; nothing else writes to it but the
// event-stream adapter.
export interface Store<S, A> {
  get(): S;
  dispatch(action: A): void;
  /** Called after every change (not for actions that return the same state). Returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
}

export function createStore<S, A>(reduce: (state: S, action: A) => S, initial: S): Store<S, A> {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => state,
    dispatch(action) {
      const next = reduce(state, action);
      if (next === state) return;
      state = next;
      for (const l of [...listeners]) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
