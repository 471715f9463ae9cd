// Alerts triage: filter by status, severity, confidence, rule and entity (in the URL), select and acknowledge or
// resolve in bulk; new and changed alerts arrive live from the stream.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, qs } from '../lib/api.js';
import { ago, label, num } from '../lib/format.js';
import { useLive, useLoad } from '../lib/hooks.js';
import { navigate, setParams, useLocation } from '../lib/router.js';
import { SEVERITIES, STATUSES, type Alert, type Me } from '../lib/types.js';
import { Confidence, Empty, Failure, Link, Loading, Panel, SeverityBadge, StatusBadge } from '../components/ui.js';

const SEV_RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i]));

function Chips(props: { name: string; values: readonly string[]; selected: string[] }) {
  return (
    <div class="chips" role="group" aria-label={props.name}>
      {props.values.map((v) => {
        const on = props.selected.includes(v);
        return (
          <button
            key={v}
            type="button"
            class={`chip ${on ? 'on' : ''} chip-${v}`}
            aria-pressed={on}
            onClick={() => {
              const next = on ? props.selected.filter((x) => x !== v) : [...props.selected, v];
              setParams({ [props.name]: next.join(',') || null });
            }}
          >
            {label(v)}
          </button>
        );
      })}
    </div>
  );
}

export function canTriage(me: Me): boolean {
  return me.role === 'analyst' || me.role === 'admin';
}

function matches(a: Alert, f: { status: string[]; severity: string[]; rule: string; entity: string; minConf: number }): boolean {
  return (
    (f.status.length === 0 || f.status.includes(a.status)) &&
    (f.severity.length === 0 || f.severity.includes(a.severity)) &&
    (!f.rule || a.rule.id === f.rule || a.rule.title === f.rule) &&
    (!f.entity || a.entity?.value === f.entity || Object.values(a.group ?? {}).includes(f.entity)) &&
    a.confidence >= f.minConf
  );
}

