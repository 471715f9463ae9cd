// Rules: every detection rule with its hits (since start, and its alerts over the last 7 days), enable/disable
// (admins), the rule's file, and a tester that runs the rule — or an edited copy of it — over sample events without
// touching the live rules.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, qs } from '../lib/api.js';
import { label, num, term } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';
import { setParams, useLocation } from '../lib/router.js';
import type { Histogram, Me, Top } from '../lib/types.js';
import { Chart } from '../components/chart.js';
import { Empty, Failure, Link, Loading, Panel, SeverityBadge } from '../components/ui.js';
import { canTriage } from './alerts.js';
import type { RuleInfo } from '../../../src/detect/rules/info.js';

/** One rule as GET /api/v1/rules lists it (RuleInfo in src/detect/rules/engine.ts); GET /api/v1/rules/:id adds `text`. */
/** A rule as the API lists it; its detail adds the rule's text. */
export type Rule = RuleInfo & { text?: string | null };

interface TestAnswer {
  rules: Rule[];
  problems: { line: number; message: string }[];
  inactive: string[];
  matches: { index: number; rule: string; kind: string; reason: string; entity: { field: string; value: string } | null; silent: boolean }[];
}

/** An example event to start from; paste real ones from an event's JSON tab in Logs. */
const SAMPLE_EVENTS = '{"event":{"dataset":"sshd","action":"ssh_login","outcome":"failure"},"source":{"ip":"203.0.113.7"},"user":{"name":"root"}}';

