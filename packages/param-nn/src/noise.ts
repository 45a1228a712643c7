// Gaussian noise augmentation at a signal-to-noise ratio drawn uniformly per spectrum, in flux or PCA-coefficient space.
import { deriveSeed, Rng } from '@stellar-emu/numerics';

/** SNR range of the augmentation (the paper's): uniform in [5, 300]. */
export const DEFAULT_SNR_RANGE = { min: 5, max: 300 } as const;

/** Options of the noise augmentation. */
export interface NoiseOptions {
  /** Seed of the SNR draws and the noise (default 1). */
  seed?: number;
  /** SNR range; each spectrum gets one SNR drawn uniformly from it (default 5..300). */
  snrRange?: { min: number; max: number };
}

/**
 * Noise standard deviation for a continuum signal-to-noise ratio: the flux is continuum-normalized
 * (continuum = 1), so the per-pixel noise is white Gaussian with σ = 1 / SNR in flux units, the
 * same for every pixel of the spectrum (the paper's SNR is a continuum SNR).
 */
export function noiseSigmaForSnr(snr: number): number {
  if (!(snr > 0)) throw new Error(`noiseSigmaForSnr: SNR must be > 0, got ${snr}`);
  return 1 / snr;
}

function checkRange(r: { min: number; max: number }): void {
  if (!(r.min > 0 && r.max >= r.min && Number.isFinite(r.max)))
    throw new Error(`noise: SNR range must satisfy 0 < min <= max < ∞, got [${r.min}, ${r.max}]`);
}

/**
 * The random stream of spectrum `index`: its first uniform draw gives the SNR, the following
 * normal draws the noise. Deriving it from (seed, index) makes the noise independent of block
 * sizes and of the order in which spectra are processed.
 */
function spectrumRng(seed: number, index: number): Rng {
  return new Rng(deriveSeed(seed, 0x5e1f, index));
}

/** The SNR that spectrum `index` receives for `opts` (uniform in the range). */
export function snrForIndex(index: number, opts: NoiseOptions = {}): number {
  const r = opts.snrRange ?? DEFAULT_SNR_RANGE;
  checkRange(r);
  return r.min + (r.max - r.min) * spectrumRng(opts.seed ?? 1, index).uniform();
}

/**
 * A noisy copy of spectra in flux space: row i (global index `firstIndex + i`) gets white
 * Gaussian noise of σ = 1/SNR_i, SNR_i uniform in the range. Returns the copies and the SNRs.
 */
export function addFluxNoise(
  flux: Float32Array,
  rows: number,
  numPixels: number,
  firstIndex: number,
  opts: NoiseOptions = {},
): { flux: Float32Array; snr: Float64Array } {
  if (flux.length !== rows * numPixels)
    throw new Error(`addFluxNoise: ${flux.length} values for ${rows} spectra of ${numPixels} pixels`);
  const r = opts.snrRange ?? DEFAULT_SNR_RANGE;
  checkRange(r);
  const out = new Float32Array(flux.length);
  const snr = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const rng = spectrumRng(opts.seed ?? 1, firstIndex + i);
    snr[i] = r.min + (r.max - r.min) * rng.uniform();
    const sigma = noiseSigmaForSnr(snr[i]);
    for (let j = 0; j < numPixels; j++)
      out[i * numPixels + j] = flux[i * numPixels + j] + sigma * rng.normal();
  }
  return { flux: out, snr };
}

/**
 * The same augmentation applied to PCA coefficients: for an orthonormal basis V (D x k) and
 * white noise n ~ N(0, σ² I_D), Vᵀ n ~ N(0, σ² I_k) exactly, so projecting a noisy spectrum
 * equals adding N(0, σ² I_k) to its clean coefficients — in distribution, without drawing D
 * normals per spectrum (19,000 → 25). The SNR of row i equals `addFluxNoise`'s for the same
 * seed and index.
 */
export function addCoefficientNoise(
  coeffs: Float32Array,
  rows: number,
  k: number,
  firstIndex: number,
  opts: NoiseOptions = {},
): { coeffs: Float32Array; snr: Float64Array } {
  if (coeffs.length !== rows * k)
    throw new Error(`addCoefficientNoise: ${coeffs.length} values for ${rows} x ${k} coefficients`);
  const r = opts.snrRange ?? DEFAULT_SNR_RANGE;
  checkRange(r);
  const out = new Float32Array(coeffs.length);
  const snr = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const rng = spectrumRng(opts.seed ?? 1, firstIndex + i);
    snr[i] = r.min + (r.max - r.min) * rng.uniform();
    const sigma = noiseSigmaForSnr(snr[i]);
    for (let j = 0; j < k; j++) out[i * k + j] = coeffs[i * k + j] + sigma * rng.normal();
  }
  return { coeffs: out, snr };
}

/**
 * Noisy copies of every spectrum: the clean rows followed by `copies` noisy copies of them
 * (coefficient space, see {@link addCoefficientNoise}; default one copy, as in the paper); labels
 * are duplicated. Copy c of spectrum i draws its SNR and noise from the stream of index c·rows + i,
 * so copy 0 is the same for any `copies`, and every copy gets its own SNR. `snr` is Infinity for
 * the clean rows.
 */
export function augmentWithNoisyCopies(
  data: { coeffs: Float32Array; labels: Float64Array; rows: number },
  k: number,
  numLabels: number,
  opts: NoiseOptions & { copies?: number } = {},
): { coeffs: Float32Array; labels: Float64Array; rows: number; snr: Float64Array } {
  const { coeffs, labels, rows } = data;
  const copies = opts.copies ?? 1;
  if (!(Number.isInteger(copies) && copies >= 1))
    throw new Error(`augmentWithNoisyCopies: copies must be an integer >= 1, got ${copies}`);
  const total = (1 + copies) * rows;
  const c = new Float32Array(total * k);
  const l = new Float64Array(total * numLabels);
  const snr = new Float64Array(total).fill(Infinity);
  c.set(coeffs);
  l.set(labels);
  for (let copy = 0; copy < copies; copy++) {
    const noisy = addCoefficientNoise(coeffs, rows, k, copy * rows, opts);
    const at = (1 + copy) * rows;
    c.set(noisy.coeffs, at * k);
    l.set(labels, at * numLabels);
    snr.set(noisy.snr, at);
  }
  return { coeffs: c, labels: l, rows: total, snr };
}