export function AlertsPage(props: { me: Me }) {
  const { params } = useLocation();
  const status = (params.get('status') ?? 'open,acknowledged').split(',').filter(Boolean);
  const severity = (params.get('severity') ?? '').split(',').filter(Boolean);
  const rule = params.get('rule') ?? '';
  const entity = params.get('entity') ?? '';
  const minConf = Number(params.get('min_confidence') ?? '0') || 0;
  const filter = { status, severity, rule, entity, minConf };
  const key = params.toString();
  const loaded = useLoad(
    (signal) => api<{ total: number; alerts: Alert[] }>(`/api/v1/alerts${qs({ status: status.join(','), severity: severity.join(','), rule, entity, min_confidence: minConf || undefined, limit: 500 })}`, { signal }),
    [key],
  );
  const [rows, setRows] = useState<Alert[]>([]);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (loaded.data) setRows(loaded.data.alerts);
    setChecked(new Set());
  }, [loaded.data]);

  useLive('alert', ({ alert, change }) => {
    setRows((list) => {
      const without = list.filter((a) => a.id !== alert.id);
      if (!matches(alert, filter)) return without;
      const merged = [alert, ...without];
      merged.sort((a, b) => b.last_seen.localeCompare(a.last_seen));
      return merged;
    });
    if (change === 'created') setFresh((s) => new Set(s).add(alert.id));
  });
  useLive('resync', () => loaded.reload());

  const bulk = async (patch: Record<string, string>) => {
    setBusy(true);
    setMessage(undefined);
    try {
      const { updated } = await api<{ updated: string[] }>('/api/v1/alerts', { method: 'PATCH', body: { ids: [...checked], ...patch } });
      setMessage(`${updated.length} alert${updated.length === 1 ? '' : 's'} ${patch.status === 'resolved' ? 'resolved' : 'acknowledged'}`);
      loaded.reload();
    } catch (err) {
      setMessage(err instanceof ApiError ? err.message : 'The change failed');
    } finally {
      setBusy(false);
    }
  };
  const allChecked = rows.length > 0 && rows.every((a) => checked.has(a.id));
  const triage = canTriage(props.me);

  return (
    <div class="page" data-testid="page-alerts">
      <header class="page-head">
        <h1>Alerts</h1>
        <div class="page-actions">
          <Link href="/incidents" class="btn btn-ghost btn-sm">
            Incidents →
          </Link>
        </div>
      </header>
      <div class="filterbar">
        <div class="filterbar-row">
          <Chips name="status" values={STATUSES} selected={status} />
          <Chips name="severity" values={[...SEVERITIES]} selected={severity} />
          <select aria-label="Minimum confidence" value={String(minConf)} onChange={(e) => setParams({ min_confidence: (e.currentTarget as HTMLSelectElement).value === '0' ? null : (e.currentTarget as HTMLSelectElement).value })}>
            <option value="0">Any confidence</option>
            <option value="0.25">≥ 25%</option>
            <option value="0.5">≥ 50%</option>
            <option value="0.75">≥ 75%</option>
            <option value="0.9">≥ 90%</option>
          </select>
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              const form = new FormData(e.currentTarget as HTMLFormElement);
              setParams({ rule: String(form.get('rule') ?? '').trim() || null, entity: String(form.get('entity') ?? '').trim() || null });
            }}
          >
            <input name="rule" placeholder="rule id or title" defaultValue={rule} aria-label="Rule" />
            <input name="entity" placeholder="entity (IP, user, host)" defaultValue={entity} aria-label="Entity" />
            <button class="btn btn-ghost btn-sm" type="submit">
              Filter
            </button>
          </form>
        </div>
      </div>
      <Panel
        title={<span data-testid="alert-count">{loaded.data ? `${num(rows.length)} of ${num(loaded.data.total)} alerts` : 'Alerts'}</span>}
        class="panel-table"
        actions={
          triage ? (
            <div class="bulk">
              {message ? <span class="muted small" role="status">{message}</span> : null}
              <button type="button" class="btn btn-sm" disabled={checked.size === 0 || busy} onClick={() => void bulk({ status: 'acknowledged' })} data-testid="bulk-ack">
                Acknowledge {checked.size > 0 ? checked.size : ''}
              </button>
              <button type="button" class="btn btn-sm" disabled={checked.size === 0 || busy} onClick={() => void bulk({ status: 'resolved' })} data-testid="bulk-resolve">
                Resolve {checked.size > 0 ? checked.size : ''}
              </button>
            </div>
          ) : (
            <span class="muted small">viewers read; analysts triage</span>
          )
        }
      >
        {loaded.error ? (
          <Failure error={loaded.error} what="alerts" />
        ) : !loaded.data ? (
          <Loading what="alerts" />
        ) : rows.length === 0 ? (
          <Empty>No alerts match these filters.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table table-alerts" data-testid="alert-table">
              <thead>
                <tr>
                  {triage ? (
                    <th class="col-check">
                      <input type="checkbox" aria-label="Select all" checked={allChecked} onChange={() => setChecked(allChecked ? new Set() : new Set(rows.map((a) => a.id)))} />
                    </th>
                  ) : null}
                  <th>Severity</th>
                  <th>Rule</th>
                  <th>Entity</th>
                  <th class="num">Count</th>
                  <th>Confidence</th>
                  <th>Status</th>
                  <th>Verdict</th>
                  <th>Assignee</th>
                  <th>Last seen</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((a) => (
                  <tr key={a.id} class={`${fresh.has(a.id) ? 'fresh' : ''} sevrow-${a.severity}`} data-alert-id={a.id} onDblClick={() => navigate(`/alerts/${encodeURIComponent(a.id)}`)}>
                    {triage ? (
                      <td class="col-check">
                        <input
                          type="checkbox"
                          aria-label={`Select alert ${a.rule.title}`}
                          checked={checked.has(a.id)}
                          onChange={() =>
                            setChecked((s) => {
                              const n = new Set(s);
                              if (n.has(a.id)) n.delete(a.id);
                              else n.add(a.id);
                              return n;
                            })
                          }
                        />
                      </td>
                    ) : null}
                    <td>
                      <SeverityBadge severity={a.severity} />
                    </td>
                    <td class="col-rule">
                      <Link href={`/alerts/${encodeURIComponent(a.id)}`}>{a.rule.title}</Link>
                      <div class="muted small ellipsis">{a.reason}</div>
                    </td>
                    <td class="mono">
                      {a.entity ? (
                        <>
                          <span class="muted small">{a.entity.field} </span>
                          {a.entity.value}
                        </>
                      ) : (
                        '–'
                      )}
                    </td>
                    <td class="num">{num(a.count)}</td>
                    <td>
                      <Confidence value={a.confidence} />
                    </td>
                    <td>
                      <StatusBadge status={a.status} />
                    </td>
                    <td>{a.verdict ? <span class={`verdict verdict-${a.verdict}`}>{label(a.verdict)}</span> : <span class="muted">–</span>}</td>
                    <td>{a.assignee ?? <span class="muted">–</span>}</td>
                    <td class="nowrap" title={a.last_seen}>
                      {ago(a.last_seen)}
                    </td>
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

export { SEV_RANK };
