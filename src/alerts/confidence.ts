// Bayesian confidence: each rule or model carries a Beta prior of its alerts being true positives, updated by verdicts.
// The posterior mean α / (α + β) is the confidence of its next alert; a false-positive verdict visibly lowers it.
import type { Severity } from '../core/detection.js';
import type { Verdict } from '../core/alert.js';

export interface BetaPrior {
  alpha: number;
  beta: number;
}

/**
 * Defaults by severity, worth a few verdicts each (α + β small), so that an analyst's first verdicts move them:
 * a critical rule starts at 0.8, high 0.67, medium 0.5, low 0.29, informational 0.1.
 */
export const DEFAULT_PRIORS: Record<Severity, BetaPrior> = {
  critical: { alpha: 8, beta: 2 },
  high: { alpha: 6, beta: 3 },
  medium: { alpha: 4, beta: 4 },
  low: { alpha: 2, beta: 5 },
  informational: { alpha: 1, beta: 9 },
};

/** What one verdict adds: a benign alert (real activity, not a threat) counts as half a false positive. */
const VERDICT_WEIGHT: Record<Verdict, BetaPrior> = {
  true_positive: { alpha: 1, beta: 0 },
  false_positive: { alpha: 0, beta: 1 },
  benign: { alpha: 0, beta: 0.5 },
};

export interface SourceConfidence {
  prior: BetaPrior;
  true_positives: number;
  false_positives: number;
  benign: number;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export class ConfidenceModel {
  private readonly sources = new Map<string, SourceConfidence>();

  /** The record of a rule or model, created with its severity's prior on first sight. */
  source(id: string, severity: Severity): SourceConfidence {
    let record = this.sources.get(id);
    if (!record) {
      record = { prior: { ...DEFAULT_PRIORS[severity] }, true_positives: 0, false_positives: 0, benign: 0 };
      this.sources.set(id, record);
    }
    return record;
  }

  /** Records a verdict change on one alert of the source (`from` is taken back first). */
  applyVerdict(id: string, severity: Severity, from: Verdict | null, to: Verdict | null): void {
    const record = this.source(id, severity);
    const key = { true_positive: 'true_positives', false_positive: 'false_positives', benign: 'benign' } as const;
    if (from) record[key[from]] = Math.max(0, record[key[from]] - 1);
    if (to) record[key[to]] += 1;
  }

  posterior(id: string, severity: Severity): BetaPrior {
    const r = this.source(id, severity);
    let { alpha, beta } = r.prior;
    for (const [verdict, n] of [['true_positive', r.true_positives], ['false_positive', r.false_positives], ['benign', r.benign]] as const) {
      alpha += VERDICT_WEIGHT[verdict].alpha * n;
      beta += VERDICT_WEIGHT[verdict].beta * n;
    }
    return { alpha, beta };
  }

  /** The confidence of a new alert from this source, and why. */
  confidence(id: string, severity: Severity): { value: number; explanation: string } {
    const r = this.source(id, severity);
    const { alpha, beta } = this.posterior(id, severity);
    const value = round(alpha / (alpha + beta));
    const verdicts = r.true_positives + r.false_positives + r.benign;
    const explanation =
      `Beta(${round(alpha)}, ${round(beta)}) from the ${severity} prior Beta(${r.prior.alpha}, ${r.prior.beta})` +
      (verdicts === 0 ? ' (no verdicts yet)' : ` and ${r.true_positives} true positive, ${r.false_positives} false positive, ${r.benign} benign verdicts`);
    return { value, explanation };
  }

  snapshot(): Record<string, SourceConfidence> {
    return Object.fromEntries(this.sources);
  }

  restore(snapshot: Record<string, SourceConfidence>): void {
    for (const [id, record] of Object.entries(snapshot)) this.sources.set(id, record);
  }
}

const logit = (p: number) => Math.log(p / (1 - p));
const clampP = (p: number) => Math.min(0.999, Math.max(0.001, p));

/**
 * An incident's confidence from its alerts' confidences, as independent evidence in log-odds over a base rate:
 * logit(P) = logit(base) + Σ (logit(pᵢ) − logit(base)). Two 0.6 alerts make 0.69 over a 0.5 base; a 0.2 alert lowers it.
 */
export function combineConfidence(confidences: readonly number[], base = 0.5): number {
  const b = logit(clampP(base));
  let sum = b;
  for (const p of confidences) sum += logit(clampP(p)) - b;
  return round(1 / (1 + Math.exp(-sum)));
}
