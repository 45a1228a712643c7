// Evaluation of a trained model directory on a dataset split: the report's `pinn` section (typed against @stellar-emu/metrics).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { initBackend } from '@stellar-emu/nn-core';
import {
  ATMOSPHERE_QUANTITIES,
  effectiveGravity,
  hydrostaticResidual,
  VAL_SPLIT,
  type AtmosphereQuantity,
  type HydrostaticGravity,
  type SplitName,
} from '@stellar-emu/grid-io';
import type { HydrostaticCurve, PinnSection } from '@stellar-emu/metrics';
import { median, quantile } from '@stellar-emu/numerics';
import type { AtmosphereLike, PredictedAtmosphere } from './atmosphere.js';
import { readAtmosphereSplits, type DatasetAtmosphere } from './dataset.js';
import type { PinnEmulator } from './emulator.js';
import { loadPinnModel } from './model-dir.js';

/** The star of the hydrostatic diagnostic (paper Fig. 3): a red giant. */
export const HYDROSTATIC_STAR = { teffK: 4500, logg: 2.5, feh: 0, afe: 0 } as const;

/** Options of `evaluatePinnModel`. */
export interface EvaluatePinnOptions {
  modelDir: string;
  datasetDir: string;
  /** Split to evaluate on (default grid-io `VAL_SPLIT`, 'val'); written as `split` in the metrics. */
  split?: SplitName;
  /** MLP baseline (alpha = 0) model directory, for the hydrostatic comparison. */
  baselineModelDir?: string;
  /** Path of the metrics JSON to write. */
  out: string;
  /** Width of the log10 tau bins of the depth-error curves (default 0.25 dex). */
  logTauBinDex?: number;
}

/**
 * The metrics JSON of {@link evaluatePinnModel}: the report's `pinn` section (the contract's
 * `PinnSection`, so a field drifting from it is a compile error) and, beside it, the hydrostatic
 * summary, conventions and provenance (extra keys the contract's parse drops).
 */
export type PinnMetrics = PinnSection & {
  summary: PinnSection['summary'] & {
    /** Median |hydrostatic residual| of the PINN, dex; of the grid itself and of the baseline beside it. */
    medianHydrostaticResidual: number;
    medianHydrostaticResidualGrid: number;
    medianHydrostaticResidualBaseline?: number;
  };
  hydrostaticGravity: 'g - ACCRAD' | 'g';
  hydrostaticMask: { outerLayers: number; innerLayers: number };
  /** Residuals left out as undefined (a non-positive dP/dtau or g/kappa), per model. */
  hydrostaticUndefined: { grid: number; pinn: number; baseline?: number };
  model: { dir: string; preset: string; alpha: number; epochsDone: number; datasetHash: string };
  baseline: { dir: string | undefined; alpha: number; epochsDone: number } | null;
  dataset: { dir: string; hash: string };
};

const round = (x: number, digits = 6) => Number(x.toPrecision(digits));

/** g_eff of the `pinn` section: g - ACCRAD floored at 1 % of g (as the physics loss) when the model was trained with ACCRAD, else g. */
const gravityOf = (withAccrad: boolean): HydrostaticGravity => (withAccrad ? 'g-accrad-floored' : 'g');

/**
 * The hydrostatic diagnostic of one set of depth columns on `tau`: grid-io's finite-difference
 * estimator with d ln P / d ln tau (dP/dtau = (d ln P / d ln tau) P / tau) and the residual
 * log10(dP/dtau) - log10(g_eff / kappa) in dex (NaN where either is not positive).
 */
function hydrostaticDex(
  logg: number,
  tau: ArrayLike<number>,
  a: Pick<AtmosphereLike, 'pressure' | 'abross' | 'accrad'>,
  withAccrad: boolean,
) {
  return hydrostaticResidual(
    { logg, tauRosseland: tau, pressure: a.pressure, abross: a.abross, accrad: a.accrad },
    { scheme: 'ln-ln', gravity: gravityOf(withAccrad), output: 'dex' },
  );
}

/** Residuals (dex) of every validation model's inner layers, and the count of undefined ones. */
function pooledResiduals(
  models: DatasetAtmosphere[],
  preds: (PredictedAtmosphere | DatasetAtmosphere)[],
  withAccrad: boolean,
  mo: number,
  mi: number,
): { values: number[]; undefinedCount: number } {
  const values: number[] = [];
  let undefinedCount = 0;
  models.forEach((m, j) => {
    const p = preds[j];
    const r = hydrostaticDex(m.logg, m.tauRosseland, p, withAccrad).residual;
    for (let i = mo; i < m.nLayers - mi; i++) {
      if (Number.isFinite(r[i])) values.push(round(r[i], 5));
      else undefinedCount++;
    }
  });
  return { values, undefinedCount };
}

