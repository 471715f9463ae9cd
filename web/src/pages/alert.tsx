// One alert: what fired and why, its confidence explained, triage (status, verdict, assignee, notes), the evidence
// events and the audit trail. The rule's author is shown, as the Sigma Detection Rule License requires.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api.js';
import { ago, field, label, num, show, term, time } from '../lib/format.js';
import { useLive, useLoad } from '../lib/hooks.js';
import { STATUSES, VERDICTS, type Alert, type Me } from '../lib/types.js';
import { Confidence, Empty, Failure, Link, Loading, Panel, SeverityBadge, StatusBadge } from '../components/ui.js';
import { canTriage } from './alerts.js';

export function Timeline(props: { entries: { at: string; by: string; action: string; from?: string | null; to?: string | null; note?: string }[] }) {
  return (
    <ol class="timeline">
      {props.entries.map((h, i) => (
        <li key={i}>
          <span class="tl-dot" />
          <div>
            <strong>{h.by}</strong> {h.action === 'note' ? 'added a note' : h.action === 'created' ? 'created it' : `set ${label(h.action)}`}
            {h.action !== 'note' && h.action !== 'created' ? (
              <>
                {' '}
                <span class="muted">{label(h.from ?? 'none')}</span> → <strong>{label(h.to ?? 'none')}</strong>
              </>
            ) : null}
            {h.note ? <blockquote>{h.note}</blockquote> : null}
            <div class="muted small">{time(h.at)}</div>
          </div>
        </li>
      ))}
    </ol>
  );
}

