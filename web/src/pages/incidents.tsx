// Incidents: alerts about one entity told as one story — the list, and one incident's timeline, evidence alerts and
// confidence explanation. The incidents API may not exist yet on this server; the page says so.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, qs } from '../lib/api.js';
import { ago, label, num, time } from '../lib/format.js';
import { useLive, useLoad } from '../lib/hooks.js';
import { setParams, useLocation } from '../lib/router.js';
import { STATUSES, type Alert, type Incident, type Me } from '../lib/types.js';
import { Confidence, Empty, Failure, Link, Loading, Panel, SeverityBadge, StatusBadge } from '../components/ui.js';
import { canTriage } from './alerts.js';
import { Timeline } from './alert.js';

const STAGES = ['activity', 'reconnaissance', 'credential_access', 'initial_access', 'privilege_escalation', 'compromise'];

function Stage(props: { stage: string }) {
  const at = STAGES.indexOf(props.stage);
  return (
    <span class="stage" title={label(props.stage)}>
      {STAGES.map((s, i) => (
        <span key={s} class={`stage-step ${i <= at ? 'on' : ''} ${i === at ? 'now' : ''}`} />
      ))}
      <span class="stage-label">{label(props.stage)}</span>
    </span>
  );
}

export function IncidentsPage() {
  const { params } = useLocation();
  const status = params.get('status') ?? 'open';
  const loaded = useLoad((signal) => api<{ total: number; incidents: Incident[] }>(`/api/v1/incidents${qs({ status, limit: 200 })}`, { signal }), [status]);
  useLive('alert', () => loaded.reload());
  return (
    <div class="page" data-testid="page-incidents">
      <header class="page-head">
        <h1>Incidents</h1>
        <div class="page-actions">
          <select aria-label="Status" value={status} onChange={(e) => setParams({ status: (e.currentTarget as HTMLSelectElement).value })}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </select>
        </div>
      </header>
      <Panel title={loaded.data ? `${num(loaded.data.total)} incidents` : 'Incidents'} class="panel-table">
        {loaded.error ? (
          <Failure error={loaded.error} what="Incidents" />
        ) : !loaded.data ? (
          <Loading what="incidents" />
        ) : loaded.data.incidents.length === 0 ? (
          <Empty>No incidents with this status.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th>Severity</th>
                  <th>Incident</th>
                  <th>Entity</th>
                  <th>Stage</th>
                  <th class="num">Alerts</th>
                  <th>Confidence</th>
                  <th>Status</th>
                  <th>Last seen</th>
                </tr>
              </thead>
              <tbody>
                {loaded.data.incidents.map((i) => (
                  <tr key={i.id}>
                    <td>
                      <SeverityBadge severity={i.severity} />
                    </td>
                    <td>
                      <Link href={`/incidents/${encodeURIComponent(i.id)}`}>{i.title}</Link>
                    </td>
                    <td class="mono">{i.entity.value}</td>
                    <td>
                      <Stage stage={i.stage} />
                    </td>
                    <td class="num">{i.alerts.length}</td>
                    <td>
                      <Confidence value={i.confidence} />
                    </td>
                    <td>
                      <StatusBadge status={i.status} />
                    </td>
                    <td>{ago(i.last_seen)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  );
}

export function IncidentPage(props: { id: string; me: Me }) {
  const loaded = useLoad(async (signal) => {
    const incident = await api<Incident>(`/api/v1/incidents/${encodeURIComponent(props.id)}`, { signal });
    const alerts = await Promise.all(incident.alerts.slice(0, 50).map((id) => api<Alert>(`/api/v1/alerts/${encodeURIComponent(id)}`, { signal }).catch(() => undefined)));
    return { incident, alerts: alerts.filter((a): a is Alert => a !== undefined) };
  }, [props.id]);
  const [incident, setIncident] = useState<Incident | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [note, setNote] = useState('');
  useEffect(() => setIncident(loaded.data?.incident), [loaded.data]);
  if (loaded.error) return <Failure error={loaded.error} what="Incidents" />;
  if (!incident || !loaded.data) return <Loading what="the incident" />;
  const patch = async (body: Record<string, unknown>) => {
    try {
      setIncident(await api<Incident>(`/api/v1/incidents/${encodeURIComponent(props.id)}`, { method: 'PATCH', body }));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'The change failed');
    }
  };
  return (
    <div class="page" data-testid="page-incident">
      <header class="page-head">
        <div>
          <div class="crumbs">
            <Link href="/incidents">Incidents</Link> / <span class="mono">{incident.id.slice(0, 8)}</span>
          </div>
          <h1 class="alert-title">
            <SeverityBadge severity={incident.severity} /> {incident.title}
          </h1>
          <p class="lead">
            {incident.entity.field}: <span class="mono">{incident.entity.value}</span> · {time(incident.first_seen)} → {time(incident.last_seen)}
          </p>
        </div>
        <div class="page-actions">
          <Stage stage={incident.stage} />
          <StatusBadge status={incident.status} />
        </div>
      </header>
      {error ? <div class="banner banner-bad">{error}</div> : null}
      <div class="grid grid-2-1">
        <div class="stack">
          <Panel title="Timeline">
            <ol class="timeline">
              {incident.timeline.map((t, i) => (
                <li key={i}>
                  <span class={`tl-dot sevbg-${t.severity}`} />
                  <div>
                    <SeverityBadge severity={t.severity} /> <Link href={`/alerts/${encodeURIComponent(t.alert)}`}>{t.rule}</Link> <span class="muted small">{label(t.stage)}</span>
                    <div>{t.summary}</div>
                    <div class="muted small">{time(t.at)}</div>
                  </div>
                </li>
              ))}
            </ol>
          </Panel>
          <Panel title={`Evidence: ${loaded.data.alerts.length} alerts`} class="panel-table">
            <table class="table">
              <tbody>
                {loaded.data.alerts.map((a) => (
                  <tr key={a.id}>
                    <td>
                      <SeverityBadge severity={a.severity} />
                    </td>
                    <td>
                      <Link href={`/alerts/${encodeURIComponent(a.id)}`}>{a.rule.title}</Link>
                      <div class="muted small">{a.reason}</div>
                    </td>
                    <td class="num">{num(a.count)}</td>
                    <td>
                      <Confidence value={a.confidence} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Panel>
        </div>
        <div class="stack">
          <Panel title="Confidence">
            <Confidence value={incident.confidence} />
            <p class="explain">{incident.confidence_explanation}</p>
          </Panel>
          {canTriage(props.me) ? (
            <Panel title="Triage">
              <div class="seg" role="group" aria-label="Status">
                {STATUSES.map((s) => (
                  <button key={s} type="button" class={`seg-btn ${incident.status === s ? 'on' : ''}`} onClick={() => void patch({ status: s })}>
                    {label(s)}
                  </button>
                ))}
              </div>
              <button type="button" class="btn btn-ghost btn-sm" onClick={() => void patch({ assignee: props.me.user })}>
                Assign to me {incident.assignee ? `(now ${incident.assignee})` : ''}
              </button>
              <form
                class="stack"
                onSubmit={async (e) => {
                  e.preventDefault();
                  if (!note.trim()) return;
                  await patch({ note: note.trim() });
                  setNote('');
                }}
              >
                <label class="field-label" for="incident-note">
                  Note
                </label>
                <textarea id="incident-note" rows={3} value={note} placeholder="What did you find? What was done?" onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)} />
                <button type="submit" class="btn btn-primary btn-sm" data-testid="incident-add-note" disabled={!note.trim()}>
                  Add note
                </button>
              </form>
            </Panel>
          ) : null}
          <Panel title="History">
            <Timeline entries={incident.history} />
          </Panel>
        </div>
      </div>
    </div>
  );
}
