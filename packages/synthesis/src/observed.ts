// A synthetic spectrum against an observed one: the observation resampled onto the grid, its continuum placed by the model, residuals.
import { resampleSpectrum, type KuruczDeck, type Spectrum1D, type SpectrumGrid } from '@stellar-emu/grid-io';
import { quantile } from '@stellar-emu/numerics';
import { IntensityBroadener } from './broaden.js';
import type { EngineAtmosphere, SmeEngine, WavelengthMedium } from './engine.js';
import { synthesisWindow } from './grid.js';
import { deckAtmosphere } from './sources.js';

/** Options of {@link compareWithObserved}. */
export interface ObservedComparisonOptions {
  /** Width of the windows in which the continuum level is set, Å (default 10). */
  windowAngstrom?: number;
  /** Model pixels at or above this normalized flux count as continuum points (default 0.97). */
  continuumThreshold?: number;
  /** Extra wavelength ranges to leave out, Å (e.g. telluric bands). */
  exclude?: { fromAngstrom: number; toAngstrom: number }[];
  /** Pixels within this distance of non-positive observed flux (a detector gap) are left out, Å (default 1). */
  gapPaddingAngstrom?: number;
}

/** The comparison of {@link compareWithObserved}, every array on the grid's pixels. */
export interface ObservedComparison {
  grid: SpectrumGrid;
  /** Observed flux divided by the placed continuum (NaN where left out). */
  observed: Float64Array;
  synthesized: Float64Array;
  /** observed − synthesized (NaN where left out). */
  residual: Float64Array;
  /** The continuum placed under the raw observed flux. */
  continuum: Float64Array;
  medianAbsResidual: number;
  p95AbsResidual: number;
  /** Pixels compared. */
  pixels: number;
  /** Ranges left out: detector gaps found in the data and the `exclude` option. */
  excluded: { fromAngstrom: number; toAngstrom: number }[];
  /** How the continuum was placed (for reports). */
  method: string;
}

/**
 * Compare a continuum-normalized synthetic spectrum with a raw observed one (e.g. the HARPS Sun,
 * whose flux is relative, not normalized). Method: the observation is interpolated linearly onto
 * the grid's pixel centres; pixels within `gapPaddingAngstrom` of non-positive flux (detector
 * gaps) and the `exclude` ranges are left out; in consecutive windows of `windowAngstrom` the
 * continuum level is the median of observed / synthesized over the pixels where the model is
 * near its continuum (synthesized ≥ `continuumThreshold`), placed at the mean wavelength of those
 * pixels, linear in between and extended linearly beyond the outermost windows; the normalized observation
 * is observed / continuum. Only the continuum level comes from the model, one number per window;
 * every line depth and shape is compared as observed.
 */
export function compareWithObserved(
  observed: Spectrum1D,
  synthesized: ArrayLike<number>,
  grid: SpectrumGrid,
  opts: ObservedComparisonOptions = {},
): ObservedComparison {
  const window = opts.windowAngstrom ?? 10;
  const threshold = opts.continuumThreshold ?? 0.97;
  const pad = opts.gapPaddingAngstrom ?? 1;
  if (synthesized.length !== grid.n)
    throw new Error(`compareWithObserved: ${synthesized.length} synthesized pixels for a grid of ${grid.n}`);
  const wl = Array.from({ length: grid.n }, (_, i) => grid.startAngstrom + i * grid.stepAngstrom);
  const raw = resampleSpectrum(observed, { grid, method: 'linear' });
  // Detector gaps: runs of non-positive observed flux, widened by `pad`.
  const excluded: { fromAngstrom: number; toAngstrom: number }[] = [];
  const w = observed.wavelengthAngstrom;
  const f = observed.flux;
  for (let i = 0; i < f.length; i++) {
    if (!(f[i] > 0)) {
      let j = i;
      while (j + 1 < f.length && !(f[j + 1] > 0)) j++;
      excluded.push({ fromAngstrom: w[i] - pad, toAngstrom: w[j] + pad });
      i = j;
    }
  }
  excluded.push(...(opts.exclude ?? []));
  const use = new Uint8Array(grid.n);
  for (let i = 0; i < grid.n; i++) {
    use[i] =
      Number.isFinite(raw[i]) &&
      raw[i] > 0 &&
      Number.isFinite(synthesized[i]) &&
      !excluded.some((r) => wl[i] >= r.fromAngstrom && wl[i] <= r.toAngstrom)
        ? 1
        : 0;
  }
  const ax: number[] = [];
  const ay: number[] = [];
  const end = grid.startAngstrom + grid.n * grid.stepAngstrom;
  for (let lo = grid.startAngstrom, i = 0; lo < end; lo += window) {
    const ratios: number[] = [];
    let sx = 0;
    for (; i < grid.n && wl[i] < lo + window; i++) {
      if (use[i] && synthesized[i] >= threshold) {
        ratios.push(raw[i] / synthesized[i]);
        sx += wl[i];
      }
    }
    if (ratios.length >= 5) {
      ax.push(sx / ratios.length);
      ay.push(quantile(ratios, 0.5));
    }
  }
  if (ax.length === 0)
    throw new Error(
      `compareWithObserved: no ${window} Å window holds 5 continuum pixels (model flux >= ${threshold}) with observed data`,
    );
  const continuum = new Float64Array(grid.n);
  const obsN = new Float64Array(grid.n);
  const residual = new Float64Array(grid.n);
  const abs: number[] = [];
  let k = 0;
  for (let i = 0; i < grid.n; i++) {
    let c: number;
    if (ax.length === 1) c = ay[0];
    else {
      // Linear between anchors, and extended linearly beyond the outermost ones (half a window).
      while (k + 2 < ax.length && ax[k + 1] < wl[i]) k++;
      c = ay[k] + ((wl[i] - ax[k]) / (ax[k + 1] - ax[k])) * (ay[k + 1] - ay[k]);
    }
    continuum[i] = c;
    obsN[i] = use[i] ? raw[i] / c : Number.NaN;
    residual[i] = use[i] ? obsN[i] - synthesized[i] : Number.NaN;
    if (use[i]) abs.push(Math.abs(residual[i]));
  }
  return {
    grid,
    observed: obsN,
    synthesized: Float64Array.from(synthesized),
    residual,
    continuum,
    medianAbsResidual: quantile(abs, 0.5),
    p95AbsResidual: quantile(abs, 0.95),
    pixels: abs.length,
    excluded,
    method: `observed flux / continuum; continuum = median of observed/model over model pixels >= ${threshold} in ${window} Å windows, linear between (and beyond) windows; detector gaps (flux <= 0) +-${pad} Å left out`,
  };
}

