// Models: each anomaly detector with its state, versions (roll back to one), the histogram of its live scores against
// its thresholds, drift (PSI) of live scores from training, and a retrain button that follows the training's progress.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api.js';
import { ago, label, num, time } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';
import type { Me } from '../lib/types.js';
import { Empty, Failure, Loading, Panel } from '../components/ui.js';
import { canTriage } from './alerts.js';

type Level = 'anomaly' | 'low' | 'medium' | 'high' | 'critical';

/** GET /api/v1/models[/:id] as ModelDetector.info() (src/detect/ml/detector.ts) answers it. */
export interface ModelInfo {
  id: string;
  title: string;
  kind: 'event' | 'entity';
  entity: string | null;
  datasets: string[];
  features: string[];
  state: 'collecting' | 'training' | 'ready';
  training_progress?: number;
  samples: number;
  min_samples: number;
  active_version: number | null;
  alert_severity?: string;
  model: {
    version: number;
    created_at: string;
    reason: string;
    training: { from: string; to: string; samples: number; excluded: number; seconds: number };
    thresholds: Record<Level, number>;
    score_quantiles: { p50: number; p90: number; p99: number; max: number };
  } | null;
  versions: { version: number; created_at?: string; reason?: string; samples?: number; seconds?: number; error?: string }[];
  live_scores?: { bins: number[]; total: number };
  drift: { psi: number | null; threshold: number; live_samples: number; window: number };
  next_retrain: string | null;
  counters: { scored: number; anomalies: number; alerts: number; trainings: number };
  last_error: string | null;
}

const LEVEL_OF_SEVERITY: Record<string, Level> = { low: 'low', medium: 'medium', high: 'high', critical: 'critical' };

/** Live scores in equal bins over [0, 1], with the level at which a score is recorded and the one that alerts. */
function ScoreHistogram(props: { model: ModelInfo }) {
  const { model } = props;
  const bins = model.live_scores?.bins ?? [];
  const total = model.live_scores?.total ?? 0;
  if (!model.model) return <Empty>No model yet: scores start once it has trained.</Empty>;
  if (total === 0) return <Empty>No event scored since this version became active.</Empty>;
  const max = Math.max(1, ...bins);
  const recordAt = model.model.thresholds.anomaly;
  const alertLevel = LEVEL_OF_SEVERITY[model.alert_severity ?? 'low'] ?? 'low';
  const alertAt = model.model.thresholds[alertLevel];
  const width = 1 / Math.max(1, bins.length);
  return (
    <div>
      <div class="histo" role="img" aria-label={`histogram of ${total} live scores`} data-testid="score-histogram">
        {bins.map((b, i) => (
          <span
            key={i}
            class={`histo-bar ${i * width >= alertAt ? 'alert' : (i + 1) * width > recordAt ? 'over' : ''}`}
            style={{ height: `${b === 0 ? 0 : Math.max(2, (Math.sqrt(b) / Math.sqrt(max)) * 100)}%` }}
            title={`${(i * width).toFixed(2)}–${((i + 1) * width).toFixed(2)}: ${num(b)} events`}
          />
        ))}
        <span class="histo-threshold" style={{ left: `${recordAt * 100}%` }} title={`recorded as an anomaly from ${recordAt.toFixed(3)}`} />
        <span class="histo-threshold histo-threshold-alert" style={{ left: `${Math.min(1, alertAt) * 100}%` }} title={`alerts (${alertLevel}) from ${alertAt.toFixed(3)}`} />
      </div>
      <div class="histo-axis muted small">
        <span>0</span>
        <span>
          {num(total)} scores · dashed: recorded from {recordAt.toFixed(2)}, red: alerts from {alertAt.toFixed(2)} (square-root scale)
        </span>
        <span>1</span>
      </div>
    </div>
  );
}

function Drift(props: { drift: ModelInfo['drift'] }) {
  const { psi, threshold, live_samples, window } = props.drift;
  if (psi === null) return <span class="muted">measuring ({num(live_samples)} of {num(window)} scores)</span>;
  const tone = psi > threshold ? 'bad-text' : psi > 0.1 ? 'warn-text' : '';
  return (
    <span class={tone} title="Population stability index of live scores over the training deciles: above 0.1 a small shift, above 0.25 a large one">
      PSI {psi.toFixed(3)} {psi > threshold ? `(over ${threshold}: retraining)` : psi > 0.1 ? '(small shift)' : '(stable)'}
    </span>
  );
}

