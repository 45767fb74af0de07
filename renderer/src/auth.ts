// Whether the daemon wants the API key from this browser. Set by any call
// that answers 401, cleared by a successful login; the app shows the login
// view while it is set. A daemon without a key never answers 401, so the view
// never appears there.
export interface AuthGate {
  readonly needed: boolean;
  require(): void;
  satisfied(): void;
  subscribe(listener: () => void): () => void;
}

export function createAuthGate(): AuthGate {
  let needed = false;
  const listeners = new Set<() => void>();
  const set = (v: boolean) => {
    if (v === needed) return;
    needed = v;
    for (const l of [...listeners]) l();
  };
  return {
    get needed() {
      return needed;
    },
    require: () => set(true),
    satisfied: () => set(false),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