/**
 * Evaluate a model directory on the validation split of an atmosphere dataset and write the
 * metrics JSON ({@link PinnMetrics}: the `pinn` section of the report contract and provenance):
 * - depthError: per quantity, |pred/true - 1| in percent (median, 16th, 84th percentile) in
 *   log10-tau bins (models are predicted on their own layers, so 64- and 72-layer models mix);
 * - hydrostatic: dP/dtau and g_eff/kappa along depth for the grid model nearest to the red
 *   giant Teff 4500 K, log g 2.5, [Fe/H] 0, [alpha/Fe] 0, for the grid (finite differences), the
 *   PINN (its own tangent d ln P/d ln tau) and the baseline (finite differences);
 * - hydrostaticResiduals: log10(dP/dtau) - log10(g_eff/kappa) in dex, pooled over the validation
 *   models' inner layers (the physics mask of the model), same finite-difference estimator for all;
 * - labelError: per model, its labels and the median relative error over depths and quantities;
 * - summary.medianPercent per quantity and summary.medianHydrostaticResidual (median |dex| of the
 *   PINN; also for the grid and the baseline).
 * g_eff = g - ACCRAD when the model was trained with ACCRAD (the default), else g.
 * Returns the summary flattened to numbers (`medianPercent.<quantity>`, `medianHydrostaticResidual`, ...).
 */
