// A complete, realistic metrics object computed from a seed, for the report's renderer tests (test code, not shipped).
//
// Nothing here is a typed-in result. The PINN section perturbs analytic atmospheres the way an
// emulator errs (smooth, depth-dependent, larger near the edges of the label box; the PINN's
// opacity tied to its own pressure gradient, the baseline's not) and measures the errors. The
// emulated-atmosphere spectra section synthesizes toy spectra at the labels that the true and the
// emulated line-forming layers imply, and measures |ΔF| per model and for a toy Sun. The CVAE section synthesizes toy spectra, "generates" them at slightly wrong labels with a smooth
// ripple, and measures residuals. Parameter recovery fits a ridge regressor on noisy training
// spectra (penalty chosen on validation) and measures its RMSE on train, validation, test and generated.
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_PINN_SPECTRA_MEDIAN_ABS_DELTA_F,
  DEFAULT_PINN_SPECTRA_P95_ABS_DELTA_F,
  DEFAULT_PINN_SUN_RESIDUAL_FACTOR,
  METRICS_SCHEMA_VERSION,
  PINN_LABELS,
  SPECTRUM_LABELS,
  parseRunMetrics,
  type HydrostaticModel,
  type RunMetrics,
  type RunMetricsInput,
  type SpectrumLabel,
  type SpectrumLabels,
} from '@stellar-emu/metrics';
import {
  ATMOSPHERE_QUANTITIES,
  DEFAULT_RECOVERY_FACTORS,
  hydrostaticResidual,
  pressureGradientFD,
  sha256Hex,
  VAL_SPLIT,
  type AtmosphereQuantity,
} from '@stellar-emu/grid-io';
import { median, quantile, rmse, Rng, summarize } from '@stellar-emu/numerics';
import { machineInfo } from '../../src/run-info.js';
import { analyticAtmosphere, type AnalyticAtmosphere, type AtmosphereLabels } from './atmosphere.js';
import { SAMPLE_GRID, sampleLineList, synthesizeSpectrum, type Line } from './spectrum.js';

/** How much to compute: `tiny` for tests (about a second), `full` for a larger report. */
export type SampleSize = 'tiny' | 'full';

export interface SampleMetricsOptions {
  seed?: number;
  size?: SampleSize;
  /** Run id to record (default `demo-<seed>`). */
  runId?: string;
  /** Git commit to record (default null: the sample does not look at the repository). */
  gitCommit?: string | null;
  /** Leave sections out, to exercise partial reports. */
  sections?: { pinn?: boolean; pinnSpectra?: boolean; cvae?: boolean; recovery?: boolean };
}

const SIZES: Record<
  SampleSize,
  {
    pinnModels: number;
    pinnSpectraModels: number;
    train: number;
    val: number;
    test: number;
    examples: number;
  }
> = {
  tiny: { pinnModels: 16, pinnSpectraModels: 40, train: 150, val: 30, test: 60, examples: 3 },
  full: { pinnModels: 60, pinnSpectraModels: 60, train: 500, val: 100, test: 200, examples: 3 },
};

/** Label box of the sample atmospheres: Teff in K, log g in dex, [Fe/H] and [α/Fe] in dex. */
const PINN_BOX: Record<keyof AtmosphereLabels, [number, number]> = {
  teffK: [3500, 8000],
  logg: [0.5, 5.0],
  feh: [-2.5, 0.5],
  afe: [-0.2, 0.6],
};

/** Label box of the sample spectra (physical units); resolution is drawn log-uniformly. */
const SPECTRUM_BOX: Record<SpectrumLabel, [number, number]> = {
  teffK: [5500, 10500],
  logg: [2.5, 5.0],
  vsiniKms: [0, 250],
  mh: [-1.5, 0.75],
  vmicKms: [0.5, 4],
  resolution: [5000, 50000],
};

/** Typical relative error (fraction) of a PINN prediction per quantity, before depth and label factors. */
const PINN_ERROR_SCALE: Record<AtmosphereQuantity, number> = {
  rhox: 0.012,
  temperature: 0.004,
  pressure: 0.012,
  xne: 0.035,
  abross: 0.025,
  accrad: 0.03,
};

/** Default validation limits of the sample config (percent, dex, normalized flux, factor). */
export const SAMPLE_THRESHOLDS = {
  pinn: {
    medianPercent: { rhox: 3, temperature: 1, pressure: 3, xne: 8, abross: 6, accrad: 8 },
    hydrostaticMedianAbsDex: 0.02,
  },
  pinnSpectra: {
    medianAbsDeltaF: DEFAULT_PINN_SPECTRA_MEDIAN_ABS_DELTA_F,
    p95AbsDeltaF: DEFAULT_PINN_SPECTRA_P95_ABS_DELTA_F,
    sunResidualFactor: DEFAULT_PINN_SUN_RESIDUAL_FACTOR,
  },
  cvae: { medianResidual: 0.01, p95Residual: 0.025 },
  recovery: { factors: { ...DEFAULT_RECOVERY_FACTORS } },
} as const;

