// Normalization of labels, log tau and the six outputs (z-scores of log10 values).
import { ATMOSPHERE_QUANTITIES } from '@stellar-emu/grid-io';
import { LABEL_NAMES } from './config.js';
import { tauOf, type AtmosphereLike, type StellarLabels } from './atmosphere.js';

/**
 * Statistics stored with every checkpoint and model. Inputs: [log10 Teff, log g, [Fe/H],
 * [alpha/Fe]] and log10 tau, z-scored; outputs: log10 of each quantity, z-scored (applied with
 * grid-io's `standardize` / `unstandardize`; the fields below are model.json's).
 * A label with zero spread in the training set (e.g. [alpha/Fe] in ATLAS9) gets std 1.
 */
export interface Normalization {
  labelMean: number[];
  labelStd: number[];
  logTauMean: number;
  logTauStd: number;
  outMean: number[];
  outStd: number[];
  /** Training range of each physical label (for the extrapolation check). */
  labelMin: number[];
  labelMax: number[];
  /** Training range of log10 tau. */
  logTauMin: number;
  logTauMax: number;
  /** Default prediction grid: uniform in log10 tau. */
  defaultLogTauGrid: number[];
}

/** Label feature vector [log10 Teff, log g, [Fe/H], [alpha/Fe]]. */
export function labelFeatures(l: StellarLabels): number[] {
  return [Math.log10(l.teffK), l.logg, l.feh, l.afe];
}

function meanStd(values: Float64Array | number[]): [number, number] {
  let s = 0;
  for (const v of values) s += v;
  const m = s / values.length;
  let q = 0;
  for (const v of values) q += (v - m) ** 2;
  const sd = Math.sqrt(q / values.length);
  return [m, sd > 1e-6 ? sd : 1];
}

/** Statistics over the training models (every layer of every model). */
export function computeNormalization(models: AtmosphereLike[]): Normalization {
  const feats = LABEL_NAMES.map(() => [] as number[]);
  const phys = LABEL_NAMES.map(() => [] as number[]);
  let nPoints = 0;
  for (const m of models) nPoints += m.nLayers;
  const logTau = new Float64Array(nPoints);
  const outs = ATMOSPHERE_QUANTITIES.map(() => new Float64Array(nPoints));
  let p = 0;
  let maxLayers = 0;
  for (const m of models) {
    const f = labelFeatures(m);
    f.forEach((v, i) => feats[i].push(v));
    [m.teffK, m.logg, m.feh, m.afe].forEach((v, i) => phys[i].push(v));
    const tau = tauOf(m);
    maxLayers = Math.max(maxLayers, m.nLayers);
    for (let i = 0; i < m.nLayers; i++, p++) {
      logTau[p] = Math.log10(tau[i]);
      ATMOSPHERE_QUANTITIES.forEach((q, k) => {
        const v = m[q][i];
        if (!(v > 0))
          throw new Error(
            `${q}[${i}] = ${v} is not positive (model Teff ${m.teffK}, log g ${m.logg}): log10 outputs need positive values`,
          );
        outs[k][p] = Math.log10(v);
      });
    }
  }
  const lt = meanStd(logTau);
  const sorted = Float64Array.from(logTau).sort();
  const lo = sorted[Math.floor(0.005 * (sorted.length - 1))];
  const hi = sorted[Math.ceil(0.995 * (sorted.length - 1))];
  return {
    labelMean: feats.map((f) => meanStd(f)[0]),
    labelStd: feats.map((f) => meanStd(f)[1]),
    logTauMean: lt[0],
    logTauStd: lt[1],
    outMean: outs.map((o) => meanStd(o)[0]),
    outStd: outs.map((o) => meanStd(o)[1]),
    labelMin: phys.map((v) => Math.min(...v)),
    labelMax: phys.map((v) => Math.max(...v)),
    logTauMin: sorted[0],
    logTauMax: sorted[sorted.length - 1],
    defaultLogTauGrid: Array.from(
      { length: maxLayers },
      (_, i) => lo + ((hi - lo) * i) / Math.max(1, maxLayers - 1),
    ),
  };
}

/** Error for labels outside the training range without `allowExtrapolation`. */
export class ExtrapolationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExtrapolationError';
  }
}

/**
 * Throw an ExtrapolationError naming the first label outside the training box (the box of the
 * training labels; the ATLAS9 grid is not rectangular in Teff-log g, so inside the box is
 * necessary, not sufficient, for interpolation).
 */
export function checkLabelRange(norm: Normalization, labels: StellarLabels[], logTauGrid?: number[]): void {
  labels.forEach((l, j) => {
    const v = [l.teffK, l.logg, l.feh, l.afe];
    v.forEach((x, i) => {
      if (!Number.isFinite(x))
        throw new ExtrapolationError(`labels[${j}].${LABEL_NAMES[i]} = ${x} is not a finite number`);
      const tol = 1e-9 * Math.max(1, Math.abs(norm.labelMax[i]));
      if (x < norm.labelMin[i] - tol || x > norm.labelMax[i] + tol) {
        throw new ExtrapolationError(
          `labels[${j}].${LABEL_NAMES[i]} = ${x} is outside the training range [${norm.labelMin[i]}, ${norm.labelMax[i]}]; ` +
            'pass allowExtrapolation (CLI: --allow-extrapolation) to predict anyway',
        );
      }
    });
  });
  if (logTauGrid) {
    for (const t of logTauGrid) {
      if (!(t >= norm.logTauMin - 1e-6 && t <= norm.logTauMax + 1e-6)) {
        throw new ExtrapolationError(
          `log10 tau = ${t} is outside the training range [${norm.logTauMin.toFixed(3)}, ${norm.logTauMax.toFixed(3)}]; pass allowExtrapolation to predict anyway`,
        );
      }
    }
  }
}