/** Settings of a synthetic Sun (or any single-deck star) compared with an observation. */
export interface DeckSpectrumSettings {
  grid: SpectrumGrid;
  linelist: string;
  medium: WavelengthMedium;
  vmicKms: number;
  vsiniKms: number;
  /** Radial–tangential macroturbulence ζ, km/s. */
  vmacKms: number;
  resolution: number;
}

/**
 * The spectrum of one atmosphere through the engine and the project's kernels: specific
 * intensities over the window the broadening needs, disk-integrated and broadened onto
 * `s.grid` (continuum-normalized). `labels.mh` scales the atmosphere's abundance mix.
 */
export async function synthesizeAtmosphere(
  engine: SmeEngine,
  atmosphere: EngineAtmosphere,
  labels: { teffK: number; logg: number; mh: number },
  s: DeckSpectrumSettings,
  context?: string,
): Promise<{ flux: Float64Array; seconds: number; warnings: string[] }> {
  const window = synthesisWindow({
    grid: s.grid,
    maxVsiniKms: s.vsiniKms,
    minResolution: s.resolution,
    vmacKms: s.vmacKms,
  });
  const si = await engine.intensities({
    atmosphere,
    labels: { ...labels, vmicKms: s.vmicKms },
    linelist: s.linelist,
    medium: s.medium,
    ...window,
    ...(context !== undefined ? { context } : {}),
  });
  let b: IntensityBroadener;
  try {
    b = new IntensityBroadener(si, s.grid, {
      maxVsiniKms: s.vsiniKms,
      maxVmacKms: s.vmacKms,
      minResolution: s.resolution,
    });
  } catch (err) {
    // PySME's adaptive wavelength grid fell short of the window it was asked for.
    throw new Error(
      `${context ?? atmosphere.source ?? 'synthesis'} (requested ${window.wminAngstrom.toFixed(3)}–${window.wmaxAngstrom.toFixed(3)} Å, PySME returned ${si.wavelengthAngstrom.length} wavelengths): ${(err as Error).message}`,
    );
  }
  return {
    flux: b.spectrum({ vsiniKms: s.vsiniKms, vmacKms: s.vmacKms, resolution: s.resolution }),
    seconds: si.seconds,
    warnings: si.warnings,
  };
}

/** The [M/H] of a deck: log10 of its ABUNDANCE SCALE. */
export function deckMh(deck: KuruczDeck): number {
  return Math.log10(deck.abundanceScale);
}

/**
 * The spectrum of one Kurucz deck (its own structure and abundance mix, [M/H] from its
 * ABUNDANCE SCALE) through the engine and the project's kernels.
 */
export function synthesizeDeck(
  engine: SmeEngine,
  deck: KuruczDeck,
  s: DeckSpectrumSettings,
): Promise<{ flux: Float64Array; seconds: number; warnings: string[] }> {
  return synthesizeAtmosphere(
    engine,
    deckAtmosphere(deck),
    { teffK: deck.teffK, logg: deck.logg, mh: deckMh(deck) },
    s,
    `${deck.source}:${deck.line}`,
  );
}
