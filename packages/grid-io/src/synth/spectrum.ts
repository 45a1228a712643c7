// Synthetic normalized spectra: Voigt-like lines on a fine log-lambda grid, rotation and instrumental broadening, pixel averages.
import { Rng, SPEED_OF_LIGHT_KM_S } from '@stellar-emu/numerics';
import { spectrumContentId } from '../dataset/content-hash.js';
import { SPECTRUM_DEFAULT_GRID, type SpectrumGrid, assertGrid } from '../spectra/grid.js';
import { pixelAverage } from '../spectra/resample.js';
import type { SpectrumRecord } from '../types.js';
import {
  GAUSSIAN_FWHM_PER_SIGMA,
  dopplerSigmaAngstrom,
  instrumentalSigmaKms,
  rotationKernelTaps,
  rotationKernelTransfer,
} from './broadening.js';
import { irfft, nextPowerOfTwo, rfft } from './fft.js';
import { CVAE_LABEL_RANGES, type LabelRange, type SpectrumLabels, sampleLabels } from './labels.js';
import {
  type SyntheticLine,
  lineFormationTemperatureK,
  lineStrength,
  syntheticLineList,
} from './linelist.js';

/** Options of {@link synthesizeFlux} and {@link generateSyntheticSpectrum}. */
export interface SyntheticSpectrumOptions {
  /** Output grid; default {@link SPECTRUM_DEFAULT_GRID}. */
  grid?: SpectrumGrid;
  /** Line list; default the fixed-seed {@link syntheticLineList}(). */
  lineList?: readonly SyntheticLine[];
  /** Fine-grid points per output pixel at the blue end (integer >= 1); default 3. */
  oversample?: number;
  /**
   * Largest line depth (a stand-in for the LTE source function: saturated cores keep flux
   * >= 1 - maxLineDepth); the intrinsic depth is maxLineDepth (1 - exp(-tau)). Default 0.9.
   */
  maxLineDepth?: number;
  /** Linear limb-darkening coefficient of the rotation kernel; default 0.6. */
  limbDarkening?: number;
  /** Signal-to-noise ratio per pixel: adds Gaussian noise of sd 1/snr (needs `noiseRng`). Default: no noise. */
  snr?: number;
  /** Random stream for the noise. */
  noiseRng?: Rng;
}

let defaultLines: SyntheticLine[] | null = null;
let fineCache: { x0: number; dx: number; n: number; lam: Float64Array } | null = null;

/** exp(x0 + j dx) for j < n, cached for the last (x0, dx, n). Read-only. */
function fineWavelengths(x0: number, dx: number, n: number): Float64Array {
  if (fineCache && fineCache.x0 === x0 && fineCache.dx === dx && fineCache.n === n) return fineCache.lam;
  const lam = new Float64Array(n);
  for (let j = 0; j < n; j++) lam[j] = Math.exp(x0 + j * dx);
  fineCache = { x0, dx, n, lam };
  return lam;
}

/** The default line list (built once, fixed seed). */
export function defaultSyntheticLineList(): readonly SyntheticLine[] {
  defaultLines ??= syntheticLineList();
  return defaultLines;
}

function validateSpectrumLabels(labels: SpectrumLabels): void {
  const check = (name: keyof SpectrumLabels, ok: (v: number) => boolean, what: string) => {
    const v = labels[name];
    if (typeof v !== 'number' || Number.isNaN(v) || !ok(v))
      throw new Error(`synthetic spectrum: label ${name} = ${String(v)} must be ${what}`);
  };
  check('teffK', (v) => Number.isFinite(v) && v >= 2000 && v <= 60000, 'in 2000..60000 K');
  check('logg', (v) => Number.isFinite(v) && v >= -1 && v <= 6, 'in -1..6');
  check('mh', (v) => Number.isFinite(v) && v >= -5 && v <= 2, 'in -5..2 dex');
  check('vsiniKms', (v) => Number.isFinite(v) && v >= 0 && v <= 1000, 'in 0..1000 km/s');
  check('vmicKms', (v) => Number.isFinite(v) && v >= 0 && v <= 50, 'in 0..50 km/s');
  check('resolution', (v) => v > 0, '> 0 (Infinity means no instrumental broadening)');
}

