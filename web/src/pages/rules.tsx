// Rules: every detection rule with its hits, enable/disable (admins), the rule text, hits over time, and a tester
// that runs a rule over sample events. The rules API may not exist yet on this server; the page says so.
import { useState } from 'preact/hooks';
import { api, ApiError, qs } from '../lib/api.js';
import { label, num, term } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';
import { setParams, useLocation } from '../lib/router.js';
import type { Histogram, Me, Top } from '../lib/types.js';
import { Chart } from '../components/chart.js';
import { Empty, Failure, Link, Loading, Panel, SeverityBadge } from '../components/ui.js';

export interface Rule {
  id: string;
  title?: string;
  level?: string;
  severity?: string;
  enabled?: boolean;
  author?: string;
  path?: string;
  description?: string;
  tags?: string[];
  text?: string;
  yaml?: string;
  source?: string;
  kind?: string;
}

function RuleDetail(props: { rule: Rule; me: Me; onChange: (r: Rule) => void }) {
  const { rule } = props;
  const hits = useLoad(
    (signal) => api<Histogram>(`/api/v1/events/histogram${qs({ q: `event.dataset:vigil.alert AND ${term('rule.id', rule.id)}`, from: 'now-7d', buckets: 84 })}`, { signal }),
    [rule.id],
  );
  const [sample, setSample] = useState('');
  const [result, setResult] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const text = rule.text ?? rule.yaml ?? rule.source;
  return (
    <div class="stack">
      <Panel title={rule.title ?? rule.id} actions={<Link href={`/alerts?rule=${encodeURIComponent(rule.id)}&status=`}>Its alerts →</Link>}>
        {rule.description ? <p>{rule.description}</p> : null}
        {rule.author ? <p class="muted small">Author: {rule.author}</p> : null}
        {hits.data ? (
          <Chart data={[hits.data.buckets.map((b) => Date.parse(b.key) / 1000), hits.data.buckets.map((b) => b.count)]} series={[{ label: 'hits', color: '#f59e0b' }]} kind="bars" height={120} legend={false} />
        ) : hits.error ? (
          <Failure error={hits.error} what="hits" />
        ) : (
          <Loading />
        )}
        {props.me.role === 'admin' ? (
          <button
            type="button"
            class="btn btn-sm"
            onClick={async () => {
              setError(undefined);
              try {
                props.onChange(await api<Rule>(`/api/v1/rules/${encodeURIComponent(rule.id)}`, { method: 'PATCH', body: { enabled: rule.enabled === false } }));
              } catch (err) {
                setError(err instanceof ApiError ? err.message : 'failed');
              }
            }}
          >
            {rule.enabled === false ? 'Enable' : 'Disable'}
          </button>
        ) : null}
        {error ? <div class="form-error">{error}</div> : null}
      </Panel>
      <Panel title="Rule text">{text ? <pre class="code">{text}</pre> : <Empty>The server did not send the rule's text.</Empty>}</Panel>
      <Panel title="Test this rule">
        <form
          class="stack"
          onSubmit={async (e) => {
            e.preventDefault();
            setResult(undefined);
            setError(undefined);
            try {
              const events = sample
                .split('\n')
                .map((l) => l.trim())
                .filter(Boolean)
                .map((l) => JSON.parse(l) as unknown);
              const answer = await api<unknown>(`/api/v1/rules/${encodeURIComponent(rule.id)}/test`, { method: 'POST', body: { events } });
              setResult(JSON.stringify(answer, null, 2));
            } catch (err) {
              setError(err instanceof ApiError ? (err.status === 404 ? 'The rule tester is not available yet on this server.' : err.message) : `Events must be NDJSON: ${(err as Error).message}`);
            }
          }}
        >
          <textarea rows={5} value={sample} onInput={(e) => setSample((e.currentTarget as HTMLTextAreaElement).value)} placeholder='One ECS event per line, e.g. {"event":{"dataset":"sshd","outcome":"failure"},"source":{"ip":"203.0.113.7"}}' />
          <button type="submit" class="btn btn-primary btn-sm">
            Run the rule
          </button>
        </form>
        {error ? <div class="form-error">{error}</div> : null}
        {result ? <pre class="code">{result}</pre> : null}
      </Panel>
    </div>
  );
}

export function RulesPage(props: { me: Me }) {
  const { params } = useLocation();
  const rules = useLoad((signal) => api<{ rules: Rule[] }>('/api/v1/rules', { signal }), []);
  const hits = useLoad((signal) => api<Top>(`/api/v1/events/top${qs({ field: 'rule.id', size: 1000, q: 'event.dataset:vigil.alert', from: 'now-7d' })}`, { signal }), []);
  const [changed, setChanged] = useState<Record<string, Rule>>({});
  const [filter, setFilter] = useState('');
  const hitsOf = new Map(hits.data?.values.map((v) => [v.value, v.count]) ?? []);
  const list = (rules.data?.rules ?? []).map((r) => changed[r.id] ?? r).filter((r) => !filter || `${r.id} ${r.title ?? ''} ${(r.tags ?? []).join(' ')}`.toLowerCase().includes(filter.toLowerCase()));
  const selected = list.find((r) => r.id === params.get('rule'));
  return (
    <div class="page" data-testid="page-rules">
      <header class="page-head">
        <h1>Rules</h1>
        <input class="search-small" placeholder="Filter rules" value={filter} onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)} aria-label="Filter rules" />
      </header>
      {rules.error ? (
        <Panel title="Detection rules">
          <Failure error={rules.error} what="The rules list" />
          {hits.data && hits.data.values.length > 0 ? (
            <>
              <h3 class="subhead">Rules that fired in the last 7 days</h3>
              <table class="table table-compact">
                <tbody>
                  {hits.data.values.map((v) => (
                    <tr key={v.value}>
                      <td class="mono">{v.value}</td>
                      <td class="num">{num(v.count)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </Panel>
      ) : !rules.data ? (
        <Loading what="rules" />
      ) : (
        <div class="grid grid-1-1">
          <Panel title={`${num(list.length)} rules`} class="panel-table">
            {list.length === 0 ? (
              <Empty>No rules.</Empty>
            ) : (
              <table class="table table-compact">
                <thead>
                  <tr>
                    <th>Rule</th>
                    <th>Level</th>
                    <th class="num">Hits (7 d)</th>
                    <th>State</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((r) => (
                    <tr key={r.id} class={selected?.id === r.id ? 'selected' : ''} onClick={() => setParams({ rule: r.id })} tabIndex={0} onKeyDown={(e) => e.key === 'Enter' && setParams({ rule: r.id })}>
                      <td>
                        {r.title ?? r.id}
                        <div class="muted small mono">{r.id}</div>
                      </td>
                      <td>{r.level ?? r.severity ? <SeverityBadge severity={(r.level ?? r.severity)!} /> : '–'}</td>
                      <td class="num">{num(hitsOf.get(r.id) ?? 0)}</td>
                      <td>{r.enabled === false ? <span class="pill pill-muted">disabled</span> : <span class="pill pill-ok">{label('enabled')}</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Panel>
          {selected ? <RuleDetail rule={selected} me={props.me} onChange={(r) => setChanged((c) => ({ ...c, [r.id]: r }))} /> : <Empty>Pick a rule to see its text, hits and tester.</Empty>}
        </div>
      )}
    </div>
  );
}