const round = (x: number, digits: number) => Number(x.toPrecision(digits));
const roundAll = (xs: ArrayLike<number>, digits = 6) => Array.from(xs, (x) => round(x, digits));
const hashJson = (value: unknown) => sha256Hex(JSON.stringify(value));

/** Distance of a label vector from the centre of its box, 0 at the centre and 1 at a corner. */
function edgeDistance<K extends string>(labels: Record<K, number>, box: Record<K, [number, number]>): number {
  const keys = Object.keys(box) as K[];
  let s = 0;
  for (const k of keys) {
    const [lo, hi] = box[k];
    s += ((2 * (labels[k] - lo)) / (hi - lo) - 1) ** 2;
  }
  return Math.sqrt(s / keys.length);
}

/**
 * Smooth random function of depth: a few sinusoids in x ∈ [0, 1] with unit-variance amplitudes.
 * `roughness` adds higher frequencies (the unconstrained baseline wiggles more).
 */
function smoothNoise(rng: Rng, n: number, roughness = 1): number[] {
  const modes = Array.from({ length: 3 + 2 * roughness }, (_, k) => ({
    amp: rng.normal() / Math.sqrt(3 + 2 * roughness),
    freq: 0.3 + k * 0.6 * roughness + rng.uniform() * 0.5,
    phase: rng.uniform(0, 2 * Math.PI),
  }));
  const offset = 0.5 * rng.normal();
  return Array.from({ length: n }, (_, i) => {
    const x = i / (n - 1);
    return offset + modes.reduce((s, m) => s + m.amp * Math.sin(2 * Math.PI * m.freq * x + m.phase), 0);
  });
}

/** Emulator error grows near the surface and the bottom of the grid. */
const depthFactor = (logTau: number) =>
  1 + 1.5 * Math.exp(-(logTau + 6.875) / 1.2) + 1.0 * Math.exp((logTau - 2) / 0.7);

interface EmulatedAtmosphere {
  quantities: Record<AtmosphereQuantity, number[]>;
}

/**
 * An emulator's prediction of `truth`. A physics-informed model (weight w = 0.9) returns the
 * opacity that its own pressure gradient implies, dP̂/dτ = g/κ̂, up to a small independent error;
 * the baseline (w = 0) errs in κ independently, with rougher depth structure.
 */
function emulate(
  truth: AnalyticAtmosphere,
  rng: Rng,
  scale: number,
  physicsWeight: number,
  roughness: number,
): EmulatedAtmosphere {
  const n = truth.logTau.length;
  const q = {} as Record<AtmosphereQuantity, number[]>;
  for (const name of ATMOSPHERE_QUANTITIES) {
    if (name === 'abross') continue;
    const noise = smoothNoise(rng, n, roughness);
    q[name] = truth[name].map(
      (v, i) => v * Math.exp(PINN_ERROR_SCALE[name] * scale * depthFactor(truth.logTau[i]) * noise[i]),
    );
  }
  // Emulated pressure stays monotonic in τ (it would not be a usable atmosphere otherwise): each
  // layer keeps at least 20 % of the true pressure increment.
  for (let i = 1; i < n; i++) {
    const floor = q.pressure[i - 1] + 0.2 * (truth.pressure[i] - truth.pressure[i - 1]);
    if (q.pressure[i] < floor) q.pressure[i] = floor;
  }
  const g0 = pressureGradientFD(truth.tau, truth.pressure, 'ln-tau');
  const g1 = pressureGradientFD(truth.tau, q.pressure, 'ln-tau');
  const own = smoothNoise(rng, n, roughness);
  q.abross = truth.abross.map((k, i) => {
    const tied = -physicsWeight * Math.log(g1[i] / g0[i]);
    const free =
      (1 - physicsWeight * 0.8) * PINN_ERROR_SCALE.abross * scale * depthFactor(truth.logTau[i]) * own[i];
    return k * Math.exp(tied + free);
  });
  return { quantities: q };
}

/**
 * log10(dP/dτ) − log10(g/κ) in dex per depth, and the curves behind it: grid-io's estimator with
 * dP/dτ = (ΔP / Δ ln τ) / τ and g alone (g = 10^logg).
 */
function hydrostatic(tau: number[], pressure: number[], abross: number[], logg: number) {
  const h = hydrostaticResidual(
    { logg, tauRosseland: tau, pressure, abross },
    { scheme: 'ln-tau', gravity: 'g', output: 'dex' },
  );
  return { dPdTau: h.dPdTau, gOverKappa: h.gOverKappa, residualDex: h.residual };
}

function drawAtmosphereLabels(rng: Rng): AtmosphereLabels {
  return {
    teffK: rng.uniform(...PINN_BOX.teffK),
    logg: rng.uniform(...PINN_BOX.logg),
    feh: rng.uniform(...PINN_BOX.feh),
    afe: rng.uniform(...PINN_BOX.afe),
  };
}