/**
 * Normalized flux of a synthetic spectrum on `opts.grid` (default 4450–5399.95 Å, 0.05 Å).
 *
 * 1. A fine grid uniform in ln λ (step = step/oversample at the blue end, i.e. constant
 *    velocity step) covers the output range plus a margin for the kernels.
 * 2. Line optical depth: each line is a peak-normalized pseudo-Voigt (Thompson–Cox–Hastings)
 *    with Gaussian sigma {@link dopplerSigmaAngstrom} at {@link lineFormationTemperatureK}
 *    and microturbulence, Lorentzian HWHM and central depth from {@link lineStrength};
 *    intrinsic line depth D = maxLineDepth (1 - exp(-Σ τ_line)), flux = 1 - D in [0.1, 1].
 * 3. Rotation (Gray kernel with linear limb darkening ε) and the instrumental Gaussian
 *    (FWHM = λ/R) are convolved with D in velocity space — exact on the ln λ grid, so both
 *    kernels scale with λ across the range — by one real FFT, multiplication by the analytic
 *    transfer functions ({@link rotationKernelTransfer}, exp(-2π²σ²f²)) and one inverse real
 *    FFT. A rotation kernel narrower than 4 fine pixels is applied as exactly
 *    pixel-integrated taps instead (directly, or by FFT together with the instrument).
 * 4. Each output pixel is the exact average of the piecewise-linear fine spectrum over the
 *    pixel (pixel integration), then optional Gaussian noise.
 */
