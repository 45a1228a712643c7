// Streaming randomized PCA of spectra (subspace iteration over row blocks + Rayleigh-Ritz), and projection.
import { performance } from 'node:perf_hooks';
import { tf } from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import {
  matMulCol,
  matTMulCol,
  orthonormalizeColumns,
  symmetricEigen,
  toRowMajorF32,
  type ColMatrix,
} from './linalg.js';
import type { SpectrumSource } from './sources.js';
import { DEFAULT_PCA_MEMORY_MIB } from './options.js';

/** Number of principal components used when neither `components` nor `maxRelativeError` is given. */
export const DEFAULT_PCA_COMPONENTS = 25;
/** Default working-memory cap of the PCA fit: 512 MiB. */
export const DEFAULT_PCA_MEMORY_CAP_BYTES = DEFAULT_PCA_MEMORY_MIB * 2 ** 20;

/** Options of {@link fitPca}. */
export interface PcaOptions {
  /** Fixed number of components k (default 25, unless `maxRelativeError` is set). */
  components?: number;
  /**
   * Choose k by reconstruction error instead: the smallest k whose relative reconstruction
   * error ‖Xc − Xc V Vᵀ‖_F / ‖Xc‖_F on the fitted spectra is ≤ this value (Xc: mean-subtracted
   * spectra), searched up to `maxComponents`.
   */
  maxRelativeError?: number;
  /** Upper bound of k when choosing by error (default 100). */
  maxComponents?: number;
  /** Extra random directions p of the range finder (default 10). */
  oversampling?: number;
  /** Subspace (power) iterations after the first pass, ≥ 1 (default 2): 1 + this many passes. */
  powerIterations?: number;
  /** Seed of the Gaussian test matrix (default 1). */
  seed?: number;
  /**
   * Cap on the working memory of the fit, in bytes (default 512 MiB): the row-block size is the
   * largest that keeps the block (host copy, device copy, centered copy) plus the D x (k+p)
   * working matrices under it. The fit fails when even one spectrum per block does not fit.
   */
  memoryCapBytes?: number;
  /** Spectra per block (overrides the size derived from the memory cap; still checked against it). */
  blockRows?: number;
  /** Called after each pass. */
  onPass?: (p: { pass: number; passes: number; seconds: number }) => void;
}

/** How a PCA fit went: sizes, passes, timing and memory. */
export interface PcaFitReport {
  numSpectra: number;
  numPixels: number;
  /** Chosen number of components. */
  components: number;
  /** How k was chosen. */
  componentSelection: 'fixed' | 'reconstruction-error';
  /** Target of the error-based choice, and whether it was met within maxComponents. */
  maxRelativeError: number | null;
  targetMet: boolean | null;
  /** Subspace dimension k + p that was iterated. */
  subspaceDim: number;
  passes: number;
  blockRows: number;
  /** Relative reconstruction error for 1..subspaceDim components (see PcaOptions.maxRelativeError). */
  relativeErrorByK: number[];
  seconds: number;
  memoryCapBytes: number;
  /** Working memory estimated from the fixed matrices and the largest block, in bytes. */
  estimatedPeakBytes: number;
  /** Largest growth of tfjs tensor memory during the fit, measured, in bytes. */
  measuredPeakTensorBytes: number;
}

/** Bytes of float64/float32 working memory for D pixels, subspace l and a block of b rows. */
export function pcaWorkingBytes(numPixels: number, subspaceDim: number, blockRows: number): number {
  const D = numPixels;
  const l = subspaceDim;
  // host: Q, Z and one temporary in float64, Q as float32, statistics (shift, sum, sumsq) in
  // float64; device: Q, Z old, Z new and the block product in float32.
  const fixed = D * l * (8 * 3 + 4) + D * 8 * 3 + D * l * 4 * 4;
  // host: the source's block and the shifted copy; device: the shifted block (float32); the b x l product.
  const perRow = D * 4 * 3 + l * 4 * 2;
  return fixed + perRow * blockRows;
}

/**
 * A fitted PCA basis: mean spectrum and the top-k principal directions of the spectra.
 * Coefficients are c = (x − mean) · basis (basis columns orthonormal).
 */
export class PcaModel {
  constructor(
    /** Mean spectrum, numPixels values (dimensionless flux). */
    readonly mean: Float32Array,
    /** Principal directions, row-major [numPixels, k], orthonormal columns, by decreasing variance. */
    readonly basis: Float32Array,
    readonly numPixels: number,
    readonly components: number,
    /** Variance of the spectra along each direction (eigenvalue / (N − 1)), flux². */
    readonly explainedVariance: Float64Array,
    /** Total variance Σ over pixels of the pixel variance (trace of the covariance), flux². */
    readonly totalVariance: number,
  ) {
    if (mean.length !== numPixels)
      throw new Error(`PcaModel: mean has ${mean.length} values, expected ${numPixels}`);
    if (basis.length !== numPixels * components)
      throw new Error(`PcaModel: basis has ${basis.length} values, expected ${numPixels}x${components}`);
  }

