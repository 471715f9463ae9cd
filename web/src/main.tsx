// The dashboard's entry: finds out who is logged in, shows the login page or the app, routes between pages and
// starts the live stream. Every value from events reaches the DOM through Preact as text, never as HTML.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { api, setCsrf, setUnauthorizedHandler } from './lib/api.js';
import { navigate, useLocation } from './lib/router.js';
import { live } from './lib/stream.js';
import type { Me } from './lib/types.js';
import { Layout } from './components/layout.js';
import { LoginPage } from './pages/login.js';
import { OverviewPage } from './pages/overview.js';
import { LogsPage } from './pages/logs.js';
import { AlertsPage } from './pages/alerts.js';
import { AlertPage } from './pages/alert.js';
import { IncidentsPage, IncidentPage } from './pages/incidents.js';
import { MapPage } from './pages/map.js';
import { HealthPage } from './pages/health.js';
import { RulesPage } from './pages/rules.js';
import { ModelsPage } from './pages/models.js';

function Page(props: { path: string; me: Me }) {
  const { path, me } = props;
  let m: RegExpExecArray | null;
  if (path === '/' || path === '/overview') return <OverviewPage />;
  if (path === '/logs') return <LogsPage />;
  if (path === '/alerts') return <AlertsPage me={me} />;
  if ((m = /^\/alerts\/([^/]+)$/.exec(path))) return <AlertPage id={decodeURIComponent(m[1]!)} me={me} />;
  if (path === '/incidents') return <IncidentsPage />;
  if ((m = /^\/incidents\/([^/]+)$/.exec(path))) return <IncidentPage id={decodeURIComponent(m[1]!)} me={me} />;
  if (path === '/map') return <MapPage />;
  if (path === '/health') return <HealthPage />;
  if (path === '/rules') return <RulesPage me={me} />;
  if (path === '/models') return <ModelsPage me={me} />;
  return <div class="state state-empty">No page here. Pick one on the left.</div>;
}

function App() {
  const { path } = useLocation();
  const [me, setMe] = useState<Me | null | undefined>(undefined);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      live.stop();
      setMe(null);
    });
    api<Me>('/api/v1/session').then(
      (who) => {
        setCsrf(who.csrf);
        setMe(who);
      },
      () => setMe(null),
    );
  }, []);

  useEffect(() => {
    if (me) live.start();
    else if (me === null && path !== '/login') navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  }, [me]);

  if (me === undefined) return <div class="boot">Vigil</div>;
  if (me === null || path === '/login') {
    return (
      <LoginPage
        onLogin={(who) => {
          setCsrf(who.csrf);
          setMe(who);
          const next = new URLSearchParams(location.search).get('next');
          // Only a path on this site: an attacker-made ?next= must not send the user elsewhere.
          navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/overview', { replace: true });
        }}
      />
    );
  }
  return (
    <Layout
      me={me}
      path={path}
      onLogout={async () => {
        await api('/api/v1/session', { method: 'DELETE' }).catch(() => undefined);
        live.stop();
        setMe(null);
      }}
    >
      <Page path={path} me={me} />
    </Layout>
  );
}

render(<App />, document.getElementById('app')!);