export function AlertPage(props: { id: string; me: Me }) {
  const loaded = useLoad((signal) => api<Alert>(`/api/v1/alerts/${encodeURIComponent(props.id)}`, { signal }), [props.id]);
  const [alert, setAlert] = useState<Alert | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [note, setNote] = useState('');
  const [assignee, setAssignee] = useState('');
  useEffect(() => {
    if (loaded.data) {
      setAlert(loaded.data);
      setAssignee(loaded.data.assignee ?? '');
    }
  }, [loaded.data]);
  useLive('alert', (m) => {
    if (m.alert.id === props.id) loaded.reload();
  });

  const patch = async (body: Record<string, unknown>) => {
    setError(undefined);
    try {
      const updated = await api<Alert>(`/api/v1/alerts/${encodeURIComponent(props.id)}`, { method: 'PATCH', body });
      setAlert((a) => ({ ...updated, evidence_events: a?.evidence_events ?? [] }));
      return true;
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'The change failed');
      return false;
    }
  };

  if (loaded.error && !alert) return <Failure error={loaded.error} what="this alert" />;
  if (!alert) return <Loading what="the alert" />;
  const triage = canTriage(props.me);
  const evidence = alert.evidence_events ?? [];
  const entityQuery = alert.entity ? term(alert.entity.field, alert.entity.value) : '';

  return (
    <div class="page" data-testid="page-alert">
      <header class="page-head">
        <div>
          <div class="crumbs">
            <Link href="/alerts">Alerts</Link> / <span class="mono">{alert.id.slice(0, 8)}</span>
          </div>
          <h1 class="alert-title">
            <SeverityBadge severity={alert.severity} /> {alert.rule.title}
          </h1>
          <p class="lead">{alert.reason}</p>
        </div>
        <div class="page-actions">
          <StatusBadge status={alert.status} />
          {alert.verdict ? <span class={`verdict verdict-${alert.verdict}`}>{label(alert.verdict)}</span> : null}
        </div>
      </header>
      {error ? (
        <div class="banner banner-bad" role="alert">
          {error}
        </div>
      ) : null}
      <div class="grid grid-2-1">
        <div class="stack">
          <Panel title="What happened">
            <dl class="facts">
              <dt>Entity</dt>
              <dd class="mono">{alert.entity ? `${alert.entity.field}: ${alert.entity.value}` : '–'}</dd>
              <dt>Count</dt>
              <dd>{num(alert.count)} detections</dd>
              <dt>First seen</dt>
              <dd>{time(alert.first_seen)}</dd>
              <dt>Last seen</dt>
              <dd>
                {time(alert.last_seen)} <span class="muted">({ago(alert.last_seen)})</span>
              </dd>
              <dt>Rule</dt>
              <dd>
                <span class="mono">{alert.rule.id}</span> <span class="muted">({alert.rule.kind})</span>
                {alert.rule.author ? <div class="muted small">Rule author: {alert.rule.author}</div> : null}
              </dd>
              {alert.score !== null ? (
                <>
                  <dt>Anomaly score</dt>
                  <dd>{alert.score.toFixed(3)}</dd>
                </>
              ) : null}
              {alert.tags.length > 0 ? (
                <>
                  <dt>Tags</dt>
                  <dd>
                    {alert.tags.map((t) => (
                      <span class="tag" key={t}>
                        {t}
                      </span>
                    ))}
                  </dd>
                </>
              ) : null}
            </dl>
            {alert.details ? <pre class="code">{JSON.stringify(alert.details, null, 2)}</pre> : null}
          </Panel>
          <Panel
            title={`Evidence (${evidence.length} of ${alert.evidence.length} events kept)`}
            class="panel-table"
            actions={entityQuery ? <Link href={`/logs?q=${encodeURIComponent(entityQuery)}&from=now-7d`}>Search the entity in Logs →</Link> : null}
          >
            {evidence.length === 0 ? (
              <Empty>No evidence events stored.</Empty>
            ) : (
              <div class="table-wrap">
                <table class="table" data-testid="evidence-table">
                  <thead>
                    <tr>
                      <th>@timestamp</th>
                      <th>dataset</th>
                      <th>source.ip</th>
                      <th>user.name</th>
                      <th>message</th>
                    </tr>
                  </thead>
                  <tbody>
                    {evidence.map((e, i) => (
                      <tr key={show(field(e, 'event.id')) || i}>
                        <td class="mono nowrap">{time(e['@timestamp'], true)}</td>
                        <td>{show(field(e, 'event.dataset'))}</td>
                        <td class="mono">{show(field(e, 'source.ip'))}</td>
                        <td>{show(field(e, 'user.name'))}</td>
                        <td class="col-message">{show(field(e, 'message') ?? field(e, 'event.original'))}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Panel>
        </div>
        <div class="stack">
          <Panel title="Confidence">
            <Confidence value={alert.confidence} />
            <p class="explain">{alert.confidence_explanation}</p>
          </Panel>
          <Panel title="Triage">
            {!triage ? (
              <p class="muted">Your role ({props.me.role}) can read alerts; analysts and admins triage them.</p>
            ) : (
              <div class="triage">
                <div class="field-label">Status</div>
                <div class="seg" role="group" aria-label="Status">
                  {STATUSES.map((s) => (
                    <button key={s} type="button" class={`seg-btn ${alert.status === s ? 'on' : ''}`} aria-pressed={alert.status === s} onClick={() => void patch({ status: s })} data-testid={`status-${s}`}>
                      {label(s)}
                    </button>
                  ))}
                </div>
                <div class="field-label">Verdict</div>
                <div class="seg" role="group" aria-label="Verdict">
                  {VERDICTS.map((v) => (
                    <button key={v} type="button" class={`seg-btn ${alert.verdict === v ? 'on' : ''}`} aria-pressed={alert.verdict === v} onClick={() => void patch({ verdict: alert.verdict === v ? null : v })} data-testid={`verdict-${v}`}>
                      {label(v)}
                    </button>
                  ))}
                </div>
                <form
                  class="assign"
                  onSubmit={(e) => {
                    e.preventDefault();
                    void patch({ assignee: assignee.trim() || null });
                  }}
                >
                  <label class="field-label" for="assignee">
                    Assignee
                  </label>
                  <div class="row">
                    <input id="assignee" value={assignee} onInput={(e) => setAssignee((e.currentTarget as HTMLInputElement).value)} placeholder="nobody" />
                    <button class="btn btn-sm" type="submit">
                      Assign
                    </button>
                    <button
                      class="btn btn-ghost btn-sm"
                      type="button"
                      onClick={() => {
                        setAssignee(props.me.user);
                        void patch({ assignee: props.me.user });
                      }}
                    >
                      Me
                    </button>
                  </div>
                </form>
                <form
                  class="note-form"
                  onSubmit={async (e) => {
                    e.preventDefault();
                    if (!note.trim()) return;
                    if (await patch({ note: note.trim() })) setNote('');
                  }}
                >
                  <label class="field-label" for="note">
                    Note
                  </label>
                  <textarea id="note" rows={3} value={note} onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)} placeholder="What did you find?" />
                  <button class="btn btn-primary btn-sm" type="submit" data-testid="add-note">
                    Add note
                  </button>
                </form>
              </div>
            )}
          </Panel>
          <Panel title="Notes">
            {(alert.notes ?? []).length === 0 ? (
              <Empty>No notes yet.</Empty>
            ) : (
              <ul class="notes" data-testid="notes">
                {(alert.notes ?? []).map((n, i) => (
                  <li key={i}>
                    <p>{n.text}</p>
                    <div class="muted small">
                      {n.by} · {time(n.at)}
                    </div>
                  </li>
                ))}
              </ul>
            )}
          </Panel>
          <Panel title="History">
            <Timeline entries={alert.history ?? []} />
          </Panel>
        </div>
      </div>
    </div>
  );
}
