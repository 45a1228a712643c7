// Pass/fail checks: one per threshold of the validation config, evaluated on the metrics.
import {
  DEFAULT_RECOVERY_FACTOR,
  DEFAULT_SUN_MEDIAN_ABS_RESIDUAL,
  LABEL_INFO,
  PINN_QUANTITIES,
  type Check,
  type RunMetrics,
} from './metrics-schema.js';
import { median } from './stats.js';

function upperLimit(
  name: string,
  value: number | null | undefined,
  limit: number,
  unit: string,
  detail?: string,
): Check {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return { name, value: null, limit, unit, pass: false, detail: 'metric missing from the run' };
  }
  return { name, value, limit, unit, pass: value <= limit, ...(detail ? { detail } : {}) };
}

/**
 * Every check the thresholds ask for. A threshold whose metric is missing fails (a CI gate must
 * not pass because a section was not produced). Recovery verdicts are made whenever recovery
 * metrics exist, with the default factor when the config gives none.
 */
export function evaluateChecks(metrics: RunMetrics): Check[] {
  const t = metrics.thresholds;
  const checks: Check[] = [];
  if (t.pinn?.medianPercent) {
    for (const q of PINN_QUANTITIES) {
      const limit = t.pinn.medianPercent[q];
      if (limit === undefined) continue;
      checks.push(upperLimit(`pinn.medianPercent.${q}`, metrics.pinn?.summary.medianPercent[q], limit, '%'));
    }
  }
  if (t.pinn?.hydrostaticMedianAbsDex !== undefined) {
    const r = metrics.pinn?.hydrostaticResiduals?.find((x) => x.model === 'pinn');
    const value = r ? median(r.residualDex.map(Math.abs)) : null;
    checks.push(upperLimit('pinn.hydrostaticMedianAbsDex', value, t.pinn.hydrostaticMedianAbsDex, 'dex'));
  }
  if (t.cvae?.medianResidual !== undefined) {
    checks.push(
      upperLimit(
        'cvae.medianResidual',
        metrics.cvae?.summary.median,
        t.cvae.medianResidual,
        'normalized flux',
      ),
    );
  }
  if (t.cvae?.p95Residual !== undefined) {
    checks.push(
      upperLimit('cvae.p95Residual', metrics.cvae?.summary.p95, t.cvae.p95Residual, 'normalized flux'),
    );
  }
  if (metrics.synthesis?.sun || t.synthesis) {
    const sun = metrics.synthesis?.sun;
    checks.push(
      upperLimit(
        'synthesis.sunMedianAbsResidual',
        sun?.medianAbsResidual,
        t.synthesis?.sunMedianAbsResidual ?? DEFAULT_SUN_MEDIAN_ABS_RESIDUAL,
        'normalized flux',
        sun ? `synthesized Sun vs observed over ${sun.pixels} pixels` : undefined,
      ),
    );
  }
  if (metrics.recovery || t.recovery) {
    const factor = t.recovery?.factor ?? DEFAULT_RECOVERY_FACTOR;
    const rows = metrics.recovery?.rmse ?? [];
    if (rows.length === 0) checks.push(upperLimit('recovery', null, factor, 'factor'));
    for (const row of rows) {
      checks.push(
        upperLimit(
          `recovery.${row.label}`,
          row.generated,
          factor * row.test,
          LABEL_INFO[row.label].unit,
          `generated RMSE ≤ ${factor} × test RMSE (${row.test})`,
        ),
      );
    }
  }
  return checks;
}