function samplePinn(rng: Rng, nModels: number) {
  const models = Array.from({ length: nModels }, () => drawAtmosphereLabels(rng));
  const relErr: Record<AtmosphereQuantity, number[][]> = Object.fromEntries(
    ATMOSPHERE_QUANTITIES.map((k) => [k, []]),
  ) as never;
  const residuals: Record<HydrostaticModel, number[]> = { grid: [], pinn: [], baseline: [] };
  const perModelMedian: number[] = [];
  let logTau: number[] = [];
  for (const labels of models) {
    const truth = analyticAtmosphere(labels);
    logTau = truth.logTau;
    const edge = edgeDistance(labels, PINN_BOX);
    const scale = (0.6 + 1.6 * edge ** 2) * Math.exp(0.3 * rng.normal());
    const pinn = emulate(truth, rng, scale, 0.9, 1);
    const baseline = emulate(truth, rng, scale * 1.4, 0, 2);
    const all: number[] = [];
    for (const k of ATMOSPHERE_QUANTITIES) {
      const e = truth[k].map((v, i) => (100 * Math.abs(pinn.quantities[k][i] - v)) / Math.abs(v));
      relErr[k].push(e);
      all.push(...e);
    }
    perModelMedian.push(median(all));
    // Interior layers only: the end points have one-sided differences.
    const logg = truth.labels.logg;
    const interior = (xs: number[]) => xs.slice(1, -1);
    residuals.grid.push(...interior(hydrostatic(truth.tau, truth.pressure, truth.abross, logg).residualDex));
    residuals.pinn.push(
      ...interior(hydrostatic(truth.tau, pinn.quantities.pressure, pinn.quantities.abross, logg).residualDex),
    );
    residuals.baseline.push(
      ...interior(
        hydrostatic(truth.tau, baseline.quantities.pressure, baseline.quantities.abross, logg).residualDex,
      ),
    );
  }

  const depthError = ATMOSPHERE_QUANTITIES.map((quantity) => {
    const rows = relErr[quantity];
    const column = (i: number) => rows.map((r) => r[i]);
    return {
      quantity,
      logTau: roundAll(logTau),
      medianPercent: roundAll(logTau.map((_, i) => median(column(i)))),
      p16Percent: roundAll(logTau.map((_, i) => quantile(column(i), 0.16))),
      p84Percent: roundAll(logTau.map((_, i) => quantile(column(i), 0.84))),
    };
  });

  // The red giant of the paper's Fig. 3.
  const star = { teffK: 4500, logg: 2.5, feh: 0, afe: 0 };
  const giant = analyticAtmosphere(star);
  const edge = edgeDistance(star, PINN_BOX);
  const scale = 0.6 + 1.6 * edge ** 2;
  const giantPinn = emulate(giant, rng, scale, 0.9, 1);
  const giantBase = emulate(giant, rng, scale * 1.4, 0, 2);
  const curve = (model: HydrostaticModel, pressure: number[], abross: number[]) => {
    const h = hydrostatic(giant.tau, pressure, abross, giant.labels.logg);
    return {
      model,
      tau: roundAll(giant.tau),
      dPdTau: roundAll(h.dPdTau),
      gOverKappa: roundAll(h.gOverKappa),
    };
  };

  return {
    labelsHash: hashJson(models),
    section: {
      split: VAL_SPLIT,
      nModels,
      depthError,
      hydrostatic: {
        star,
        curves: [
          curve('grid', giant.pressure, giant.abross),
          curve('pinn', giantPinn.quantities.pressure, giantPinn.quantities.abross),
          curve('baseline', giantBase.quantities.pressure, giantBase.quantities.abross),
        ],
      },
      hydrostaticResiduals: (['grid', 'pinn', 'baseline'] as const).map((model) => ({
        model,
        residualDex: roundAll(residuals[model], 5),
      })),
      labelError: {
        labels: Object.fromEntries(
          PINN_LABELS.map((k) => [
            k,
            roundAll(
              models.map((m) => m[k]),
              5,
            ),
          ]),
        ) as Record<(typeof PINN_LABELS)[number], number[]>,
        medianPercent: roundAll(perModelMedian, 5),
      },
      summary: {
        medianPercent: Object.fromEntries(
          ATMOSPHERE_QUANTITIES.map((k) => [k, round(median(relErr[k].flat()), 6)]),
        ) as Record<AtmosphereQuantity, number>,
      },
    },
  };
}

function drawSpectrumLabels(rng: Rng): SpectrumLabels {
  const [rlo, rhi] = SPECTRUM_BOX.resolution;
  return {
    teffK: rng.uniform(...SPECTRUM_BOX.teffK),
    logg: rng.uniform(...SPECTRUM_BOX.logg),
    vsiniKms: rng.uniform(...SPECTRUM_BOX.vsiniKms),
    mh: rng.uniform(...SPECTRUM_BOX.mh),
    vmicKms: rng.uniform(...SPECTRUM_BOX.vmicKms),
    resolution: 10 ** rng.uniform(Math.log10(rlo), Math.log10(rhi)),
  };
}

/** Observed spectrum: model flux plus Gaussian noise at signal-to-noise `snr` per pixel. */
function observe(flux: Float64Array, rng: Rng, snr: number): Float64Array {
  return flux.map((f) => f + (f / snr) * rng.normal());
}

