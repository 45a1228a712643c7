// Uniform wavelength grids of normalized spectra.

/** A uniform wavelength grid: pixel i is at startAngstrom + i * stepAngstrom (pixel centres). */
export interface SpectrumGrid {
  /** Wavelength of the first pixel centre, Å. */
  readonly startAngstrom: number;
  /** Pixel spacing, Å. */
  readonly stepAngstrom: number;
  /** Number of pixels. */
  readonly n: number;
}

/**
 * The default spectrum grid: 4450–5400 Å at 0.05 Å, 19,000 pixels. Defined as start = 4450,
 * step = 0.05, n = 19000, so the last pixel centre is 5399.95 Å (5400 itself is not a pixel).
 */
export const SPECTRUM_DEFAULT_GRID: SpectrumGrid = Object.freeze({
  startAngstrom: 4450,
  stepAngstrom: 0.05,
  n: 19000,
});

/** Throw a clear error unless `grid` has a finite positive start and step and an integer n >= 1. */
export function assertGrid(where: string, grid: SpectrumGrid): void {
  const { startAngstrom, stepAngstrom, n } = grid;
  if (!(
    Number.isFinite(startAngstrom) &&
    startAngstrom > 0 &&
    Number.isFinite(stepAngstrom) &&
    stepAngstrom > 0 &&
    Number.isInteger(n) &&
    n >= 1
  )) {
    throw new Error(`${where}: invalid grid (start ${startAngstrom} Å, step ${stepAngstrom} Å, n ${n})`);
  }
}

/** Pixel-centre wavelengths of `grid`, Å. */
export function gridWavelengthsAngstrom(grid: SpectrumGrid = SPECTRUM_DEFAULT_GRID): Float64Array {
  assertGrid('gridWavelengthsAngstrom', grid);
  const out = new Float64Array(grid.n);
  for (let i = 0; i < grid.n; i++) out[i] = grid.startAngstrom + i * grid.stepAngstrom;
  return out;
}
