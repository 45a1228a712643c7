// Resampling of 1D spectra onto a uniform grid (linear interpolation or pixel averages) and continuum normalization.
import { SPECTRUM_DEFAULT_GRID, type SpectrumGrid, assertGrid } from './grid.js';

/** A 1D spectrum on its own (increasing) wavelength samples. */
export interface Spectrum1D {
  /** Strictly increasing wavelengths, Å. */
  wavelengthAngstrom: Float64Array;
  /** Flux at each wavelength (any unit; continuum-normalized after {@link normalizeContinuum}). */
  flux: Float64Array;
  /** Where the spectrum came from (file path or description), used in error messages. */
  source: string;
}

function assertIncreasing(where: string, x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length) throw new Error(`${where}: ${x.length} wavelengths but ${y.length} flux values`);
  if (x.length < 2) throw new Error(`${where}: need at least 2 samples, got ${x.length}`);
  let prev = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!(v > prev) || v === Infinity) {
      throw new Error(
        Number.isFinite(v)
          ? `${where}: wavelengths must increase strictly (sample ${i}: ${prev} then ${v})`
          : `${where}: wavelength[${i}] = ${v} is not finite`,
      );
    }
    prev = v;
  }
}

/**
 * Exact pixel averages of the piecewise-linear function through (x, y) over the pixels of a
 * uniform grid: out[i] = (1/step) * integral of y over [c_i - step/2, c_i + step/2].
 * Pixels not fully covered by [x_0, x_last] are NaN. x must increase strictly; y may hold NaN
 * (it propagates into the pixels that touch it). O(len(x) + n).
 */
export function pixelAverage(
  xIn: ArrayLike<number>,
  yIn: ArrayLike<number>,
  grid: SpectrumGrid,
): Float64Array {
  assertGrid('pixelAverage', grid);
  assertIncreasing('pixelAverage', xIn, yIn);
  const x = xIn instanceof Float64Array ? xIn : Float64Array.from(xIn);
  const y = yIn instanceof Float64Array ? yIn : Float64Array.from(yIn);
  const m = x.length;
  const out = new Float64Array(grid.n);
  const s0 = grid.startAngstrom;
  const d = grid.stepAngstrom;
  const xFirst = x[0];
  const xLast = x[m - 1];
  let j = 0;
  for (let i = 0; i < grid.n; i++) {
    const a = s0 + (i - 0.5) * d;
    const b = a + d;
    if (a < xFirst || b > xLast) {
      out[i] = Number.NaN;
      continue;
    }
    while (j < m - 2 && x[j + 1] <= a) j++;
    // Integrate the linear pieces k = j, j+1, ... that overlap [a, b] (NaN stays local).
    let acc = 0;
    for (let k = j; k < m - 1 && x[k] < b; k++) {
      const x0 = x[k];
      const slope = (y[k + 1] - y[k]) / (x[k + 1] - x0);
      const lo = a > x0 ? a : x0;
      const hi = b < x[k + 1] ? b : x[k + 1];
      acc += (y[k] + slope * (0.5 * (lo + hi) - x0)) * (hi - lo);
    }
    out[i] = acc / d;
  }
  return out;
}

/** Options of {@link resampleSpectrum}. */
export interface ResampleOptions {
  /** Target grid; default {@link SPECTRUM_DEFAULT_GRID} (4450–5399.95 Å at 0.05 Å). */
  grid?: SpectrumGrid;
  /**
   * 'linear' (default): linear interpolation in wavelength at each pixel centre.
   * 'average': exact average of the piecewise-linear input over each pixel (flux-conserving;
   * better when the input is sampled more finely than the grid).
   */
  method?: 'linear' | 'average';
  /** Input samples further apart than this (Å) are a gap: pixels inside it become NaN. Default 1 Å. */
  maxGapAngstrom?: number;
  /** Treat flux <= 0 as missing (detector gaps filled with zeros). Default false. */
  maskNonPositive?: boolean;
}

/**
 * Resample a spectrum onto a uniform grid. Pixels outside the input's coverage, inside gaps
 * wider than `maxGapAngstrom`, or next to missing input samples are NaN (the dataset keeps NaN
 * as "missing pixel"). Interpolation is stated by `method` (default linear).
 */