  private meanT: tf.Tensor1D | null = null;
  private basisT: tf.Tensor2D | null = null;

  private tensors(): { meanT: tf.Tensor1D; basisT: tf.Tensor2D } {
    if (!this.meanT || this.meanT.isDisposed) this.meanT = tf.tensor1d(this.mean, 'float32');
    if (!this.basisT || this.basisT.isDisposed)
      this.basisT = tf.tensor2d(this.basis, [this.numPixels, this.components], 'float32');
    return { meanT: this.meanT, basisT: this.basisT };
  }

  /** Coefficients [rows, k] of row-major spectra [rows, numPixels], as a tensor (caller disposes). */
  projectTensor(flux: Float32Array, rows: number): tf.Tensor2D {
    if (flux.length !== rows * this.numPixels)
      throw new Error(`project: ${flux.length} values for ${rows} spectra of ${this.numPixels} pixels`);
    const { meanT, basisT } = this.tensors();
    return tf.tidy(() => tf.matMul(tf.sub(tf.tensor2d(flux, [rows, this.numPixels]), meanT), basisT));
  }

  /** Coefficients [rows, k] of row-major spectra [rows, numPixels]. */
  async project(flux: Float32Array, rows: number): Promise<Float32Array> {
    const t = this.projectTensor(flux, rows);
    const out = (await t.data()) as Float32Array;
    t.dispose();
    return out;
  }

  /** Spectra [rows, numPixels] from coefficients [rows, k]. */
  async reconstruct(coeffs: Float32Array, rows: number): Promise<Float32Array> {
    const { meanT, basisT } = this.tensors();
    const t = tf.tidy(() =>
      tf.add(tf.matMul(tf.tensor2d(coeffs, [rows, this.components]), basisT, false, true), meanT),
    );
    const out = (await t.data()) as Float32Array;
    t.dispose();
    return out;
  }

  /** Coefficients of every spectrum of a source (one pass), with its labels. */
  async projectSource(
    source: SpectrumSource,
    blockRows = 1024,
  ): Promise<{ coeffs: Float32Array; labels: Float64Array; rows: number }> {
    if (source.numPixels !== this.numPixels)
      throw new Error(`projectSource: the source has ${source.numPixels} pixels, the PCA ${this.numPixels}`);
    const k = this.components;
    const nl = source.labelNames.length;
    const coeffs = new Float32Array(source.numSpectra * k);
    const labels = new Float64Array(source.numSpectra * nl);
    let r = 0;
    for await (const b of source.blocks(blockRows)) {
      if (r + b.rows > source.numSpectra)
        throw new Error(`projectSource: the source yielded more than its ${source.numSpectra} spectra`);
      coeffs.set(await this.project(b.flux, b.rows), r * k);
      if (nl && b.labels) labels.set(b.labels, r * nl);
      r += b.rows;
    }
    if (r !== source.numSpectra)
      throw new Error(`projectSource: the source yielded ${r} spectra, expected ${source.numSpectra}`);
    return { coeffs, labels, rows: r };
  }

  /** A copy truncated to the first `k` components. */
  truncate(k: number): PcaModel {
    if (k < 1 || k > this.components) throw new Error(`truncate: k=${k} outside 1..${this.components}`);
    const basis = new Float32Array(this.numPixels * k);
    for (let i = 0; i < this.numPixels; i++)
      for (let j = 0; j < k; j++) basis[i * k + j] = this.basis[i * this.components + j];
    return new PcaModel(
      this.mean,
      basis,
      this.numPixels,
      k,
      this.explainedVariance.slice(0, k),
      this.totalVariance,
    );
  }

  dispose(): void {
    this.meanT?.dispose();
    this.basisT?.dispose();
    this.meanT = null;
    this.basisT = null;
  }
}

/**
 * Fit a PCA to every spectrum of `source` without holding the data: randomized subspace
 * iteration (Halko, Martinsson & Tropp 2011, Alg. 4.4 applied to the covariance) over row blocks.
 *
 * Pass 1 streams the blocks once: Z = Xcᵀ Xc Ω for a seeded Gaussian D x (k+p) matrix Ω,
 * together with the pixel sums and sums of squares that give the mean and the total variance.
 * The data are shifted by the mean of the first block and the shift is corrected exactly in
 * float64 afterwards (Xcᵀ Xc = Xsᵀ Xs − N d dᵀ, d = mean − shift), so no separate mean pass is
 * needed and float32 products do not suffer from the large common flux level. Each further pass
 * orthonormalizes Z in float64 (CGS2) to Q and streams Z = Xcᵀ Xc Q; the last pass ends with
 * the Rayleigh-Ritz step: the (k+p) x (k+p) matrix Qᵀ Z is diagonalized by Jacobi in float64 and
 * the Ritz vectors Q W are the principal directions. Block products run on tfjs in float32; the
 * D x (k+p) matrices are the only data-sized state.
 */