function ModelCard(props: { model: ModelInfo; me: Me }) {
  const [model, setModel] = useState(props.model);
  const [error, setError] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [asked, setAsked] = useState(false);
  useEffect(() => setModel(props.model), [props.model]);
  const running = asked || model.state === 'training';
  // While a training runs, follow it: the state and its progress come from GET /api/v1/models/:id.
  useEffect(() => {
    if (!running) return;
    const timer = window.setInterval(async () => {
      try {
        setModel(await api<ModelInfo>(`/api/v1/models/${encodeURIComponent(model.id)}`));
      } catch {
        // keep the last known state; the next poll tries again
      }
    }, 400);
    return () => window.clearInterval(timer);
  }, [running, model.id]);
  const change = async (path: string, body: unknown, done: (answer: { version: number }) => string) => {
    setError(undefined);
    setNotice(undefined);
    setAsked(true);
    try {
      const answer = await api<{ version: number }>(`/api/v1/models/${encodeURIComponent(model.id)}/${path}`, { method: 'POST', body });
      setNotice(done(answer));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'failed');
    } finally {
      setAsked(false);
      try {
        setModel(await api<ModelInfo>(`/api/v1/models/${encodeURIComponent(model.id)}`));
      } catch {
        // the next page load shows it
      }
    }
  };
  const progress = model.training_progress ?? 0;
  const active = model.model;
  return (
    <Panel
      title={
        <span>
          {model.title} <span class={`pill ${model.state === 'ready' ? 'pill-ok' : 'pill-muted'}`}>{model.state}</span>
        </span>
      }
      actions={
        canTriage(props.me) ? (
          <button type="button" class="btn btn-sm" data-testid="retrain" disabled={running} onClick={() => void change('retrain', {}, (a) => `Version ${a.version} trained and active.`)}>
            {running ? 'Training…' : 'Retrain now'}
          </button>
        ) : null
      }
    >
      <div data-testid="model-card" data-model={model.id}>
        {running ? (
          <div class="progress-row" data-testid="training">
            <div class="progress" role="progressbar" aria-label="Training" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(progress * 100)}>
              <span style={{ width: `${Math.max(3, progress * 100)}%` }} />
            </div>
            <span class="muted small">training {Math.round(progress * 100)}%</span>
          </div>
        ) : null}
        {error ? <div class="form-error">{error}</div> : null}
        {notice ? (
          <div class="form-ok" data-testid="model-notice">
            {notice}
          </div>
        ) : null}
        <dl class="facts">
          <dt>Scores</dt>
          <dd>
            {model.kind === 'entity' ? `each ${model.entity ?? 'entity'} over a window` : 'each event'} of {model.datasets.join(', ') || 'any dataset'}
          </dd>
          <dt>Active version</dt>
          <dd data-testid="active-version">
            {active ? (
              <>
                v{active.version} · {label(active.reason)} · {ago(active.created_at)}
              </>
            ) : (
              <span class="muted">
                none yet: {num(model.samples)} of {num(model.min_samples)} samples collected
              </span>
            )}
          </dd>
          {active ? (
            <>
              <dt>Trained on</dt>
              <dd>
                {num(active.training.samples)} samples ({time(active.training.from)} → {time(active.training.to)}), {active.training.excluded ? `${num(active.training.excluded)} left out as alerted, ` : ''}
                {active.training.seconds.toFixed(1)} s
              </dd>
            </>
          ) : null}
          <dt>Drift</dt>
          <dd>
            <Drift drift={model.drift} />
          </dd>
          <dt>Since start</dt>
          <dd>
            {num(model.counters.scored)} scored, {num(model.counters.anomalies)} anomalies, {num(model.counters.alerts)} alerts
          </dd>
          <dt>Features</dt>
          <dd class="small mono">{model.features.join(', ')}</dd>
          {model.next_retrain ? (
            <>
              <dt>Next retraining</dt>
              <dd>{time(model.next_retrain)}</dd>
            </>
          ) : null}
        </dl>
        {model.last_error ? <div class="form-error">{model.last_error}</div> : null}
        <div class="field-label">Live scores of version {active ? `v${active.version}` : '–'}</div>
        <ScoreHistogram model={model} />
        {model.versions.length > 0 ? (
          <>
            <div class="field-label">Versions</div>
            <table class="table table-compact" data-testid="versions">
              <tbody>
                {[...model.versions].reverse().map((v) => (
                  <tr key={v.version}>
                    <td class="mono">v{v.version}</td>
                    <td>{v.error ? <span class="bad-text">{v.error}</span> : `${label(v.reason ?? '')} · ${time(v.created_at)}`}</td>
                    <td class="num">{v.samples !== undefined ? `${num(v.samples)} samples` : ''}</td>
                    <td class="num">
                      {v.version === model.active_version ? (
                        <span class="pill pill-ok">active</span>
                      ) : canTriage(props.me) && !v.error ? (
                        <button type="button" class="btn btn-ghost btn-sm" disabled={running} onClick={() => void change('rollback', { version: v.version }, (a) => `Version ${a.version} is active again.`)}>
                          Make active
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : null}
      </div>
    </Panel>
  );
}

export function ModelsPage(props: { me: Me }) {
  const models = useLoad((signal) => api<{ models: ModelInfo[] }>('/api/v1/models', { signal }), []);
  return (
    <div class="page" data-testid="page-models">
      <header class="page-head">
        <h1>Models</h1>
        <span class="muted small">Isolation Forest detectors: each learns what is usual from the recent stream and scores what comes next.</span>
      </header>
      {models.error ? (
        <Panel title="Anomaly models">
          <Failure error={models.error} what="The models list" />
        </Panel>
      ) : !models.data ? (
        <Loading what="models" />
      ) : models.data.models.length === 0 ? (
        <Empty>No anomaly detectors are configured (ml.enabled, ml.detectors).</Empty>
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
