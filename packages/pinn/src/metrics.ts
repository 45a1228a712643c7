// Validation metrics: relative errors per quantity and depth, hydrostatic residuals, errors against labels.
import { QUANTITIES, type Quantity } from './config.js';
import { tauOf, type AtmosphereLike } from './atmosphere.js';
import type { PinnEmulator } from './emulator.js';
import { hydrostaticResidualFD, median, quantile } from './physics.js';

/** Median and 16/84 % quantiles. */
export interface Spread {
  median: number;
  p16: number;
  p84: number;
}

function spread(v: ArrayLike<number>): Spread {
  return { median: quantile(v, 0.5), p16: quantile(v, 0.16), p84: quantile(v, 0.84) };
}

/** Emulator predictions on each model's own tau layers (batched over all points). */
export function predictOnOwnLayers(emu: PinnEmulator, models: AtmosphereLike[]): Record<Quantity, Float64Array>[] {
  const out: Record<Quantity, Float64Array>[] = [];
  // Group models by identical tau grid is not possible in general; use the tau-grid path per model.
  for (const m of models) {
    const tau = Array.from(tauOf(m));
    const [p] = emu.predictAtmosphere([m], { tauGrid: tau, useTauCache: false, allowExtrapolation: true });
    const rec = {} as Record<Quantity, Float64Array>;
    for (const q of QUANTITIES) rec[q] = Float64Array.from(p[q]);
    out.push(rec);
  }
  return out;
}

/** Validation report: the paper's Fig. 2 (per depth), Figs. 3-4 (hydrostatic) and errors against labels. */
export interface ValidationMetrics {
  /** Median and 16/84 % of |pred/true - 1| over all points, per quantity (fractions). */
  overall: Record<Quantity, Spread>;
  /** Same per layer index (surface = 0). */
  byDepth: Record<Quantity, Spread[]>;
  /** Per-model median hydrostatic residual (FD estimator): emulator and the ground truth itself. */
  hydrostatic: { emulator: Spread & { p90: number }; truth: Spread & { p90: number }; withAccrad: boolean };
  /** Per model: labels and the median relative error per quantity (for plots against labels). */
  perModel: { teffK: number; logg: number; feh: number; afe: number; medianRelError: Record<Quantity, number>; hydroEmu: number; hydroTruth: number }[];
}

/** Compute validation metrics on `models` (ground truth) for emulator `emu`. */
export function validationMetrics(
  emu: PinnEmulator,
  models: AtmosphereLike[],
  opts: { withAccrad?: boolean; maskOuterLayers?: number; maskInnerLayers?: number } = {},
): ValidationMetrics {
  const withAccrad = opts.withAccrad ?? true;
  const mo = opts.maskOuterLayers ?? emu.physics.maskOuterLayers;
  const mi = opts.maskInnerLayers ?? emu.physics.maskInnerLayers;
  const preds = predictOnOwnLayers(emu, models);
  const all = Object.fromEntries(QUANTITIES.map((q) => [q, [] as number[]])) as Record<Quantity, number[]>;
  const depth = Object.fromEntries(QUANTITIES.map((q) => [q, [] as number[][]])) as Record<Quantity, number[][]>;
  const perModel: ValidationMetrics['perModel'] = [];
  const hydroE: number[] = [];
  const hydroT: number[] = [];
  models.forEach((m, j) => {
    const p = preds[j];
    const med = {} as Record<Quantity, number>;
    for (const q of QUANTITIES) {
      const errs: number[] = [];
      for (let i = 0; i < m.nLayers; i++) {
        const e = Math.abs(p[q][i] / m[q][i] - 1);
        errs.push(e);
        all[q].push(e);
        (depth[q][i] ??= []).push(e);
      }
      med[q] = median(errs);
    }
    const tau = tauOf(m);
    const g = 10 ** m.logg;
    const inner = (r: Float64Array) => median(r.subarray(mo, m.nLayers - mi));
    const he = inner(hydrostaticResidualFD(g, tau, p.pressure, p.abross, withAccrad ? p.accrad : null));
    const ht = inner(hydrostaticResidualFD(g, tau, m.pressure, m.abross, withAccrad ? m.accrad : null));
    hydroE.push(he);
    hydroT.push(ht);
    perModel.push({ teffK: m.teffK, logg: m.logg, feh: m.feh, afe: m.afe, medianRelError: med, hydroEmu: he, hydroTruth: ht });
  });
  return {
    overall: Object.fromEntries(QUANTITIES.map((q) => [q, spread(all[q])])) as Record<Quantity, Spread>,
    byDepth: Object.fromEntries(QUANTITIES.map((q) => [q, depth[q].map(spread)])) as Record<Quantity, Spread[]>,
    hydrostatic: { emulator: { ...spread(hydroE), p90: quantile(hydroE, 0.9) }, truth: { ...spread(hydroT), p90: quantile(hydroT, 0.9) }, withAccrad },
    perModel,
  };
}