/** The sample "CVAE": the spectrum at slightly wrong labels plus a smooth ripple, both larger near the box edges. */
function generateSpectrum(labels: SpectrumLabels, lines: readonly Line[], rng: Rng): Float64Array {
  const edge = edgeDistance(labels, SPECTRUM_BOX);
  const f = 0.5 + 2 * edge ** 2 + (labels.teffK < 6500 ? 0.6 : 0);
  const wrong: SpectrumLabels = {
    teffK: labels.teffK + 35 * f * rng.normal(),
    logg: labels.logg + 0.04 * f * rng.normal(),
    vsiniKms: Math.max(0, labels.vsiniKms + 2.5 * f * rng.normal()),
    mh: labels.mh + 0.03 * f * rng.normal(),
    vmicKms: Math.max(0, labels.vmicKms + 0.1 * f * rng.normal()),
    resolution: labels.resolution * Math.exp(0.03 * f * rng.normal()),
  };
  const flux = synthesizeSpectrum(wrong, lines);
  const ripple = smoothNoise(rng, flux.length, 3);
  return flux.map((v, i) => v + 0.0015 * f * ripple[i]);
}

/** Flux binned to 4-pixel means: the regressor's features (500 per spectrum). */
function featuresOf(flux: Float64Array): Float64Array {
  const out = new Float64Array(Math.floor(flux.length / 4));
  for (let i = 0; i < out.length; i++)
    out[i] = (flux[4 * i] + flux[4 * i + 1] + flux[4 * i + 2] + flux[4 * i + 3]) / 4;
  return out;
}

/** Solve the symmetric positive-definite system A x = b (A row-major n×n) by Cholesky; A is overwritten. */
function choleskySolve(a: Float64Array, n: number, rhs: Float64Array[]): Float64Array[] {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= a[j * n + k] ** 2;
    if (d <= 0) throw new Error('choleskySolve: matrix is not positive definite');
    const ljj = Math.sqrt(d);
    a[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / ljj;
    }
  }
  return rhs.map((b) => {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = b[i];
      for (let k = 0; k < i; k++) s -= a[i * n + k] * y[k];
      y[i] = s / a[i * n + i];
    }
    const x = new Float64Array(n);
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < n; k++) s -= a[k * n + i] * x[k];
      x[i] = s / a[i * n + i];
    }
    return x;
  });
}

/**
 * Ridge regression from binned flux to every label (the sample's stand-in for the parameter
 * network); the penalty is chosen on the validation set from a small logarithmic ladder.
 */
class RidgeRegressor {
  private constructor(
    private readonly mean: Float64Array,
    private readonly labelMean: SpectrumLabels,
    private readonly weights: Record<SpectrumLabel, Float64Array>,
  ) {}

  static fit(features: Float64Array[], labels: SpectrumLabels[], lambda: number): RidgeRegressor {
    const n = features[0].length;
    const mean = new Float64Array(n);
    for (const f of features) for (let j = 0; j < n; j++) mean[j] += f[j] / features.length;
    const labelMean = {} as SpectrumLabels;
    for (const k of SPECTRUM_LABELS) labelMean[k] = labels.reduce((s, l) => s + l[k], 0) / labels.length;
    const xtx = new Float64Array(n * n);
    const xty = SPECTRUM_LABELS.map(() => new Float64Array(n));
    const c = new Float64Array(n);
    features.forEach((f, r) => {
      for (let j = 0; j < n; j++) c[j] = f[j] - mean[j];
      for (let i = 0; i < n; i++) {
        const ci = c[i];
        for (let j = 0; j <= i; j++) xtx[i * n + j] += ci * c[j];
      }
      SPECTRUM_LABELS.forEach((k, t) => {
        const y = labels[r][k] - labelMean[k];
        for (let j = 0; j < n; j++) xty[t][j] += c[j] * y;
      });
    });
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) xtx[j * n + i] = xtx[i * n + j];
      xtx[i * n + i] += lambda;
    }
    const w = choleskySolve(xtx, n, xty);
    return new RidgeRegressor(
      mean,
      labelMean,
      Object.fromEntries(SPECTRUM_LABELS.map((k, t) => [k, w[t]])) as Record<SpectrumLabel, Float64Array>,
    );
  }

  predict(f: Float64Array): SpectrumLabels {
    const out = {} as SpectrumLabels;
    for (const k of SPECTRUM_LABELS) {
      let s = this.labelMean[k];
      const w = this.weights[k];
      for (let j = 0; j < w.length; j++) s += w[j] * (f[j] - this.mean[j]);
      out[k] = s;
    }
    return out;
  }
}

