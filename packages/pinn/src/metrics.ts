// Validation metrics: relative errors per quantity and depth, hydrostatic residuals, errors against labels.
import { ATMOSPHERE_QUANTITIES, hydrostaticResidual, type AtmosphereQuantity, type HydrostaticOptions } from '@stellar-emu/grid-io';
import { median, quantile } from '@stellar-emu/numerics';
import { tauOf, type AtmosphereLike } from './atmosphere.js';
import type { PinnEmulator } from './emulator.js';

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
export function predictOnOwnLayers(emu: PinnEmulator, models: AtmosphereLike[]): Record<AtmosphereQuantity, Float64Array>[] {
  const out: Record<AtmosphereQuantity, Float64Array>[] = [];
  // Group models by identical tau grid is not possible in general; use the tau-grid path per model.
  for (const m of models) {
    const tau = Array.from(tauOf(m));
    const [p] = emu.predictAtmosphere([m], { tauGrid: tau, useTauCache: false, allowExtrapolation: true });
    const rec = {} as Record<AtmosphereQuantity, Float64Array>;
    for (const q of ATMOSPHERE_QUANTITIES) rec[q] = Float64Array.from(p[q]);
    out.push(rec);
  }
  return out;
}

/** Validation report: the paper's Fig. 2 (per depth), Figs. 3-4 (hydrostatic) and errors against labels. */
export interface ValidationMetrics {
  /** Median and 16/84 % of |pred/true - 1| over all points, per quantity (fractions). */
  overall: Record<AtmosphereQuantity, Spread>;
  /** Same per layer index (surface = 0). */
  byDepth: Record<AtmosphereQuantity, Spread[]>;
  /** Per-model median hydrostatic residual (FD estimator): emulator and the ground truth itself. */
  hydrostatic: { emulator: Spread & { p90: number }; truth: Spread & { p90: number }; withAccrad: boolean };
  /** Per model: labels and the median relative error per quantity (for plots against labels). */
  perModel: { teffK: number; logg: number; feh: number; afe: number; medianRelError: Record<AtmosphereQuantity, number>; hydroEmu: number; hydroTruth: number }[];
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
  const all = Object.fromEntries(ATMOSPHERE_QUANTITIES.map((q) => [q, [] as number[]])) as Record<AtmosphereQuantity, number[]>;
  const depth = Object.fromEntries(ATMOSPHERE_QUANTITIES.map((q) => [q, [] as number[][]])) as Record<AtmosphereQuantity, number[][]>;
  const perModel: ValidationMetrics['perModel'] = [];
  const hydroE: number[] = [];
  const hydroT: number[] = [];
  const hydroOpts: HydrostaticOptions = { scheme: 'ln-ln', gravity: withAccrad ? 'g-accrad' : 'g', output: 'abs-relative' };
  models.forEach((m, j) => {
    const p = preds[j];
    const med = {} as Record<AtmosphereQuantity, number>;
    for (const q of ATMOSPHERE_QUANTITIES) {
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
    // |relative residual| of d ln P / d ln tau by finite differences, median over the inner layers.
    const inner = (a: Pick<AtmosphereLike, 'pressure' | 'abross' | 'accrad'>) =>
      median(hydrostaticResidual({ logg: m.logg, tauRosseland: tau, pressure: a.pressure, abross: a.abross, accrad: a.accrad }, hydroOpts).residual.slice(mo, m.nLayers - mi));
    const he = inner(p);
    const ht = inner(m);
    hydroE.push(he);
    hydroT.push(ht);
    perModel.push({ teffK: m.teffK, logg: m.logg, feh: m.feh, afe: m.afe, medianRelError: med, hydroEmu: he, hydroTruth: ht });
  });
  return {
    overall: Object.fromEntries(ATMOSPHERE_QUANTITIES.map((q) => [q, spread(all[q])])) as Record<AtmosphereQuantity, Spread>,
    byDepth: Object.fromEntries(ATMOSPHERE_QUANTITIES.map((q) => [q, depth[q].map(spread)])) as Record<AtmosphereQuantity, Spread[]>,
    hydrostatic: { emulator: { ...spread(hydroE), p90: quantile(hydroE, 0.9) }, truth: { ...spread(hydroT), p90: quantile(hydroT, 0.9) }, withAccrad },
    perModel,
  };
}
