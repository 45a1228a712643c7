// Pass/fail checks: one per threshold of the validation config, evaluated on the metrics.
import { ATMOSPHERE_QUANTITIES, recoveryFactor } from '@stellar-emu/grid-io';
import { binnedStats, median, type BinnedStats } from '@stellar-emu/numerics';
import {
  DEFAULT_PINN_SPECTRA_MEDIAN_ABS_DELTA_F,
  DEFAULT_PINN_SPECTRA_P95_ABS_DELTA_F,
  DEFAULT_PINN_SUN_RESIDUAL_FACTOR,
  DEFAULT_SUN_MEDIAN_ABS_RESIDUAL,
  SPECTRUM_LABELS,
  type Check,
  type CvaeSection,
  type RunMetrics,
  type SpectrumLabel,
} from '@stellar-emu/metrics';
import { LABEL_INFO } from './labels.js';

/** Bins per marginal panel of Fig. 6. */
export const MARGINAL_BINS = 8;

/**
 * The binned curve of each label's marginal panel (Fig. 6): the residual binned on that label's
 * own values (R in log10 R), mean ± standard deviation and median per bin.
 */
export function cvaeMarginals(cvae: CvaeSection): ({ label: SpectrumLabel } & BinnedStats)[] {
  const r = cvae.residuals;
  if (!r) return [];
  return SPECTRUM_LABELS.map((k) => ({
    label: k,
    ...binnedStats(r.labels[k], r.meanAbsResidual, {
      bins: MARGINAL_BINS,
      scale: k === 'resolution' ? 'log' : 'linear',
    }),
  }));
}

/** The recovery verdict factor of `label` under the run's thresholds (grid-io's defaults otherwise). */
export function recoveryFactorOf(t: RunMetrics['thresholds'], label: string): number {
  return recoveryFactor(label, t.recovery?.factors ?? t.recovery?.factor);
}

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
    for (const q of ATMOSPHERE_QUANTITIES) {
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
  if (metrics.pinnSpectra || t.pinnSpectra) {
    const ps = metrics.pinnSpectra;
    const n = ps?.models.length;
    checks.push(
      upperLimit(
        'pinnSpectra.medianAbsDeltaF',
        ps?.summary.pinn.medianOfMedians,
        t.pinnSpectra?.medianAbsDeltaF ?? DEFAULT_PINN_SPECTRA_MEDIAN_ABS_DELTA_F,
        'normalized flux',
        ps
          ? `median over ${n} models of the per-model median |F(PINN atmosphere) − F(true deck)|`
          : undefined,
      ),
      upperLimit(
        'pinnSpectra.p95AbsDeltaF',
        ps?.summary.pinn.medianOfP95,
        t.pinnSpectra?.p95AbsDeltaF ?? DEFAULT_PINN_SPECTRA_P95_ABS_DELTA_F,
        'normalized flux',
        ps
          ? `median over ${n} models of the per-model 95th percentile |F(PINN atmosphere) − F(true deck)|`
          : undefined,
      ),
    );
    const sun = ps?.sun;
    if (sun) {
      const { pinnVsObserved: p, trueVsObserved: r } = sun.residuals;
      checks.push(
        upperLimit(
          'pinnSpectra.sunResidualRatio',
          r.median > 0 ? p.median / r.median : null,
          t.pinnSpectra?.sunResidualFactor ?? DEFAULT_PINN_SUN_RESIDUAL_FACTOR,
          'ratio',
          `median |observed − synthesized| of the Sun: PINN atmosphere ${p.median.toPrecision(3)} over the true deck ${r.median.toPrecision(3)}`,
        ),
      );
    }
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
  if (t.cvae?.marginalMeanOverMedian !== undefined) {
    const overall = metrics.cvae?.residuals ? median(metrics.cvae.residuals.meanAbsResidual) : null;
    const marginals = metrics.cvae ? cvaeMarginals(metrics.cvae) : [];
    if (marginals.length === 0 || overall === null)
      checks.push(upperLimit('cvae.marginalMeanOverMedian', null, t.cvae.marginalMeanOverMedian, 'ratio'));
    for (const m of marginals) {
      const worst = Math.max(...m.mean.filter((v): v is number => v !== null));
      const bin = m.mean.indexOf(worst);
      checks.push(
        upperLimit(
          `cvae.marginalMeanOverMedian.${m.label}`,
          overall! > 0 ? worst / overall! : null,
          t.cvae.marginalMeanOverMedian,
          'ratio',
          `largest binned mean residual ${worst.toPrecision(3)} (bin ${m.edges[bin].toPrecision(4)}–${m.edges[bin + 1].toPrecision(4)}, ${m.count[bin]} spectra) over the overall median ${overall!.toPrecision(3)}`,
        ),
      );
    }
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
    const rows = metrics.recovery?.rmse ?? [];
    if (rows.length === 0) checks.push(upperLimit('recovery', null, recoveryFactorOf(t, 'teffK'), 'factor'));
    for (const row of rows) {
      const factor = recoveryFactorOf(t, row.label);
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