function sampleSpectra(rng: Rng, size: (typeof SIZES)[SampleSize], withCvae: boolean, withRecovery: boolean) {
  const lines = sampleLineList(rng);
  const snr = 200;
  const draw = (n: number) => Array.from({ length: n }, () => drawSpectrumLabels(rng));
  const trainLabels = draw(size.train);
  const valLabels = draw(size.val);
  const testLabels = draw(size.test);
  const testRef = testLabels.map((l) => synthesizeSpectrum(l, lines));
  const generated = testLabels.map((l) => generateSpectrum(l, lines, rng));
  const residual = generated.map(
    (g, i) => g.reduce((s, v, j) => s + Math.abs(v - testRef[i][j]), 0) / g.length,
  );
  const hashes = {
    'spectra-train': hashJson(trainLabels),
    'spectra-validation': hashJson(valLabels),
    'spectra-test': hashJson(testLabels),
    'line-list': hashJson(lines),
  };

  const cvae = withCvae
    ? {
        examples: testLabels.slice(0, size.examples).map((labels, i) => ({
          labels: Object.fromEntries(SPECTRUM_LABELS.map((k) => [k, round(labels[k], 6)])) as SpectrumLabels,
          wavelengthStartAngstrom: SAMPLE_GRID.startAngstrom,
          wavelengthStepAngstrom: SAMPLE_GRID.stepAngstrom,
          referenceFlux: roundAll(testRef[i], 5),
          generatedFlux: roundAll(generated[i], 5),
        })),
        residuals: {
          labels: Object.fromEntries(
            SPECTRUM_LABELS.map((k) => [k, roundAll(testLabels.map((l) => l[k]))]),
          ) as Record<SpectrumLabel, number[]>,
          meanAbsResidual: roundAll(residual, 5),
        },
        summary: {
          median: round(median(residual), 6),
          p95: round(quantile(residual, 0.95), 6),
          max: round(Math.max(...residual), 6),
        },
        split: 'test',
        // Illustrative curves and speeds for the report's training figure and speed table: the
        // sample has no network; a seeded exponential decay with noise stands in for an epoch log.
        training: {
          preset: 'sample',
          epochsDone: 30,
          bestEpoch: 26,
          budgetSpent: false,
          trainExamples: trainLabels.length,
          valExamples: valLabels.length,
          fluxScale: 1.1,
          history: Array.from({ length: 30 }, (_, e, hr = new Rng(1000 + e)) => {
            const recon = 1e-3 * Math.exp(-e / 8) + 2e-4 * (1 + 0.05 * hr.normal());
            const kl = 0.02 + 0.5 * Math.exp(-e / 4);
            return {
              epoch: e,
              trainLoss: round(recon + kl * 1e-4, 6),
              valLoss: round(recon * 1.1, 6),
              lr: e < 20 ? 1e-3 : 5e-4,
              trainRecon: round(recon, 6),
              trainKl: round(kl, 6),
              trainKlMu: round(0.3 * kl, 6),
              trainKlVar: round(0.7 * kl, 6),
              valKl: round(kl * 1.05, 6),
            };
          }),
        },
        speed: {
          cvaeSpectraPerSecond: 900,
          batchSize: 256,
          pysmeCoreSecondsPerSpectrum: 1.3,
          pysmeCoreSecondsPerCall: 15,
          cores: 2,
        },
      }
    : undefined;

  let recovery;
  let lambdaChosen: number | null = null;
  if (withRecovery) {
    const trainFeatures = trainLabels.map((l) => featuresOf(observe(synthesizeSpectrum(l, lines), rng, snr)));
    const valFeatures = valLabels.map((l) => featuresOf(observe(synthesizeSpectrum(l, lines), rng, snr)));
    // Penalty: smallest summed validation RMSE in units of each label's spread.
    const spread = (k: SpectrumLabel) => SPECTRUM_BOX[k][1] - SPECTRUM_BOX[k][0];
    let model: RidgeRegressor | null = null;
    let bestScore = Infinity;
    for (const lambda of [1e-3, 1e-2, 1e-1, 1]) {
      const m = RidgeRegressor.fit(trainFeatures, trainLabels, lambda);
      const pred = valFeatures.map((f) => m.predict(f));
      const score = SPECTRUM_LABELS.reduce(
        (s, k) =>
          s +
          rmse(
            valLabels.map((l) => l[k]),
            pred.map((p) => p[k]),
          ) /
            spread(k),
        0,
      );
      if (score < bestScore) {
        bestScore = score;
        model = m;
        lambdaChosen = lambda;
      }
    }
    const fitted = model as RidgeRegressor;
    const trainPred = trainFeatures.map((f) => fitted.predict(f));
    const valPred = valFeatures.map((f) => fitted.predict(f));
    const testPred = testRef.map((f) => fitted.predict(featuresOf(observe(f, rng, snr))));
    const genPred = generated.map((f) => fitted.predict(featuresOf(f)));
    const col = (xs: SpectrumLabels[], k: SpectrumLabel) => xs.map((x) => x[k]);
    recovery = {
      scatter: SPECTRUM_LABELS.map((label) => ({
        label,
        test: { true: roundAll(col(testLabels, label)), predicted: roundAll(col(testPred, label)) },
        generated: { true: roundAll(col(testLabels, label)), predicted: roundAll(col(genPred, label)) },
      })),
      rmse: SPECTRUM_LABELS.map((label) => ({
        label,
        train: round(rmse(col(trainLabels, label), col(trainPred, label)), 6),
        val: round(rmse(col(valLabels, label), col(valPred, label)), 6),
        test: round(rmse(col(testLabels, label), col(testPred, label)), 6),
        generated: round(rmse(col(testLabels, label), col(genPred, label)), 6),
      })),
    };
  }
  return { cvae, recovery, hashes, lambdaChosen };
}

// ---------------------------------------------------------------------------------------------
// Spectra from emulated atmospheres (Kurucz-a1 Fig. 5)

