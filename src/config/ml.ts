// The `ml` block of the configuration: anomaly detectors (Isolation Forest models over per-event and per-entity
// features), their defaults, severity calibration and retraining. Referenced from config.ts; documented in README.
import { Cron } from 'croner';
import { z } from 'zod';
import { parseDuration } from '../core/time.js';

/** A duration such as `30s`, `1m`, `7d` (validated here, converted where it is compiled). */
const duration = z.string().refine(
  (text) => {
    try {
      return parseDuration(text) > 0;
    } catch {
      return false;
    }
  },
  { message: 'must be a duration such as 30s, 1m, 1h or 7d' },
);

/** A cron expression (5 or 6 fields, as croner reads them), or an empty string for none. */
const cron = z.string().refine(
  (text) => {
    if (text.trim() === '') return true;
    try {
      new Cron(text, { paused: true });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a cron expression such as "0 3 * * *" (minute hour day month weekday), or "" for none' },
);

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A condition on one field of an event; all the given parts must hold. */
export const fieldFilterSchema = z.strictObject({
  field: z.string().min(1),
  /** The field (or any element of an array field) equals one of these. */
  equals: z.union([scalar, z.array(scalar)]).optional(),
  /** A number at least this. */
  min: z.number().optional(),
  /** A number below this. */
  max: z.number().optional(),
  /** The field is present (true) or absent (false). */
  exists: z.boolean().optional(),
});

export const WEB_FEATURES = [
  'response_time_ms',
  'status_class',
  'response_bytes',
  'url_length',
  'query_params',
  'query_letters',
  'query_digits',
  'query_special',
  'query_encoded',
  'query_entropy',
  'method',
] as const;
export type WebFeature = (typeof WEB_FEATURES)[number];

export const featureSchema = z.strictObject({
  /** Shown in explanations; lower case, digits and underscores. */
  name: z.string().regex(/^[a-z0-9_]{1,64}$/, 'lower case letters, digits and _ only'),
  /** Per-event detectors: one of the built-in web request features. */
  builtin: z.enum(WEB_FEATURES).optional(),
  /**
   * Per-event detectors: a numeric field read from the event. Entity detectors: the field that `distinct` counts or
   * that `sum`/`mean`/`max` aggregate (a list sums the fields that are present).
   */
  field: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** Entity detectors: how the window's events become one number. `ratio` is matching events / all events. */
  agg: z.enum(['count', 'ratio', 'distinct', 'sum', 'mean', 'max']).optional(),
  /** Entity detectors: only events matching all of these count towards this feature. */
  where: z.array(fieldFilterSchema).optional(),
  /** Give the forest log(1 + x) (heavy-tailed counts and sizes); explanations still show x. */
  log: z.boolean().optional(),
});

/** Settings every detector inherits from the `ml` block and may override. */
const tunables = {
  /** Trees per forest. */
  trees: z.number().int().min(1).max(1000).optional(),
  /** Sub-sample size per tree (ψ). */
  sample_size: z.number().int().min(2).max(65536).optional(),
  /** A detector trains its first model (and starts scoring) once it has this many samples. */
  min_samples: z.number().int().min(16).optional(),
  /** Samples kept for training, newest first. */
  max_training_samples: z.number().int().min(16).max(1_000_000).optional(),
  /** Only samples this recent (event time, counted back from the newest) are trained on. */
  training_window: duration.optional(),
  /** Retrain on this schedule (cron, local time unless retrain_timezone); "" for never. */
  retrain_cron: cron.optional(),
  /** Retrain when the population stability index of live scores against training scores exceeds this. */
  psi_threshold: z.number().positive().optional(),
  /** Live scores per drift check. */
  drift_samples: z.number().int().min(50).optional(),
};

const severityQuantiles = z
  .strictObject({
    /** Scores above this quantile of the training scores are anomalies: recorded as events, not alerted. */
    anomaly: z.number().gt(0).lt(1).default(0.99),
    low: z.number().gt(0).lt(1).default(0.999),
    medium: z.number().gt(0).lt(1).default(0.9999),
    high: z.number().gt(0).lt(1).default(0.99999),
    critical: z.number().gt(0).lt(1).default(0.999999),
  })
  .refine((q) => q.anomaly < q.low && q.low < q.medium && q.medium < q.high && q.high < q.critical, {
    message: 'quantiles must increase: anomaly < low < medium < high < critical',
  });

export const detectorSchema = z.strictObject({
  /** Stable id: names the model's folder under <data_dir>/models and the detections' source. */
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower case letters, digits, - and _ only'),
  /** Start from a shipped detector (web, source_ip, user, host); fields given here replace the preset's. */
  preset: z.enum(['web', 'source_ip', 'user', 'host']).optional(),
  enabled: z.boolean().default(true),
  title: z.string().optional(),
  /** `event`: one sample per event; `entity`: one sample per entity per window. */
  kind: z.enum(['event', 'entity']).optional(),
  /** Only events of these datasets (`event.dataset`); empty or absent means all. */
  datasets: z.array(z.string()).optional(),
  /** Only events matching all of these. */
  where: z.array(fieldFilterSchema).optional(),
  /** The field naming whom a sample is about (per-event: reported; entity: windows are kept per value). */
  entity: z.string().optional(),
  features: z.array(featureSchema).min(1).optional(),
  /** Entity detectors: window length, event time. */
  window: duration.optional(),
  /** Entity detectors: how far the window slides between samples; equal to the window by default. */
  step: duration.optional(),
  /** Entity detectors: events up to this late still count in their own window. */
  lateness: duration.optional(),
  /** Entity detectors: entities tracked at once; the least recently seen is evicted beyond this. */
  max_entities: z.number().int().min(1).optional(),
  ...tunables,
});

export const mlSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    trees: z.number().int().min(1).max(1000).default(100),
    sample_size: z.number().int().min(2).max(65536).default(256),
    min_samples: z.number().int().min(16).default(256),
    max_training_samples: z.number().int().min(16).max(1_000_000).default(10_000),
    training_window: duration.default('7d'),
    /** Daily at 03:00. */
    retrain_cron: cron.default('0 3 * * *'),
    /** IANA time zone of retrain_cron (e.g. UTC, Europe/Paris); the machine's own when absent. */
    retrain_timezone: z.string().optional(),
    /** 0.25 is the usual "significant shift" mark for the population stability index. */
    psi_threshold: z.number().positive().default(0.25),
    drift_samples: z.number().int().min(50).default(1000),
    /** Severity levels as quantiles of the training score distribution (see README, "Severity"). */
    severity: severityQuantiles.prefault({}),
    /** Anomalies at or above this severity become alerts; below it they are only recorded. */
    alert_severity: z.enum(['low', 'medium', 'high', 'critical']).default('low'),
    /** Model versions kept per detector (the active one is always kept). */
    max_versions: z.number().int().min(1).default(10),
    /** Seed of the forests: the same samples give the same model. */
    seed: z.number().int().min(0).max(0xffffffff).default(0),
    detectors: z
      .array(detectorSchema)
      .default([
        { id: 'web-requests', preset: 'web', enabled: true },
        { id: 'source-ip', preset: 'source_ip', enabled: true },
        { id: 'user-logins', preset: 'user', enabled: true },
        { id: 'host-activity', preset: 'host', enabled: true },
      ])
      .refine((list) => new Set(list.map((d) => d.id)).size === list.length, { message: 'detector ids must be unique' }),
  })
  .prefault({});

export type MlConfig = z.infer<typeof mlSchema>;
export type DetectorConfig = z.infer<typeof detectorSchema>;
export type FeatureConfig = z.infer<typeof featureSchema>;
export type FieldFilter = z.infer<typeof fieldFilterSchema>;
export type SeverityQuantiles = z.infer<typeof severityQuantiles>;
