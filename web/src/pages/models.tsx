// Models: each anomaly model with its versions, the histogram of its recent scores against its threshold, drift,
// and a retrain button that follows progress. The models API may not exist yet on this server; the page says so.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, qs } from '../lib/api.js';
import { num, show, term, time } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';
import type { EcsDoc, Me, SearchResult } from '../lib/types.js';
import { Empty, Failure, Loading, Panel } from '../components/ui.js';

interface Model {
  id: string;
  title?: string;
  version?: number | string;
  versions?: { version: number | string; trained?: string; samples?: number }[];
  trained?: string;
  threshold?: number;
  alert_threshold?: number;
  drift?: number | { score?: number; status?: string };
  status?: string;
  progress?: number;
  retrain?: { status?: string; progress?: number };
  features?: string[];
  samples?: number;
}

function ScoreHistogram(props: { model: Model }) {
  const scores = useLoad(
    (signal) => api<SearchResult>(`/api/v1/events${qs({ q: `event.dataset:vigil.anomaly AND ${term('rule.id', props.model.id)}`, limit: 2000, from: 'now-7d' })}`, { signal }),
    [props.model.id],
  );
  if (scores.error) return <Failure error={scores.error} what="scores" />;
  if (!scores.data) return <Loading />;
  const values = scores.data.events.map((e: EcsDoc) => Number((e as { vigil?: { score?: number } }).vigil?.score)).filter((v) => Number.isFinite(v));
  if (values.length === 0) return <Empty>No scores recorded in the last 7 days.</Empty>;
  const bins = new Array(20).fill(0) as number[];
  for (const v of values) bins[Math.min(19, Math.max(0, Math.floor(v * 20)))]!++;
  const max = Math.max(1, ...bins);
  const threshold = props.model.alert_threshold ?? props.model.threshold;
  return (
    <div class="histo" role="img" aria-label={`score histogram of ${values.length} scores`}>
      {bins.map((b, i) => (
        <span key={i} class={`histo-bar ${threshold !== undefined && i / 20 >= threshold ? 'over' : ''}`} style={{ height: `${(b / max) * 100}%` }} title={`${(i / 20).toFixed(2)}–${((i + 1) / 20).toFixed(2)}: ${b}`} />
      ))}
      {threshold !== undefined ? <span class="histo-threshold" style={{ left: `${threshold * 100}%` }} title={`threshold ${threshold}`} /> : null}
    </div>
  );
}

function ModelCard(props: { model: Model; me: Me }) {
  const [model, setModel] = useState(props.model);
  const [error, setError] = useState<string | undefined>(undefined);
  const progress = model.retrain?.progress ?? model.progress;
  const running = (model.retrain?.status ?? model.status) === 'training' || (progress !== undefined && progress < 1 && progress > 0);
  useEffect(() => {
    if (!running) return;
    const timer = window.setInterval(async () => {
      try {
        setModel(await api<Model>(`/api/v1/models/${encodeURIComponent(model.id)}`));
      } catch {
        // keep the last known state; the next poll tries again
      }
    }, 1000);
    return () => window.clearInterval(timer);
  }, [running, model.id]);
  const drift = typeof model.drift === 'number' ? model.drift : model.drift?.score;
  return (
    <Panel
      title={model.title ?? model.id}
      actions={
        props.me.role === 'admin' ? (
          <button
            type="button"
            class="btn btn-sm"
            disabled={running}
            onClick={async () => {
              setError(undefined);
              try {
                const answer = await api<Partial<Model> | undefined>(`/api/v1/models/${encodeURIComponent(model.id)}/retrain`, { method: 'POST', body: {} });
                setModel((m) => ({ ...m, ...(answer ?? {}), retrain: { status: 'training', progress: 0.01, ...(answer?.retrain ?? {}) } }));
              } catch (err) {
                setError(err instanceof ApiError ? err.message : 'failed');
              }
            }}
          >
            {running ? 'Retraining…' : 'Retrain'}
          </button>
        ) : null
      }
    >
      {running ? (
        <div class="progress" role="progressbar" aria-valuenow={Math.round((progress ?? 0) * 100)}>
          <span style={{ width: `${(progress ?? 0) * 100}%` }} />
        </div>
      ) : null}
      {error ? <div class="form-error">{error}</div> : null}
      <dl class="facts">
        <dt>Version</dt>
        <dd>{show(model.version ?? model.versions?.[model.versions.length - 1]?.version) || '–'}</dd>
        <dt>Trained</dt>
        <dd>{time(model.trained ?? model.versions?.[model.versions.length - 1]?.trained)}</dd>
        <dt>Threshold</dt>
        <dd>{show(model.alert_threshold ?? model.threshold) || '–'}</dd>
        <dt>Drift</dt>
        <dd class={drift !== undefined && drift > 0.2 ? 'warn-text' : ''}>{drift === undefined ? '–' : drift.toFixed(3)}</dd>
        {model.samples !== undefined ? (
          <>
            <dt>Samples</dt>
            <dd>{num(model.samples)}</dd>
          </>
        ) : null}
      </dl>
      <div class="field-label">Scores, last 7 days</div>
      <ScoreHistogram model={model} />
      {model.versions && model.versions.length > 1 ? (
        <details>
          <summary>{model.versions.length} versions</summary>
          <ul class="plain">
            {model.versions.map((v) => (
              <li key={String(v.version)}>
                v{show(v.version)} · {time(v.trained)} {v.samples !== undefined ? `· ${num(v.samples)} samples` : ''}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </Panel>
  );
}

export function ModelsPage(props: { me: Me }) {
  const models = useLoad((signal) => api<{ models: Model[] }>('/api/v1/models', { signal }), []);
  return (
    <div class="page" data-testid="page-models">
      <header class="page-head">
        <h1>Models</h1>
      </header>
      {models.error ? (
        <Panel title="Anomaly models">
          <Failure error={models.error} what="The models list" />
        </Panel>
      ) : !models.data ? (
        <Loading what="models" />
      ) : models.data.models.length === 0 ? (
        <Empty>No models yet. Train one with `vigil model train`.</Empty>
      ) : (
        <div class="grid grid-2">
          {models.data.models.map((m) => (
            <ModelCard key={m.id} model={m} me={props.me} />
          ))}
        </div>
      )}
    </div>
  );
}