/** Windows of the sample's emulated-atmosphere spectra [from, to) in Å: around Hβ and Mg b. */
const PINN_SPECTRA_WINDOWS: [number, number][] = [
  [4855, 4870],
  [5165, 5180],
];
/** The Sun window of the sample (Å), holding Hβ and Mg b, and its zooms. */
const SUN_WINDOW: [number, number] = [4845, 5190];
const SUN_ZOOMS = [
  { name: 'H-beta wings', fromAngstrom: 4850, toAngstrom: 4874 },
  { name: 'Mg b', fromAngstrom: 5164, toAngstrom: 5188 },
];
/** Mg b triplet (Å): strong lines added to the toy line list. */
const MG_B_ANGSTROM = [5167.32, 5172.68, 5183.6];

/** Sample synthesis settings of the emulated-atmosphere spectra (physical units). */
const PINN_SPECTRA_SETTINGS = { stepAngstrom: 0.05, resolution: 50_000, vmicKms: 1, vsiniKms: 2, vmacKms: 0 };

/** |a − b| statistics over the pixels where both are finite (normalized flux). */
function absDiffStats(a: ArrayLike<number | null>, b: ArrayLike<number | null>) {
  const s = summarize(
    Array.from(a, (x, i) => (x === null || b[i] === null ? Number.NaN : Math.abs(x - (b[i] as number)))),
  );
  return { median: round(s.median, 6), p95: round(s.p95, 6), max: round(s.max, 6) };
}

/**
 * The labels a toy spectrum sees in an emulated atmosphere. The toy lines know an atmosphere only
 * through Teff, log g and [M/H], so the emulator's errors in the line-forming layers
 * (log τ_Ross from −3 to 0) become label shifts: temperature error → Teff (mean Δ ln T), pressure
 * and opacity errors → the gravity they imply in hydrostatic equilibrium (P ≈ g τ / κ: Δ log g =
 * Δ log P + Δ log κ), opacity error → line strength against the continuum ([M/H] − Δ log κ).
 * The PINN, whose opacity follows its own pressure gradient, keeps Δ log P + Δ log κ small.
 */
function effectiveSpectrumLabels(
  truth: AnalyticAtmosphere,
  emulated: EmulatedAtmosphere,
  settings: Pick<SpectrumLabels, 'vsiniKms' | 'vmicKms' | 'resolution'>,
): SpectrumLabels {
  const layers = truth.logTau.flatMap((t, i) => (t >= -3 && t <= 0 ? [i] : []));
  const meanLog = (k: AtmosphereQuantity) =>
    layers.reduce((s, i) => s + Math.log10(emulated.quantities[k][i] / truth[k][i]), 0) / layers.length;
  const dLogK = meanLog('abross');
  return {
    teffK: truth.labels.teffK * 10 ** meanLog('temperature'),
    logg: truth.labels.logg + meanLog('pressure') + dLogK,
    mh: truth.labels.feh - dLogK,
    ...settings,
  };
}