export function synthesizeFlux(labels: SpectrumLabels, opts: SyntheticSpectrumOptions = {}): Float64Array {
  validateSpectrumLabels(labels);
  const grid = opts.grid ?? SPECTRUM_DEFAULT_GRID;
  assertGrid('synthesizeFlux', grid);
  const oversample = opts.oversample ?? 3;
  if (!Number.isInteger(oversample) || oversample < 1)
    throw new Error(`synthesizeFlux: oversample must be an integer >= 1, got ${oversample}`);
  const maxDepth = opts.maxLineDepth ?? 0.9;
  if (!(maxDepth > 0 && maxDepth <= 1))
    throw new Error(`synthesizeFlux: maxLineDepth must be in (0, 1], got ${maxDepth}`);
  const eps = opts.limbDarkening ?? 0.6;
  if (!(eps >= 0 && eps <= 1)) throw new Error(`synthesizeFlux: limbDarkening must be in [0, 1], got ${eps}`);
  const lines = opts.lineList ?? defaultSyntheticLineList();
  const { teffK, logg, mh, vsiniKms, vmicKms, resolution } = labels;

  const lamLo = grid.startAngstrom - grid.stepAngstrom / 2;
  const lamHi = grid.startAngstrom + (grid.n - 0.5) * grid.stepAngstrom;
  const sigmaInstKms = Number.isFinite(resolution) ? instrumentalSigmaKms(resolution) : 0;
  // Margin for the kernels: at least what v sin i = 300 km/s and R = 1000 need (so the fine grid,
  // and its cached wavelengths, are the same for every spectrum in the CVAE box).
  const kernelKms = Math.max(vsiniKms, 300) + 8 * Math.max(sigmaInstKms, instrumentalSigmaKms(1000));
  const marginAngstrom = (lamHi * kernelKms) / SPEED_OF_LIGHT_KM_S + 2 * grid.stepAngstrom;
  const dx = grid.stepAngstrom / oversample / lamLo; // ln-lambda step
  const x0 = Math.log(lamLo - marginAngstrom);
  const nFine = Math.ceil((Math.log(lamHi + marginAngstrom) - x0) / dx) + 1;
  const lam = fineWavelengths(x0, dx, nFine);

  // 2. line optical depth
  const tau = new Float64Array(nFine);
  const tLine = lineFormationTemperatureK(teffK);
  const ln2x4 = 4 * Math.LN2;
  for (const line of lines) {
    const { tau0, lorentzHwhmAngstrom: gamma } = lineStrength(line, { teffK, logg, mh });
    if (!(tau0 > 1e-6)) continue;
    const lam0 = line.wavelengthAngstrom;
    const sigma = dopplerSigmaAngstrom(lam0, tLine, line.massAmu, vmicKms);
    const fG = GAUSSIAN_FWHM_PER_SIGMA * sigma;
    const fL = 2 * gamma;
    const f =
      (fG ** 5 +
        2.69269 * fG ** 4 * fL +
        2.42843 * fG ** 3 * fL ** 2 +
        4.47163 * fG ** 2 * fL ** 3 +
        0.07842 * fG * fL ** 4 +
        fL ** 5) **
      0.2;
    const r = fL / f;
    const eta = fL > 0 ? 1.36603 * r - 0.47719 * r * r + 0.11116 * r * r * r : 0;
    // Peak-normalized pseudo-Voigt: (eta L(x) + (1-eta) G(x)) / (eta L(0) + (1-eta) G(0)), FWHM f.
    const hf2 = (f / 2) ** 2;
    const gPeak = Math.sqrt(ln2x4 / Math.PI) / f;
    const lPeak = 2 / (Math.PI * f);
    const norm = 1 / (eta * lPeak + (1 - eta) * gPeak);
    const aL = eta * lPeak * norm * tau0; // tau of the Lorentzian part: aL * hf2 / (x^2 + hf2)
    const aG = (1 - eta) * gPeak * norm * tau0;
    const bG = ln2x4 / (f * f);
    // Windows: the Gaussian part until tau < 1e-4 min(1, tau0), the Lorentzian part until
    // tau < 1e-3 min(1, tau0) (capped at 100 Å for hydrogen, 10 Å for metals).
    const cutG = 1e-4 * Math.min(1, tau0);
    const cutL = 1e-3 * Math.min(1, tau0);
    const wG = aG > cutG ? Math.sqrt(Math.log(aG / cutG) / bG) : 0;
    const wL = aL > cutL ? Math.sqrt(hf2 * (aL / cutL)) : 0;
    const cap = line.kind === 'hydrogen' ? 100 : 10;
    const half = Math.min(Math.max(wG, wL), cap);
    const jLo = Math.max(0, Math.floor((Math.log(lam0 - half) - x0) / dx));
    const jHi = Math.min(nFine - 1, Math.ceil((Math.log(lam0 + half) - x0) / dx));
    if (aL > 0) {
      const c = aL * hf2;
      for (let j = jLo; j <= jHi; j++) {
        const d = lam[j] - lam0;
        tau[j] += c / (d * d + hf2);
      }
    }
    const gHalf = Math.min(wG, cap);
    const gLo = Math.max(0, Math.floor((Math.log(lam0 - gHalf) - x0) / dx));
    const gHi = Math.min(nFine - 1, Math.ceil((Math.log(lam0 + gHalf) - x0) / dx));
    for (let j = gLo; j <= gHi; j++) {
      const d = lam[j] - lam0;
      tau[j] += aG * Math.exp(-bG * d * d);
    }
  }

  // 3. broadening of the depth D = maxDepth (1 - exp(-tau)), in velocity (ln lambda) space
  const depth = new Float64Array(nFine);
  for (let j = 0; j < nFine; j++) depth[j] = -maxDepth * Math.expm1(-tau[j]);
  const stepKms = SPEED_OF_LIGHT_KM_S * dx;
  // A rotation kernel narrower than 4 fine pixels is applied as exact pixel-integrated taps;
  // wider ones by their analytic Fourier transform (no extra FFT).
  const rotPix = vsiniKms / stepKms;
  const taps = vsiniKms > 0 && rotPix < 4 ? rotationKernelTaps(vsiniKms, stepKms, eps) : null;
  const analyticRot = vsiniKms > 0 && !taps;
  const h = taps ? (taps.length - 1) / 2 : analyticRot ? Math.ceil(rotPix) + 1 : 0;
  let broadened: Float64Array = depth;
  if (taps && sigmaInstKms === 0 && h <= 8) {
    // Narrow rotation kernel alone: direct convolution.
    broadened = new Float64Array(nFine);
    for (let j = 0; j < nFine; j++) {
      let acc = 0;
      for (let k = -h; k <= h; k++) {
        const jj = j - k;
        if (jj >= 0 && jj < nFine) acc += taps[k + h] * depth[jj];
      }
      broadened[j] = acc;
    }
  } else if (taps || analyticRot || sigmaInstKms > 0) {
    const m = nextPowerOfTwo(nFine + h + Math.ceil((8 * sigmaInstKms) / stepKms) + 1);
    const padded = new Float64Array(m);
    padded.set(depth);
    const X = rfft(padded);
    let Y: { re: Float64Array; im: Float64Array } | null = null;
    if (taps) {
      const kernel = new Float64Array(m);
      for (let k = -h; k <= h; k++) kernel[(k + m) % m] = taps[k + h];
      Y = rfft(kernel);
    }
    const sigPix = sigmaInstKms / stepKms;
    const gc = -2 * Math.PI * Math.PI * sigPix * sigPix;
    const rotOmega = (2 * Math.PI * rotPix) / m;
    for (let k = 0; k <= m / 2; k++) {
      const fr = k / m;
      let gk = sigmaInstKms > 0 ? Math.exp(gc * fr * fr) : 1;
      if (analyticRot) gk *= rotationKernelTransfer(rotOmega * k, eps);
      let pr = X.re[k];
      let pi = X.im[k];
      if (Y) {
        const yr = Y.re[k],
          yi = Y.im[k];
        const t = pr * yr - pi * yi;
        pi = pr * yi + pi * yr;
        pr = t;
      }
      X.re[k] = pr * gk;
      X.im[k] = pi * gk;
    }
    broadened = irfft(X.re, X.im).subarray(0, nFine);
  }
  const fine = new Float64Array(nFine);
  for (let j = 0; j < nFine; j++) fine[j] = 1 - broadened[j];

  // 4. pixel averages and noise
  const flux = pixelAverage(lam, fine, grid);
  if (opts.snr !== undefined) {
    if (!(opts.snr > 0)) throw new Error(`synthesizeFlux: snr must be > 0, got ${opts.snr}`);
    if (!opts.noiseRng) throw new Error('synthesizeFlux: snr given without noiseRng');
    for (let i = 0; i < flux.length; i++) flux[i] += opts.noiseRng.normal() / opts.snr;
  }
  for (let i = 0; i < flux.length; i++) {
    if (!Number.isFinite(flux[i]))
      throw new Error(`synthesizeFlux: non-finite flux at pixel ${i} for labels ${JSON.stringify(labels)}`);
  }
  return flux;
}

