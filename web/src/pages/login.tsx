// The login page: user name and password against Vigil's users; the session lives in an HttpOnly cookie.
import { useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api.js';
import type { Me } from '../lib/types.js';

export function LoginPage(props: { onLogin: (me: Me) => void }) {
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  return (
    <div class="login">
      <form
        class="login-card"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget as HTMLFormElement);
          setBusy(true);
          setError(undefined);
          try {
            const me = await api<Me>('/api/v1/session', { method: 'POST', body: { username: String(form.get('username') ?? ''), password: String(form.get('password') ?? '') } });
            props.onLogin(me);
          } catch (err) {
            setError(err instanceof ApiError ? err.message : 'Login failed');
          } finally {
            setBusy(false);
          }
        }}
      >
        <div class="brand brand-lg">
          <img src="/assets/favicon.svg" alt="" width={36} height={36} />
          <span>Vigil</span>
        </div>
        <p class="muted">Sign in to watch your logs, alerts and hosts.</p>
        <label>
          User name
          <input name="username" autocomplete="username" required autofocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        {error ? (
          <div class="form-error" role="alert" data-testid="login-error">
            {error}
          </div>
        ) : null}
        <button class="btn btn-primary btn-block" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="hint">
          The first start printed the <code>admin</code> password (or set <code>VIGIL_ADMIN_PASSWORD</code>). Add users with <code>vigil user add NAME --role analyst</code>.
        </p>
      </form>
    </div>
  );
}