function samplePinnSpectra(seed: number, nModels: number) {
  const rng = new Rng(seed);
  const t0 = performance.now();
  const step = PINN_SPECTRA_SETTINGS.stepAngstrom;
  const gridOf = ([from, to]: [number, number]) => ({
    startAngstrom: from,
    stepAngstrom: step,
    n: Math.round((to - from) / step),
  });
  // One line list for every spectrum: 5 toy lines per Å over the Sun window (crowded, as an
  // optical line list of a cool star), plus Mg b.
  const sunGrid = gridOf(SUN_WINDOW);
  const lines: Line[] = [
    ...sampleLineList(rng, sunGrid, Math.round(5 * (SUN_WINDOW[1] - SUN_WINDOW[0]))),
    ...MG_B_ANGSTROM.map((c) => ({ centerAngstrom: c, logStrength: 2.5, teffSlope: -0.3, loggSlope: 0.05 })),
  ];
  const windowGrids = PINN_SPECTRA_WINDOWS.map(gridOf);
  const settings = {
    vsiniKms: PINN_SPECTRA_SETTINGS.vsiniKms,
    vmicKms: PINN_SPECTRA_SETTINGS.vmicKms,
    resolution: PINN_SPECTRA_SETTINGS.resolution,
  };
  const spectrum = (labels: SpectrumLabels) => {
    const parts = windowGrids.map((g) => Array.from(synthesizeSpectrum(labels, lines, g)));
    return parts.flat();
  };
  const wavelengths = windowGrids.flatMap((g) =>
    Array.from({ length: g.n }, (_, i) => round(g.startAngstrom + i * g.stepAngstrom, 8)),
  );

  // The validation split, the models in the Teff range, a seeded choice of nModels of them.
  const teffRangeK: [number, number] = [4000, 7000];
  const split = Array.from({ length: 4 * nModels }, () => drawAtmosphereLabels(rng));
  const candidates = split.flatMap((l, i) =>
    l.teffK >= teffRangeK[0] && l.teffK <= teffRangeK[1] ? [i] : [],
  );
  const chosen = Array.from(
    rng.permutation(candidates.length).subarray(0, nModels),
    (i) => candidates[i],
  ).sort((a, b) => a - b);

  const emulateBoth = (labels: AtmosphereLabels) => {
    const truth = analyticAtmosphere(labels);
    const scale = (0.6 + 1.6 * edgeDistance(labels, PINN_BOX) ** 2) * Math.exp(0.3 * rng.normal());
    return {
      truth,
      pinn: emulate(truth, rng, scale, 0.9, 1),
      baseline: emulate(truth, rng, scale * 1.4, 0, 2),
    };
  };
  const spectraOf = (labels: AtmosphereLabels, withSettings = settings) => {
    const e = emulateBoth(labels);
    const trueLabels: SpectrumLabels = {
      teffK: labels.teffK,
      logg: labels.logg,
      mh: labels.feh,
      ...withSettings,
    };
    return {
      trueLabels,
      pinn: effectiveSpectrumLabels(e.truth, e.pinn, withSettings),
      baseline: effectiveSpectrumLabels(e.truth, e.baseline, withSettings),
    };
  };

  const models = chosen.map((index) => {
    const labels = split[index];
    const s = spectraOf(labels);
    const f = { true: spectrum(s.trueLabels), pinn: spectrum(s.pinn), baseline: spectrum(s.baseline) };
    return {
      index,
      labels,
      flux: f,
      row: {
        id: `val-${String(index).padStart(4, '0')}`,
        source: `sample-validation-decks.dat:${1 + 80 * index}`,
        teffK: round(labels.teffK, 6),
        logg: round(labels.logg, 6),
        feh: round(labels.feh, 6),
        afe: round(labels.afe, 6),
        pinn: absDiffStats(f.pinn, f.true),
        baseline: absDiffStats(f.baseline, f.true),
      },
    };
  });
  const rows = models.map((m) => m.row);
  const col = (k: 'pinn' | 'baseline', s: 'median' | 'p95') => rows.map((r) => r[k][s]);
  const summaryOf = (k: 'pinn' | 'baseline') => ({
    medianOfMedians: round(median(col(k, 'median')), 6),
    medianOfP95: round(median(col(k, 'p95')), 6),
    p95OfP95: round(quantile(col(k, 'p95'), 0.95), 6),
  });
  // The example: the model with the median per-model median |ΔF| (lower middle for an even count).
  const byMedian = [...models].sort((a, b) => a.row.pinn.median - b.row.pinn.median);
  const ex = byMedian[Math.floor((byMedian.length - 1) / 2)];

  // The Sun: a toy "observed" spectrum (line strengths off by 0.05 dex, S/N 300, a detector gap)
  // against the toy spectra of the true solar atmosphere and of its emulations.
  const sunLabels = { teffK: 5772, logg: 4.438, feh: 0, afe: 0 };
  const sunSettings = { vmicKms: 1.0, vsiniKms: 1.6, vmacKms: 0, resolution: 115_000 };
  const sunSpectra = spectraOf(sunLabels, {
    vmicKms: sunSettings.vmicKms,
    vsiniKms: sunSettings.vsiniKms,
    resolution: sunSettings.resolution,
  });
  const observedLines = lines.map((l) => ({ ...l, logStrength: l.logStrength + 0.05 * rng.normal() }));
  const sunFlux = (labels: SpectrumLabels, list: readonly Line[] = lines) =>
    roundAll(synthesizeSpectrum(labels, list, sunGrid), 6);
  const gap: [number, number] = [5030, 5034];
  const observed = roundAll(
    observe(synthesizeSpectrum(sunSpectra.trueLabels, observedLines, sunGrid), rng, 300),
    6,
  ).map((f, i) => {
    const w = sunGrid.startAngstrom + i * step;
    return w >= gap[0] && w < gap[1] ? null : f;
  });
  const sunTrue = sunFlux(sunSpectra.trueLabels);
  const sunPinn = sunFlux(sunSpectra.pinn);
  const sunBaseline = sunFlux(sunSpectra.baseline);

  const section = {
    engine: { name: 'toy synthesis (sample)', version: 'analytic lines 1' },
    settings: {
      windows: PINN_SPECTRA_WINDOWS,
      stepAngstrom: step,
      resolution: PINN_SPECTRA_SETTINGS.resolution,
      vmicKms: PINN_SPECTRA_SETTINGS.vmicKms,
      vsiniKms: PINN_SPECTRA_SETTINGS.vsiniKms,
      vmacKms: PINN_SPECTRA_SETTINGS.vmacKms,
      medium: 'air' as const,
      linelist: `sample: ${lines.length} seeded toy lines (with Mg b) and Hβ`,
    },
    sample: { split: VAL_SPLIT, candidates: candidates.length, seed, teffRangeK },
    alpha: 0.03,
    baselineAlpha: 0,
    models: rows,
    summary: { pinn: summaryOf('pinn'), baseline: summaryOf('baseline') },
    example: {
      id: ex.row.id,
      teffK: ex.row.teffK,
      logg: ex.row.logg,
      feh: ex.row.feh,
      wavelengthAngstrom: wavelengths,
      true: roundAll(ex.flux.true, 6),
      pinn: roundAll(ex.flux.pinn, 6),
      baseline: roundAll(ex.flux.baseline, 6),
    },
    sun: {
      deck: 'sample: analytic grey atmosphere at the solar labels',
      observedFile: 'sample: toy Sun (S/N 300)',
      labels: sunLabels,
      settings: sunSettings,
      wavelengthStartAngstrom: sunGrid.startAngstrom,
      wavelengthStepAngstrom: step,
      observed,
      true: sunTrue,
      pinn: sunPinn,
      baseline: sunBaseline,
      residuals: {
        trueVsObserved: absDiffStats(sunTrue, observed),
        pinnVsObserved: absDiffStats(sunPinn, observed),
        baselineVsObserved: absDiffStats(sunBaseline, observed),
        pinnVsTrue: absDiffStats(sunPinn, sunTrue),
        baselineVsTrue: absDiffStats(sunBaseline, sunTrue),
      },
      zooms: SUN_ZOOMS,
      method:
        'none (the toy spectra are normalized; a gap of null flux at 5030–5034 Å stands for a detector gap)',
    },
    engineSeconds: 0,
  };
  section.engineSeconds = round((performance.now() - t0) / 1000, 4);
  return { section, labelsHash: hashJson(chosen.map((i) => split[i])) };
}