function Tester(props: { rule: Rule; text: string }) {
  const [ruleText, setRuleText] = useState(props.text);
  const [sample, setSample] = useState(SAMPLE_EVENTS);
  const [answer, setAnswer] = useState<TestAnswer | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setRuleText(props.text);
    setAnswer(undefined);
    setError(undefined);
  }, [props.rule.id, props.text]);
  return (
    <Panel title="Test this rule" actions={<span class="muted small">runs a copy: the live rules do not change</span>}>
      <form
        class="stack"
        data-testid="rule-tester"
        onSubmit={async (e) => {
          e.preventDefault();
          setAnswer(undefined);
          setError(undefined);
          let events: Record<string, unknown>[];
          try {
            events = sample
              .split('\n')
              .map((l) => l.trim())
              .filter(Boolean)
              .map((l) => JSON.parse(l) as Record<string, unknown>);
          } catch (err) {
            setError(`Events must be one JSON object per line: ${(err as Error).message}`);
            return;
          }
          setBusy(true);
          try {
            setAnswer(await api<TestAnswer>('/api/v1/rules/test', { method: 'POST', body: { rule: ruleText, events } }));
          } catch (err) {
            setError(err instanceof ApiError ? err.message : 'The test failed');
          } finally {
            setBusy(false);
          }
        }}
      >
        <label class="field-label" for="rule-text">
          Rule (YAML, editable)
        </label>
        <textarea id="rule-text" class="code-input" rows={10} spellcheck={false} value={ruleText} onInput={(e) => setRuleText((e.currentTarget as HTMLTextAreaElement).value)} />
        <label class="field-label" for="rule-events">
          Events (one ECS JSON object per line)
        </label>
        <textarea id="rule-events" class="code-input" rows={4} spellcheck={false} value={sample} onInput={(e) => setSample((e.currentTarget as HTMLTextAreaElement).value)} />
        <button type="submit" class="btn btn-primary btn-sm" disabled={busy}>
          {busy ? 'Running…' : 'Run the rule'}
        </button>
      </form>
      {error ? <div class="form-error">{error}</div> : null}
      {answer ? (
        <div class="stack" data-testid="tester-result">
          {answer.problems.map((p, i) => (
            <div key={i} class="form-error">
              line {p.line}: {p.message}
            </div>
          ))}
          {answer.inactive.map((reason, i) => (
            <div key={i} class="banner banner-warn">
              {reason}
            </div>
          ))}
          <div>
            <strong>{answer.matches.length === 0 ? 'No match.' : `${answer.matches.length} ${answer.matches.length === 1 ? 'match' : 'matches'}`}</strong>{' '}
            <span class="muted small">
              {answer.rules.length} {answer.rules.length === 1 ? 'rule' : 'rules'} loaded from the text
            </span>
          </div>
          {answer.matches.length > 0 ? (
            <table class="table table-compact">
              <tbody>
                {answer.matches.map((m, i) => (
                  <tr key={i}>
                    <td class="num">event {m.index + 1}</td>
                    <td>
                      {m.rule} {m.silent ? <span class="pill pill-muted">feeds a correlation</span> : null}
                    </td>
                    <td>{m.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      ) : null}
    </Panel>
  );
}

function RuleDetail(props: { rule: Rule; me: Me; onChange: (r: Rule) => void }) {
  const { rule } = props;
  const detail = useLoad((signal) => api<Rule>(`/api/v1/rules/${encodeURIComponent(rule.id)}`, { signal }), [rule.id]);
  const hits = useLoad(
    (signal) => api<Histogram>(`/api/v1/events/histogram${qs({ q: `event.dataset:vigil.alert AND ${term('rule.id', rule.id)}`, from: 'now-7d', buckets: 84 })}`, { signal }),
    [rule.id],
  );
  const [error, setError] = useState<string | undefined>(undefined);
  const text = detail.data?.text ?? undefined;
  return (
    <div class="stack" data-testid="rule-detail">
      <Panel title={rule.title} actions={<Link href={`/alerts?rule=${encodeURIComponent(rule.id)}&status=`}>Its alerts →</Link>}>
        <dl class="facts">
          <dt>Kind</dt>
          <dd>
            {label(rule.kind)} {rule.silent ? <span class="muted">(no alert of its own: it feeds a correlation)</span> : null}
          </dd>
          <dt>Level</dt>
          <dd>
            <SeverityBadge severity={rule.level} />
          </dd>
          {rule.logsource ? (
            <>
              <dt>Reads</dt>
              <dd class="mono small">{rule.logsource}</dd>
            </>
          ) : null}
          <dt>Author</dt>
          <dd>{rule.author ?? '–'}</dd>
          <dt>File</dt>
          <dd class="mono small">
            {rule.path}:{rule.line}
          </dd>
          <dt>Hits since start</dt>
          <dd>{num(rule.hits)}</dd>
          {rule.inactive ? (
            <>
              <dt>Inactive</dt>
              <dd class="warn-text">{rule.inactive}</dd>
            </>
          ) : null}
        </dl>
        <div class="field-label">Its alerts, last 7 days</div>
        {hits.data ? (
          <Chart data={[hits.data.buckets.map((b) => Date.parse(b.key) / 1000), hits.data.buckets.map((b) => b.count)]} series={[{ label: 'alerts', color: '#f59e0b' }]} kind="bars" height={110} legend={false} />
        ) : hits.error ? (
          <Failure error={hits.error} what="hits" />
        ) : (
          <Loading />
        )}
        {props.me.role === 'admin' ? (
          <button
            type="button"
            class="btn btn-sm"
            data-testid="rule-toggle"
            onClick={async () => {
              setError(undefined);
              try {
                props.onChange(await api<Rule>(`/api/v1/rules/${encodeURIComponent(rule.id)}`, { method: 'PATCH', body: { enabled: !rule.enabled } }));
              } catch (err) {
                setError(err instanceof ApiError ? err.message : 'failed');
              }
            }}
          >
            {rule.enabled ? 'Disable' : 'Enable'}
          </button>
        ) : null}
        {error ? <div class="form-error">{error}</div> : null}
      </Panel>
      <Panel title="Rule text">
        {detail.error ? <Failure error={detail.error} what="the rule" /> : !detail.data ? <Loading /> : text ? <pre class="code" data-testid="rule-text">{text}</pre> : <Empty>The rule's file cannot be read any more.</Empty>}
      </Panel>
      {canTriage(props.me) && text ? <Tester rule={rule} text={text} /> : null}
    </div>
  );
}

export function RulesPage(props: { me: Me }) {
  const { params } = useLocation();
  const rules = useLoad((signal) => api<{ rules: Rule[] }>('/api/v1/rules', { signal }), []);
  const alerts = useLoad((signal) => api<Top>(`/api/v1/events/top${qs({ field: 'rule.id', size: 1000, q: 'event.dataset:vigil.alert', from: 'now-7d' })}`, { signal }), []);
  const [changed, setChanged] = useState<Record<string, Rule>>({});
  const filter = params.get('filter') ?? '';
  const alertsOf = new Map(alerts.data?.values.map((v) => [v.value, v.count]) ?? []);
  const list = (rules.data?.rules ?? [])
    .map((r) => changed[r.id] ?? r)
    .filter((r) => !filter || `${r.id} ${r.title} ${r.logsource ?? ''} ${r.path}`.toLowerCase().includes(filter.toLowerCase()));
  const selected = list.find((r) => r.id === params.get('rule'));
  return (
    <div class="page" data-testid="page-rules">
      <header class="page-head">
        <h1>Rules</h1>
        <input class="search-small" placeholder="Filter rules" value={filter} onInput={(e) => setParams({ filter: (e.currentTarget as HTMLInputElement).value }, { replace: true })} aria-label="Filter rules" />
      </header>
      {rules.error ? (
        <Panel title="Detection rules">
          <Failure error={rules.error} what="The rules list" />
        </Panel>
      ) : !rules.data ? (
        <Loading what="rules" />
      ) : (
        <div class="grid grid-1-1">
          <Panel title={`${num(list.length)} rules`} class="panel-table">
            {list.length === 0 ? (
              <Empty>No rules.</Empty>
            ) : (
              <table class="table table-compact" data-testid="rule-table">
                <thead>
                  <tr>
                    <th>Rule</th>
                    <th>Level</th>
                    <th class="num" title="Matching events (correlations: detections) since Vigil started">
                      Hits
                    </th>
                    <th class="num" title="Alert events over the last 7 days">
                      Alerts 7 d
                    </th>
                    <th>State</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((r) => (
                    <tr key={r.id} class={selected?.id === r.id ? 'selected' : ''} onClick={() => setParams({ rule: r.id })} tabIndex={0} onKeyDown={(e) => e.key === 'Enter' && setParams({ rule: r.id })}>
                      <td>
                        {r.title}
                        <div class="muted small mono">{r.id}</div>
                      </td>
                      <td>
                        <SeverityBadge severity={r.level} />
                      </td>
                      <td class="num">{num(r.hits)}</td>
                      <td class="num">{r.silent ? <span class="muted">–</span> : num(alertsOf.get(r.id) ?? 0)}</td>
                      <td>
                        {!r.enabled ? (
                          <span class="pill pill-muted">disabled</span>
                        ) : r.inactive ? (
                          <span class="pill pill-warn" title={r.inactive}>
                            inactive
                          </span>
                        ) : r.silent ? (
                          <span class="pill pill-muted" title="Feeds a correlation rule; raises no alert of its own">
                            building block
                          </span>
                        ) : (
                          <span class="pill pill-ok">enabled</span>
                        )}
                      </td>
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