export async function fitPca(
  source: SpectrumSource,
  opts: PcaOptions = {},
): Promise<{ model: PcaModel; report: PcaFitReport }> {
  const t0 = performance.now();
  const D = source.numPixels;
  const N = source.numSpectra;
  if (N < 2) throw new Error(`fitPca: need at least 2 spectra, got ${N}`);
  const byError = opts.maxRelativeError !== undefined;
  if (byError && !(opts.maxRelativeError! > 0 && opts.maxRelativeError! < 1))
    throw new Error(`fitPca: maxRelativeError must be in (0, 1), got ${opts.maxRelativeError}`);
  if (byError && opts.components !== undefined)
    throw new Error('fitPca: give either components or maxRelativeError, not both');
  const kMax = Math.min(
    byError ? (opts.maxComponents ?? 100) : (opts.components ?? DEFAULT_PCA_COMPONENTS),
    D,
    N - 1,
  );
  if (!Number.isInteger(kMax) || kMax < 1) throw new Error(`fitPca: invalid number of components ${kMax}`);
  const p = opts.oversampling ?? 10;
  const l = Math.min(kMax + p, D, N);
  const q = opts.powerIterations ?? 2;
  if (!Number.isInteger(q) || q < 1)
    throw new Error(`fitPca: powerIterations must be an integer >= 1, got ${q}`);
  const passes = 1 + q;
  const cap = opts.memoryCapBytes ?? DEFAULT_PCA_MEMORY_CAP_BYTES;
  const fixedBytes = pcaWorkingBytes(D, l, 0);
  const perRow = pcaWorkingBytes(D, l, 1) - fixedBytes;
  const fitRows = Math.floor((cap - fixedBytes) / perRow);
  if (fitRows < 1) {
    throw new Error(
      `fitPca: memory cap ${(cap / 2 ** 20).toFixed(1)} MiB is below the minimum of ${((fixedBytes + perRow) / 2 ** 20).toFixed(1)} MiB ` +
        `for ${D} pixels and a subspace of ${l} (raise memoryCapBytes or lower the number of components)`,
    );
  }
  const blockRows = Math.min(opts.blockRows ?? Math.min(fitRows, 4096), fitRows, N);
  const estimatedPeakBytes = pcaWorkingBytes(D, l, blockRows);

  // Seeded Gaussian test matrix Ω (D x l), column-major float64.
  const rng = new Rng(opts.seed ?? 1);
  let Q: ColMatrix = { rows: D, cols: l, data: new Float64Array(D * l) };
  for (let i = 0; i < D * l; i++) Q.data[i] = rng.normal();
  orthonormalizeColumns(Q, (opts.seed ?? 1) + 7);

  let shift: Float64Array | null = null;
  const sum = new Float64Array(D);
  const sumSq = new Float64Array(D);
  const tensorBase = tf.memory().numBytes;
  let peakTensor = 0;
  let Zc: ColMatrix | null = null;
  const d = new Float64Array(D);

  {
    let scratch = new Float32Array(0);
    for (let pass = 0; pass < passes; pass++) {
      const Qt = tf.tensor2d(toRowMajorF32(Q), [D, l], 'float32');
      // Accumulated transposed: Zt = (Xsᵀ Xs Q)ᵀ, [l, D] — its row-major data is Z column-major.
      let Zt: tf.Tensor2D = tf.zeros([l, D], 'float32');
      let seen = 0;
      for await (const block of source.blocks(blockRows)) {
        const rows = block.rows;
        if (rows > blockRows)
          throw new Error(
            `fitPca: the source yielded a block of ${rows} spectra, more than the ${blockRows} asked for`,
          );
        if (block.flux.length !== rows * D)
          throw new Error(
            `fitPca: a block of ${rows} spectra has ${block.flux.length} values, expected ${rows * D}`,
          );
        if (!shift) {
          shift = new Float64Array(D);
          for (let r = 0; r < rows; r++) for (let j = 0; j < D; j++) shift[j] += block.flux[r * D + j];
          for (let j = 0; j < D; j++) shift[j] /= rows;
        }
        // Shift on the host (the block is the source's and stays untouched); in the first pass
        // the float64 pixel sums and sums of squares come from the same loop.
        if (scratch.length < rows * D) scratch = new Float32Array(blockRows * D);
        const xs = scratch.subarray(0, rows * D);
        const f = block.flux;
        if (pass === 0) {
          for (let r = 0; r < rows; r++) {
            const off = r * D;
            for (let j = 0; j < D; j++) {
              const v = f[off + j] - shift[j];
              xs[off + j] = v;
              sum[j] += v;
              sumSq[j] += v * v;
            }
          }
        } else {
          for (let r = 0; r < rows; r++) {
            const off = r * D;
            for (let j = 0; j < D; j++) xs[off + j] = f[off + j] - shift[j];
          }
        }
        const next = tf.tidy(() => {
          const Xs = tf.tensor2d(xs, [rows, D], 'float32');
          const XQ = tf.matMul(Xs, Qt);
          const out = tf.add(Zt, tf.matMul(XQ, Xs, true, false)) as tf.Tensor2D;
          peakTensor = Math.max(peakTensor, tf.memory().numBytes - tensorBase);
          return out;
        });
        Zt.dispose();
        Zt = next;
        seen += rows;
      }
      const Z = Zt;
      Qt.dispose();
      if (seen !== N) {
        Z.dispose();
        throw new Error(
          `fitPca: pass ${pass + 1} saw ${seen} spectra, the source has ${N} (sources must yield the same data on every pass)`,
        );
      }
      const Zh: ColMatrix = { rows: D, cols: l, data: Float64Array.from(await Z.data()) };
      Z.dispose();
      if (pass === 0) for (let j = 0; j < D; j++) d[j] = sum[j] / N;
      // Xcᵀ Xc Q = Xsᵀ Xs Q − N d (dᵀ Q)
      for (let c = 0; c < l; c++) {
        const qc = Q.data.subarray(c * D, (c + 1) * D);
        let dq = 0;
        for (let j = 0; j < D; j++) dq += d[j] * qc[j];
        const zc = Zh.data.subarray(c * D, (c + 1) * D);
        for (let j = 0; j < D; j++) zc[j] -= N * d[j] * dq;
      }
      if (pass < passes - 1) {
        orthonormalizeColumns(Zh, (opts.seed ?? 1) + 13 + pass);
        Q = Zh;
      } else {
        Zc = Zh;
      }
      opts.onPass?.({ pass: pass + 1, passes, seconds: (performance.now() - t0) / 1000 });
    }
  }

  // Rayleigh-Ritz: T = Qᵀ (C Q), C = Xcᵀ Xc.
  const T = matTMulCol(Q, Zc!);
  const eig = symmetricEigen(toRowMajorF32(T), l);
  const ritz = matMulCol(Q, eig.vectors);
  let trace = 0;
  const mean = new Float32Array(D);
  for (let j = 0; j < D; j++) {
    trace += sumSq[j] - N * d[j] * d[j];
    mean[j] = shift![j] + d[j];
  }
  trace = Math.max(trace, 0);
  const relativeErrorByK: number[] = [];
  let acc = 0;
  for (let i = 0; i < l; i++) {
    acc += Math.max(eig.values[i], 0);
    relativeErrorByK.push(trace > 0 ? Math.sqrt(Math.max(0, trace - acc) / trace) : 0);
  }
  let k = kMax;
  let targetMet: boolean | null = null;
  if (byError) {
    const idx = relativeErrorByK.slice(0, kMax).findIndex((e) => e <= opts.maxRelativeError!);
    targetMet = idx >= 0;
    k = targetMet ? idx + 1 : kMax;
  }
  const basis = new Float32Array(D * k);
  for (let j = 0; j < k; j++) {
    const col = ritz.data.subarray(j * D, (j + 1) * D);
    // Sign convention: the largest-magnitude entry of each direction is positive.
    let big = 0;
    for (let i = 0; i < D; i++) if (Math.abs(col[i]) > Math.abs(big)) big = col[i];
    const sgn = big < 0 ? -1 : 1;
    for (let i = 0; i < D; i++) basis[i * k + j] = sgn * col[i];
  }
  const explained = new Float64Array(k);
  for (let i = 0; i < k; i++) explained[i] = Math.max(eig.values[i], 0) / (N - 1);
  const model = new PcaModel(mean, basis, D, k, explained, trace / (N - 1));
  return {
    model,
    report: {
      numSpectra: N,
      numPixels: D,
      components: k,
      componentSelection: byError ? 'reconstruction-error' : 'fixed',
      maxRelativeError: byError ? opts.maxRelativeError! : null,
      targetMet,
      subspaceDim: l,
      passes,
      blockRows,
      relativeErrorByK,
      seconds: (performance.now() - t0) / 1000,
      memoryCapBytes: cap,
      estimatedPeakBytes,
      measuredPeakTensorBytes: peakTensor,
    },
  };
}