export function resampleSpectrum(spectrum: Spectrum1D, opts: ResampleOptions = {}): Float64Array {
  const grid = opts.grid ?? SPECTRUM_DEFAULT_GRID;
  const where = `resampleSpectrum(${spectrum.source})`;
  assertGrid(where, grid);
  const x = spectrum.wavelengthAngstrom;
  assertIncreasing(where, x, spectrum.flux);
  const maxGap = opts.maxGapAngstrom ?? 1;
  if (!(maxGap > 0)) throw new Error(`${where}: maxGapAngstrom must be > 0, got ${maxGap}`);
  // Gaps: insert a NaN sample in the middle of every interval wider than maxGap, so pixels
  // inside the gap (or, for averages, overlapping it) become NaN while its edges keep their values.
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (i > 0 && x[i] - x[i - 1] > maxGap) {
      xs.push(0.5 * (x[i] + x[i - 1]));
      ys.push(Number.NaN);
    }
    const v = spectrum.flux[i];
    xs.push(x[i]);
    ys.push(opts.maskNonPositive && v <= 0 ? Number.NaN : v);
  }
  const xg = Float64Array.from(xs);
  const y = Float64Array.from(ys);
  if ((opts.method ?? 'linear') === 'average') return pixelAverage(xg, y, grid);
  if (opts.method !== undefined && opts.method !== 'linear')
    throw new Error(`${where}: unknown method ${String(opts.method)}`);
  const out = new Float64Array(grid.n);
  let j = 0;
  for (let i = 0; i < grid.n; i++) {
    const w = grid.startAngstrom + i * grid.stepAngstrom;
    if (w < xg[0] || w > xg[xg.length - 1]) {
      out[i] = Number.NaN;
      continue;
    }
    while (j < xg.length - 2 && xg[j + 1] < w) j++;
    const t = (w - xg[j]) / (xg[j + 1] - xg[j]);
    out[i] = t === 0 ? y[j] : t === 1 ? y[j + 1] : y[j] + t * (y[j + 1] - y[j]);
  }
  return out;
}

/** Options of {@link normalizeContinuum}. */
export interface ContinuumOptions {
  /** Width of the windows whose upper quantile marks the continuum, Å. Default 20. */
  windowAngstrom?: number;
  /** Quantile of the finite flux in each window taken as continuum. Default 0.95. */
  quantile?: number;
}

/**
 * Continuum-normalize a spectrum: in consecutive windows of `windowAngstrom`, the `quantile`
 * of the finite flux is the continuum at the window centre; the continuum is linear between
 * window centres and constant beyond the first/last; flux / continuum is returned (NaN stays
 * NaN). Suited to absorption spectra with some continuum in every window.
 */
export function normalizeContinuum(
  wavelengthAngstrom: ArrayLike<number>,
  flux: ArrayLike<number>,
  opts: ContinuumOptions = {},
): { flux: Float64Array; continuum: Float64Array } {
  const window = opts.windowAngstrom ?? 20;
  const q = opts.quantile ?? 0.95;
  if (!(window > 0 && Number.isFinite(window)))
    throw new Error(`normalizeContinuum: windowAngstrom must be > 0, got ${window}`);
  if (!(q > 0 && q <= 1)) throw new Error(`normalizeContinuum: quantile must be in (0, 1], got ${q}`);
  assertIncreasing('normalizeContinuum', wavelengthAngstrom, flux);
  const n = flux.length;
  const x0 = wavelengthAngstrom[0];
  const nWin = Math.max(1, Math.ceil((wavelengthAngstrom[n - 1] - x0) / window));
  const anchorsX: number[] = [];
  const anchorsY: number[] = [];
  let i = 0;
  for (let w = 0; w < nWin; w++) {
    const hi = x0 + (w + 1) * window;
    const vals: number[] = [];
    let sx = 0;
    while (i < n && (wavelengthAngstrom[i] < hi || w === nWin - 1)) {
      if (Number.isFinite(flux[i])) {
        vals.push(flux[i]);
        sx += wavelengthAngstrom[i];
      }
      i++;
    }
    if (vals.length < 5) continue;
    vals.sort((a, b) => a - b);
    const c = vals[Math.min(vals.length - 1, Math.floor(q * (vals.length - 1)))];
    if (c > 0) {
      anchorsX.push(sx / vals.length);
      anchorsY.push(c);
    }
  }
  if (anchorsX.length === 0)
    throw new Error('normalizeContinuum: no window has 5 finite samples with positive flux');
  const continuum = new Float64Array(n);
  const out = new Float64Array(n);
  let k = 0;
  for (let j = 0; j < n; j++) {
    const w = wavelengthAngstrom[j];
    let c: number;
    if (w <= anchorsX[0]) c = anchorsY[0];
    else if (w >= anchorsX[anchorsX.length - 1]) c = anchorsY[anchorsY.length - 1];
    else {
      while (anchorsX[k + 1] < w) k++;
      const t = (w - anchorsX[k]) / (anchorsX[k + 1] - anchorsX[k]);
      c = anchorsY[k] + t * (anchorsY[k + 1] - anchorsY[k]);
    }
    continuum[j] = c;
    out[j] = flux[j] / c;
  }
  return { flux: out, continuum };
}