function toNumberArray(a: Float64Array): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
}

/** Record fields of a generated spectrum. */
export interface SpectrumRecordOptions extends SyntheticSpectrumOptions {
  /** `source` of the record; default `synthetic:spectra`. */
  source?: string;
  /** `line` of the record; default 0. */
  line?: number;
}

/**
 * One synthetic spectrum as a `SpectrumRecord` (labels teffK, logg, vsiniKms, mh, vmicKms,
 * resolution; `synthetic: true`; id = `spectrumContentId`). See {@link synthesizeFlux}.
 */
export function generateSyntheticSpectrum(
  labels: SpectrumLabels,
  opts: SpectrumRecordOptions = {},
): SpectrumRecord {
  const grid = opts.grid ?? SPECTRUM_DEFAULT_GRID;
  const flux = synthesizeFlux(labels, opts);
  const rec: Omit<SpectrumRecord, 'id'> = {
    source: opts.source ?? 'synthetic:spectra',
    line: opts.line ?? 0,
    labels: {
      teffK: labels.teffK,
      logg: labels.logg,
      vsiniKms: labels.vsiniKms,
      mh: labels.mh,
      vmicKms: labels.vmicKms,
      resolution: labels.resolution,
    },
    wavelengthStartAngstrom: grid.startAngstrom,
    wavelengthStepAngstrom: grid.stepAngstrom,
    flux: toNumberArray(flux),
    synthetic: true,
    split: null,
  };
  return { id: spectrumContentId(rec), ...rec };
}

/** Options of {@link syntheticSpectra}. */
export interface SyntheticSpectraOptions extends Omit<SyntheticSpectrumOptions, 'noiseRng'> {
  /** Number of spectra, a non-negative integer. */
  n: number;
  /** Seed of the label draws (and of the noise, when `snr` is set). */
  seed: number;
  /** Label box; default {@link CVAE_LABEL_RANGES} (each label uniform in its range). */
  ranges?: Record<keyof SpectrumLabels, LabelRange>;
}

/**
 * Lazily generate `n` synthetic spectra with the six CVAE labels drawn uniformly in their
 * ranges. Records carry `source: 'synthetic:spectra:seed=S'` and `line` = index + 1. The line
 * list is fixed (independent of `seed`).
 */
export function* syntheticSpectra(opts: SyntheticSpectraOptions): Generator<SpectrumRecord, void, undefined> {
  const { n, seed, ranges = CVAE_LABEL_RANGES, ...rest } = opts;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`syntheticSpectra: n must be a non-negative integer, got ${n}`);
  const rng = new Rng(seed);
  const noiseRng = rest.snr !== undefined ? new Rng(seed + 1_000_003) : undefined;
  for (let i = 0; i < n; i++) {
    const labels = sampleLabels(rng, ranges);
    yield generateSyntheticSpectrum(labels, {
      ...rest,
      noiseRng,
      source: `synthetic:spectra:seed=${seed}`,
      line: i + 1,
    });
  }
}
