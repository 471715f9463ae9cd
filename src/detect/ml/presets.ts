// The detectors Vigil ships: web requests per event, and source IPs, users and hosts per window. A detector in the
// configuration names a preset and overrides any of its fields; `resolveDetector` merges and checks the result.
import type { DetectorConfig, FeatureConfig, FieldFilter, MlConfig } from '../../config/ml.js';
import { VigilError } from '../../core/errors.js';
import { parseDuration } from '../../core/time.js';

type Preset = Omit<Partial<DetectorConfig>, 'id' | 'preset' | 'enabled'> & { title: string; kind: 'event' | 'entity'; features: FeatureConfig[] };

const failure: FieldFilter = { field: 'event.outcome', equals: 'failure' };

export const PRESETS: Record<NonNullable<DetectorConfig['preset']>, Preset> = {
  web: {
    title: 'Unusual web request',
    kind: 'event',
    datasets: ['nginx.access', 'apache.access'],
    entity: 'source.ip',
    features: [
      { name: 'response_time_ms', builtin: 'response_time_ms', log: true },
      { name: 'status_class', builtin: 'status_class' },
      { name: 'response_bytes', builtin: 'response_bytes', log: true },
      { name: 'url_length', builtin: 'url_length', log: true },
      { name: 'query_params', builtin: 'query_params' },
      { name: 'query_letters', builtin: 'query_letters' },
      { name: 'query_digits', builtin: 'query_digits' },
      { name: 'query_special', builtin: 'query_special' },
      { name: 'query_encoded', builtin: 'query_encoded', log: true },
      { name: 'query_entropy', builtin: 'query_entropy' },
      { name: 'method', builtin: 'method' },
    ],
  },
  source_ip: {
    title: 'Unusual activity from a source address',
    kind: 'entity',
    entity: 'source.ip',
    window: '1m',
    features: [
      { name: 'events', agg: 'count', log: true },
      { name: 'failure_ratio', agg: 'ratio', where: [failure] },
      { name: 'distinct_users', agg: 'distinct', field: 'user.name', log: true },
      { name: 'distinct_dest_ports', agg: 'distinct', field: 'destination.port', log: true },
      { name: 'distinct_dest_ips', agg: 'distinct', field: 'destination.ip', log: true },
      { name: 'distinct_urls', agg: 'distinct', field: 'url.path', log: true },
      { name: 'ratio_4xx', agg: 'ratio', where: [{ field: 'http.response.status_code', min: 400, max: 500 }] },
      { name: 'ratio_5xx', agg: 'ratio', where: [{ field: 'http.response.status_code', min: 500, max: 600 }] },
      { name: 'bytes', agg: 'sum', field: ['http.response.body.bytes', 'source.bytes', 'destination.bytes'], log: true },
    ],
  },
  user: {
    title: 'Unusual login activity of a user',
    kind: 'entity',
    entity: 'user.name',
    where: [{ field: 'event.category', equals: 'authentication' }],
    window: '1m',
    features: [
      { name: 'logins', agg: 'count', where: [{ field: 'event.outcome', equals: 'success' }], log: true },
      { name: 'failures', agg: 'count', where: [failure], log: true },
      { name: 'distinct_source_ips', agg: 'distinct', field: 'source.ip', log: true },
      { name: 'distinct_countries', agg: 'distinct', field: 'source.geo.country_iso_code' },
    ],
  },
  host: {
    title: 'Unusual resource use on a host',
    kind: 'entity',
    entity: 'host.name',
    datasets: ['host.metrics', 'host.network', 'host.process'],
    window: '1m',
    features: [
      { name: 'cpu', agg: 'mean', field: 'host.cpu.usage' },
      { name: 'memory', agg: 'mean', field: 'system.memory.actual.used.pct' },
      { name: 'network_bytes', agg: 'sum', field: ['host.network.ingress.bytes', 'host.network.egress.bytes'], log: true },
      { name: 'connections', agg: 'count', where: [{ field: 'event.dataset', equals: 'host.network' }, { field: 'event.action', equals: 'connection_opened' }], log: true },
      { name: 'new_processes', agg: 'count', where: [{ field: 'event.dataset', equals: 'host.process' }, { field: 'event.action', equals: 'start' }], log: true },
    ],
  },
};

/** A detector with every setting decided: preset merged, global defaults applied, durations in milliseconds. */
export interface DetectorSpec {
  id: string;
  title: string;
  kind: 'event' | 'entity';
  datasets: string[];
  where: FieldFilter[];
  entity: string | undefined;
  features: FeatureConfig[];
  windowMs: number;
  stepMs: number;
  latenessMs: number;
  maxEntities: number;
  trees: number;
  sampleSize: number;
  minSamples: number;
  maxTrainingSamples: number;
  trainingWindowMs: number;
  retrainCron: string;
  retrainTimezone: string | undefined;
  psiThreshold: number;
  driftSamples: number;
  severity: MlConfig['severity'];
  alertSeverity: MlConfig['alert_severity'];
  maxVersions: number;
  seed: number;
}

export function resolveDetector(d: DetectorConfig, ml: MlConfig): DetectorSpec {
  const preset = d.preset ? PRESETS[d.preset] : undefined;
  const pick = <K extends keyof DetectorConfig>(key: K): DetectorConfig[K] | undefined => (d[key] !== undefined ? d[key] : (preset as Partial<DetectorConfig> | undefined)?.[key]);
  const kind = pick('kind');
  const features = pick('features');
  if (kind === undefined) throw new VigilError('bad_config', `ml detector ${d.id}: set "kind" (event or entity) or a "preset"`);
  if (!features || features.length === 0) throw new VigilError('bad_config', `ml detector ${d.id}: set "features" or a "preset"`);
  const names = new Set(features.map((f) => f.name));
  if (names.size !== features.length) throw new VigilError('bad_config', `ml detector ${d.id}: feature names must be unique`);
  const entity = pick('entity');
  if (kind === 'entity' && !entity) throw new VigilError('bad_config', `ml detector ${d.id}: an entity detector needs "entity" (e.g. source.ip)`);
  const windowMs = parseDuration(pick('window') ?? '1m');
  const stepMs = parseDuration(pick('step') ?? pick('window') ?? '1m');
  const sampleSize = d.sample_size ?? ml.sample_size;
  const minSamples = d.min_samples ?? ml.min_samples;
  const maxTrainingSamples = d.max_training_samples ?? ml.max_training_samples;
  if (maxTrainingSamples < minSamples) throw new VigilError('bad_config', `ml detector ${d.id}: max_training_samples (${maxTrainingSamples}) is below min_samples (${minSamples})`);
  return {
    id: d.id,
    title: d.title ?? preset?.title ?? d.id,
    kind,
    datasets: pick('datasets') ?? [],
    where: pick('where') ?? [],
    entity,
    features,
    windowMs,
    stepMs,
    latenessMs: parseDuration(pick('lateness') ?? '5s'),
    maxEntities: pick('max_entities') ?? 10_000,
    trees: d.trees ?? ml.trees,
    sampleSize,
    minSamples,
    maxTrainingSamples,
    trainingWindowMs: parseDuration(d.training_window ?? ml.training_window),
    retrainCron: d.retrain_cron ?? ml.retrain_cron,
    retrainTimezone: ml.retrain_timezone,
    psiThreshold: d.psi_threshold ?? ml.psi_threshold,
    driftSamples: d.drift_samples ?? ml.drift_samples,
    severity: ml.severity,
    alertSeverity: ml.alert_severity,
    maxVersions: ml.max_versions,
    seed: ml.seed,
  };
}
