// One button's call to the daemon: busy while it runs, its error kept to show
// inline until the next try. The result comes back on the event stream, so
// the call's answer is not used for state.
import { useCallback, useState } from 'preact/hooks';
import { ApiError, UnreachableError } from './api.js';

export function errorText(err: unknown): string {
  if (err instanceof ApiError || err instanceof UnreachableError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

export interface Action {
  busy: string | null;
  error: string | null;
  run(label: string, call: () => Promise<unknown>): Promise<boolean>;
}

export function useAction(): Action {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (label: string, call: () => Promise<unknown>) => {
    setBusy(label);
    setError(null);
    try {
      await call();
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    } finally {
      setBusy(null);
    }
  }, []);
  return { busy, error, run };
}
