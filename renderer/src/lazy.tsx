// A component loaded on first use, so the dashboard's first paint does not
// wait for what only other pages need (the form's schema validation pulls in
// zod, about half of this bundle).
import { h, type ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<ComponentType<P>> | null = null;
  return function Lazy(props: P) {
    const [, setTick] = useState(0);
    const [error, setError] = useState<string | null>(null);
    useEffect(() => {
      if (loaded) return;
      let live = true;
      pending ??= load();
      pending.then(
        (c) => {
          loaded = c;
          if (live) setTick((n) => n + 1);
        },
        (err: unknown) => {
          // A new deploy of the bundle while this page was open; let a retry ask again.
          pending = null;
          if (live) setError(err instanceof Error ? err.message : String(err));
        },
      );
      return () => {
        live = false;
      };
    }, []);
    if (loaded) return h(loaded, props);
    if (error) {
      return (
        <p class="error" role="alert">
          This page could not be loaded ({error}). <button type="button" class="btn small" onClick={() => location.reload()}>Reload</button>
        </p>
      );
    }
    return <p class="muted">Loading…</p>;
  };
}