/**
 * Build a complete, validated `RunMetrics` from a seed. Deterministic for a given seed and size
 * (except the measured durations and the machine description).
 */
export function buildSampleMetrics(options: SampleMetricsOptions = {}): RunMetrics {
  const seed = options.seed ?? 1;
  const sizeName = options.size ?? 'full';
  const size = SIZES[sizeName];
  const sections = { pinn: true, pinnSpectra: true, cvae: true, recovery: true, ...options.sections };
  const durationsSeconds: Record<string, number> = {};
  const datasetHashes: Record<string, string> = {};
  const timed = <T>(name: string, f: () => T): T => {
    const t0 = performance.now();
    const r = f();
    durationsSeconds[name] = round((performance.now() - t0) / 1000, 4);
    return r;
  };

  const input: RunMetricsInput = {
    schemaVersion: METRICS_SCHEMA_VERSION,
    run: {
      id: options.runId ?? `demo-${seed}`,
      createdAt: new Date().toISOString(),
      gitCommit: options.gitCommit ?? null,
      backend: 'sample (analytic, no network)',
      config: {
        sample: true,
        seed,
        size: sizeName,
        pinn: {
          nModels: size.pinnModels,
          labelBox: PINN_BOX,
          depthGrid: 'ATLAS9 72 layers, log tau -6.875..2',
        },
        pinnSpectra: {
          nModels: size.pinnSpectraModels,
          windows: PINN_SPECTRA_WINDOWS,
          sunWindow: SUN_WINDOW,
          ...PINN_SPECTRA_SETTINGS,
          method:
            'toy spectra at the labels the emulated line-forming layers imply (Teff from T, log g from P and κ, [M/H] from κ)',
        },
        spectra: { ...size, labelBox: SPECTRUM_BOX, grid: SAMPLE_GRID, snr: 200 },
        recovery: { method: 'ridge regression on 4-pixel-binned flux', lambdaLadder: [1e-3, 1e-2, 1e-1, 1] },
        thresholds: SAMPLE_THRESHOLDS,
      },
      datasetHashes,
      durationsSeconds,
      machine: machineInfo(),
    },
    // Only the thresholds of the sections computed: a threshold without its metric fails its check.
    thresholds: {
      ...(sections.pinn ? { pinn: structuredClone(SAMPLE_THRESHOLDS.pinn) } : {}),
      ...(sections.pinnSpectra ? { pinnSpectra: { ...SAMPLE_THRESHOLDS.pinnSpectra } } : {}),
      ...(sections.cvae ? { cvae: { ...SAMPLE_THRESHOLDS.cvae } } : {}),
      ...(sections.recovery ? { recovery: { ...SAMPLE_THRESHOLDS.recovery } } : {}),
    },
  };

  if (sections.pinn) {
    const pinn = timed('pinnValidation', () => samplePinn(new Rng(seed * 7919 + 1), size.pinnModels));
    input.pinn = pinn.section;
    datasetHashes['pinn-validation'] = pinn.labelsHash;
  }
  if (sections.pinnSpectra) {
    const ps = timed('pinnSpectra', () => samplePinnSpectra(seed * 15_485_863 + 3, size.pinnSpectraModels));
    input.pinnSpectra = ps.section;
    datasetHashes['pinn-spectra-models'] = ps.labelsHash;
  }
  if (sections.cvae || sections.recovery) {
    const spectra = timed('spectraAndRecovery', () =>
      sampleSpectra(new Rng(seed * 104_729 + 2), size, sections.cvae, sections.recovery),
    );
    if (spectra.cvae) input.cvae = spectra.cvae;
    if (spectra.recovery) input.recovery = spectra.recovery;
    Object.assign(datasetHashes, spectra.hashes);
    if (spectra.lambdaChosen !== null)
      (input.run.config.recovery as Record<string, unknown>).lambdaChosen = spectra.lambdaChosen;
  }
  return parseRunMetrics(input, 'sample metrics');
}