export async function evaluatePinnModel(
  o: EvaluatePinnOptions,
): Promise<{ summary: Record<string, number>; metrics: PinnMetrics }> {
  await initBackend({ quiet: true });
  const split = o.split ?? VAL_SPLIT;
  const { emulator, model } = await loadPinnModel(o.modelDir);
  const baseline = o.baselineModelDir ? await loadPinnModel(o.baselineModelDir) : null;
  try {
    const { models: bySplit, hash } = await readAtmosphereSplits(o.datasetDir, null);
    const models = bySplit.get(split) ?? [];
    if (models.length === 0) throw new Error(`${o.datasetDir}: no models with split '${split}'`);
    const withAccrad = emulator.physics.includeAccrad;
    const mo = emulator.physics.maskOuterLayers;
    const mi = emulator.physics.maskInnerLayers;
    const predict = (e: PinnEmulator) =>
      e.predictOnTauGrids(
        models.map((m) => ({ labels: m, tau: m.tauRosseland })),
        { allowExtrapolation: true },
      );
    const preds = predict(emulator);
    const basePreds = baseline ? predict(baseline.emulator) : null;

    // Relative errors per point, binned in log10 tau.
    const binDex = o.logTauBinDex ?? 0.25;
    const bins = new Map<number, Record<AtmosphereQuantity, number[]>>();
    const all = Object.fromEntries(ATMOSPHERE_QUANTITIES.map((q) => [q, [] as number[]])) as Record<
      AtmosphereQuantity,
      number[]
    >;
    const labelRows = {
      teffK: [] as number[],
      logg: [] as number[],
      feh: [] as number[],
      afe: [] as number[],
    };
    const perModelMedian: number[] = [];
    models.forEach((m, j) => {
      const errsModel: number[] = [];
      for (let i = 0; i < m.nLayers; i++) {
        const b = Math.round(Math.log10(m.tauRosseland[i]) / binDex);
        let rec = bins.get(b);
        if (!rec)
          bins.set(
            b,
            (rec = Object.fromEntries(ATMOSPHERE_QUANTITIES.map((q) => [q, [] as number[]])) as Record<
              AtmosphereQuantity,
              number[]
            >),
          );
        for (const q of ATMOSPHERE_QUANTITIES) {
          const e = 100 * Math.abs(preds[j][q][i] / m[q][i] - 1);
          rec[q].push(e);
          all[q].push(e);
          errsModel.push(e);
        }
      }
      labelRows.teffK.push(m.teffK);
      labelRows.logg.push(m.logg);
      labelRows.feh.push(m.feh);
      labelRows.afe.push(m.afe);
      perModelMedian.push(round(median(errsModel)));
    });
    const keys = [...bins.keys()].sort((a, b) => a - b).filter((k) => bins.get(k)!.rhox.length >= 5);
    const depthError = ATMOSPHERE_QUANTITIES.map((q) => ({
      quantity: q,
      logTau: keys.map((k) => round(k * binDex)),
      medianPercent: keys.map((k) => round(quantile(bins.get(k)![q], 0.5))),
      p16Percent: keys.map((k) => round(quantile(bins.get(k)![q], 0.16))),
      p84Percent: keys.map((k) => round(quantile(bins.get(k)![q], 0.84))),
    }));

    // Hydrostatic diagnostic of the red giant: nearest model of the whole dataset.
    let star: DatasetAtmosphere | null = null;
    let best = Infinity;
    const std = emulator.norm.labelStd;
    for (const list of bySplit.values()) {
      for (const m of list) {
        const d =
          ((Math.log10(m.teffK) - Math.log10(HYDROSTATIC_STAR.teffK)) / std[0]) ** 2 +
          ((m.logg - HYDROSTATIC_STAR.logg) / std[1]) ** 2 +
          ((m.feh - HYDROSTATIC_STAR.feh) / std[2]) ** 2 +
          ((m.afe - HYDROSTATIC_STAR.afe) / std[3]) ** 2;
        if (d < best) {
          best = d;
          star = m;
        }
      }
    }
    const s = star!;
    const tau = Array.from(s.tauRosseland);
    const gridH = hydrostaticDex(s.logg, tau, s, withAccrad);
    const curves: HydrostaticCurve[] = [
      {
        model: 'grid',
        tau,
        dPdTau: gridH.dPdTau.map((x) => round(x)),
        gOverKappa: gridH.gOverKappa.map((x) => round(x)),
      },
    ];
    const [pinnStar] = emulator.predictOnTauGrids([{ labels: s, tau }], { allowExtrapolation: true });
    const slope = emulator.pressureLogSlope(s, tau);
    const gPinn = effectiveGravity(s.logg, pinnStar.accrad, tau.length, gravityOf(withAccrad));
    curves.push({
      model: 'pinn',
      tau,
      dPdTau: tau.map((t, i) => round((slope.dlnPdlnTau[i] * slope.pressure[i]) / t)),
      gOverKappa: tau.map((_, i) => round(gPinn[i] / pinnStar.abross[i])),
    });
    if (baseline) {
      const [bStar] = baseline.emulator.predictOnTauGrids([{ labels: s, tau }], { allowExtrapolation: true });
      const bH = hydrostaticDex(s.logg, tau, bStar, withAccrad);
      curves.push({
        model: 'baseline',
        tau,
        dPdTau: bH.dPdTau.map((x) => round(x)),
        gOverKappa: bH.gOverKappa.map((x) => round(x)),
      });
    }

    const resGrid = pooledResiduals(models, models, withAccrad, mo, mi);
    const resPinn = pooledResiduals(models, preds, withAccrad, mo, mi);
    const resBase = basePreds ? pooledResiduals(models, basePreds, withAccrad, mo, mi) : null;
    const medAbs = (v: number[]) => median(v.map(Math.abs));
    const medianPercent = Object.fromEntries(
      ATMOSPHERE_QUANTITIES.map((q) => [q, round(median(all[q]))]),
    ) as Record<AtmosphereQuantity, number>;
    const summaryJson = {
      medianPercent,
      medianHydrostaticResidual: medAbs(resPinn.values),
      medianHydrostaticResidualGrid: medAbs(resGrid.values),
      ...(resBase ? { medianHydrostaticResidualBaseline: medAbs(resBase.values) } : {}),
    };
    const metrics: PinnMetrics = {
      split,
      nModels: models.length,
      depthError,
      hydrostatic: { star: { teffK: s.teffK, logg: s.logg, feh: s.feh, afe: s.afe }, curves },
      hydrostaticResiduals: [
        { model: 'grid', residualDex: resGrid.values },
        { model: 'pinn', residualDex: resPinn.values },
        ...(resBase ? [{ model: 'baseline' as const, residualDex: resBase.values }] : []),
      ],
      labelError: { labels: labelRows, medianPercent: perModelMedian },
      summary: summaryJson,
      // Provenance and conventions (extra keys; the report schema ignores them).
      hydrostaticGravity: withAccrad ? 'g - ACCRAD' : 'g',
      hydrostaticMask: { outerLayers: mo, innerLayers: mi },
      hydrostaticUndefined: {
        grid: resGrid.undefinedCount,
        pinn: resPinn.undefinedCount,
        ...(resBase ? { baseline: resBase.undefinedCount } : {}),
      },
      model: {
        dir: o.modelDir,
        preset: model.preset,
        alpha: model.physics.alpha,
        epochsDone: model.training.epochsDone,
        datasetHash: model.dataset.hash,
      },
      baseline: baseline
        ? {
            dir: o.baselineModelDir,
            alpha: baseline.model.physics.alpha,
            epochsDone: baseline.model.training.epochsDone,
          }
        : null,
      dataset: { dir: o.datasetDir, hash },
    };
    await mkdir(dirname(o.out), { recursive: true });
    await writeFile(o.out, `${JSON.stringify(metrics)}\n`);
    const summary: Record<string, number> = { nModels: models.length };
    for (const q of ATMOSPHERE_QUANTITIES) summary[`medianPercent.${q}`] = medianPercent[q];
    summary.medianHydrostaticResidual = summaryJson.medianHydrostaticResidual;
    summary.medianHydrostaticResidualGrid = summaryJson.medianHydrostaticResidualGrid;
    if (resBase) summary.medianHydrostaticResidualBaseline = medAbs(resBase.values);
    return { summary, metrics };
  } finally {
    emulator.dispose();
    baseline?.emulator.dispose();
  }
}
