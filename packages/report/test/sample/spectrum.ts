// Toy normalized spectra around Hβ: a seeded line list, Doppler/rotation/instrumental broadening.
//
// Used only to compute the report tests' sample metrics. Each line's optical depth depends on
// Teff, log g, [M/H] and v_mic; the emergent flux 0.1 + 0.9 exp(−τ) is convolved with the rotational
// kernel (limb darkening ε = 0.6) and a Gaussian instrumental profile of resolving power R.
import { ATOMIC_MASS_UNIT_G, BOLTZMANN_ERG_K, SPEED_OF_LIGHT_KM_S, type Rng } from '@stellar-emu/numerics';
import type { SpectrumLabels } from '@stellar-emu/metrics';

/** Boltzmann constant over the iron atom mass, in km² s⁻² K⁻¹ (k / (55.845 m_u); cm² → km²). */
const kOverMFeKms2K = BOLTZMANN_ERG_K / (55.845 * ATOMIC_MASS_UNIT_G) / 1e10;

/** Wavelength grid of the sample spectra: start and step in Å, number of pixels. */
export interface WavelengthGrid {
  startAngstrom: number;
  stepAngstrom: number;
  n: number;
}

export const SAMPLE_GRID: WavelengthGrid = { startAngstrom: 4800, stepAngstrom: 0.05, n: 2001 };

/** One absorption line of the toy line list. */
export interface Line {
  /** Central wavelength in Å. */
  centerAngstrom: number;
  /** log10 of the central optical depth at Teff = 7000 K, log g = 4, [M/H] = 0. */
  logStrength: number;
  /** d log10(strength) / d(Teff / 1000 K): negative for neutral lines. */
  teffSlope: number;
  /** d log10(strength) / d log g: negative for ionized lines. */
  loggSlope: number;
}

/** A seeded line list of `n` metal lines in the grid (Hβ is added separately). */
export function sampleLineList(rng: Rng, grid: WavelengthGrid = SAMPLE_GRID, n = 70): Line[] {
  const end = grid.startAngstrom + (grid.n - 1) * grid.stepAngstrom;
  return Array.from({ length: n }, () => {
    const ionized = rng.uniform() < 0.3;
    return {
      centerAngstrom: rng.uniform(grid.startAngstrom + 1, end - 1),
      logStrength: rng.uniform(-1.5, 0.8),
      teffSlope: ionized ? rng.uniform(-0.15, 0.05) : rng.uniform(-0.45, -0.2),
      loggSlope: ionized ? rng.uniform(-0.35, -0.15) : rng.uniform(-0.05, 0.05),
    };
  });
}

/** Gaussian of width sigma (in pixels) integrated over a pixel centred at offset x (pixels). */
function pixelGaussian(x: number, sigma: number): number {
  const s = sigma * Math.SQRT2;
  return 0.5 * (erf((x + 0.5) / s) - erf((x - 0.5) / s));
}

/** Abramowitz–Stegun 7.1.26 error function (|error| < 1.5e-7). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-a * a);
  return sign * y;
}

function convolve(flux: Float64Array, kernel: number[]): Float64Array {
  const half = (kernel.length - 1) / 2;
  const n = flux.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < kernel.length; k++) {
      const j = Math.min(n - 1, Math.max(0, i + k - half));
      s += kernel[k] * flux[j];
    }
    out[i] = s;
  }
  return out;
}

/** Classical rotational broadening kernel (Gray) sampled on pixels, normalized to unit sum. */
function rotationKernel(vsiniKms: number, grid: WavelengthGrid): number[] {
  const center = grid.startAngstrom + ((grid.n - 1) / 2) * grid.stepAngstrom;
  const dlPix = (center * vsiniKms) / SPEED_OF_LIGHT_KM_S / grid.stepAngstrom;
  if (dlPix < 0.5) return [1];
  const eps = 0.6;
  const half = Math.ceil(dlPix);
  const k: number[] = [];
  for (let i = -half; i <= half; i++) {
    const x = i / dlPix;
    k.push(Math.abs(x) >= 1 ? 0 : 2 * (1 - eps) * Math.sqrt(1 - x * x) + 0.5 * Math.PI * eps * (1 - x * x));
  }
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

/** Gaussian instrumental kernel for resolving power R, sampled on pixels. */
function instrumentKernel(resolution: number, grid: WavelengthGrid): number[] {
  const center = grid.startAngstrom + ((grid.n - 1) / 2) * grid.stepAngstrom;
  const sigmaPix = center / resolution / 2.3548 / grid.stepAngstrom;
  if (sigmaPix < 0.3) return [1];
  const half = Math.ceil(4 * sigmaPix);
  const k: number[] = [];
  for (let i = -half; i <= half; i++) k.push(pixelGaussian(i, sigmaPix));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

/** Continuum-normalized flux (dimensionless) at `labels` on `grid`. */
export function synthesizeSpectrum(
  labels: SpectrumLabels,
  lines: readonly Line[],
  grid: WavelengthGrid = SAMPLE_GRID,
): Float64Array {
  const tau = new Float64Array(grid.n);
  const metals = 10 ** labels.mh;
  const tK = labels.teffK / 1000;
  for (const line of lines) {
    const strength =
      10 ** (line.logStrength + line.teffSlope * (tK - 7) + line.loggSlope * (labels.logg - 4)) * metals;
    // Doppler width: b = sqrt(2kT/m + v_mic²) in km/s, σ_λ = λ b / (c √2).
    const bKms = Math.sqrt(2 * kOverMFeKms2K * labels.teffK + labels.vmicKms ** 2);
    const sigmaPix = (line.centerAngstrom * bKms) / (SPEED_OF_LIGHT_KM_S * Math.SQRT2) / grid.stepAngstrom;
    const c = (line.centerAngstrom - grid.startAngstrom) / grid.stepAngstrom;
    const lo = Math.max(0, Math.floor(c - 6 * sigmaPix - 1));
    const hi = Math.min(grid.n - 1, Math.ceil(c + 6 * sigmaPix + 1));
    for (let i = lo; i <= hi; i++) tau[i] += strength * pixelGaussian(i - c, sigmaPix);
  }
  // Hβ (4861.35 Å): Stark wings wider at high gravity, strongest near 9500 K.
  const hbeta = 4861.35;
  const depth = 6 * Math.exp(-(((labels.teffK - 9500) / 3200) ** 2)) + 0.4;
  const widthA = 1.2 * 10 ** (0.22 * (labels.logg - 4)) * (0.6 + labels.teffK / 15_000);
  for (let i = 0; i < grid.n; i++) {
    const dl = grid.startAngstrom + i * grid.stepAngstrom - hbeta;
    tau[i] += depth * (1 + (dl / widthA) ** 2) ** -1.25;
  }
  let flux: Float64Array = new Float64Array(grid.n);
  // Lines do not reach zero flux: the source function floor is ~10 % of the continuum.
  for (let i = 0; i < grid.n; i++) flux[i] = 0.1 + 0.9 * Math.exp(-tau[i]);
  flux = convolve(flux, rotationKernel(labels.vsiniKms, grid));
  flux = convolve(flux, instrumentKernel(labels.resolution, grid));
  return flux;
}
