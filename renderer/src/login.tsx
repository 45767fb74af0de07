// The daemon has an API key and this browser has no session yet: trade the
// key for the daemon's session cookie once (the key itself is not stored here).
import { useState } from 'preact/hooks';
import { ApiError, authGate, client } from './api.js';
import { errorText } from './use-action.js';

export function Login() {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await client.createSession({ body: { apiKey: key } });
      authGate.satisfied();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'That key is not the one the daemon has.' : errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form class="card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to Berth</h1>
        <p class="muted">
          This daemon was started with an API key (<code>BERTH_API_KEY</code> or <code>apiKey</code> in settings.json). Enter it once;
          this browser then keeps a session cookie.
        </p>
        <label class="field">
          <span>API key</span>
          <input
            type="password"
            autocomplete="current-password"
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'login-error' : undefined}
            required
          />
        </label>
        {error && (
          <p id="login-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button class="btn primary" type="submit" disabled={busy || !key}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
