// Out-of-core spectrum examples for nn-core's trainLoop: Parquet row groups (grid-io's spectrum reader) in a memory-capped cache, block-shuffled epochs.
import {
  assignSplit,
  canonicalSplitName,
  fillMissingFlux,
  openSpectrumDataset,
  scaleValue,
  type DatasetManifest,
  type MinMaxScale,
  type SpectrumDatasetReader,
} from '@stellar-emu/grid-io';
import { tf, type Batch, type BatchSource } from '@stellar-emu/nn-core';
import { deriveSeed, Rng } from '@stellar-emu/numerics';

/**
 * A label's min-max scale to [-1, 1] (grid-io `MinMaxScale`: its column and the dataset's range in
 * physical units from grid-io `minMaxScalesFromManifest`, or of log10(value + offset) from
 * `log10Scale`; applied with grid-io `scaleValue`).
 * Stored per label in model.json.
 */
export type LabelScale = MinMaxScale;

/** Options of {@link openSpectrumSource}. */
export interface SpectrumSourceOptions {
  /** Dataset directory (grid-io spectrum dataset: Parquet + _manifest.json). */
  dir: string;
  /**
   * Keep rows of this split (grid-io `SplitName`, e.g. `VAL_SPLIT`; the old spelling 'validation' is
   * accepted); null: all rows. Rows without a split get one from their id (90/10, `splitSeed`).
   */
  split: string | null;
  splitSeed?: number;
  /**
   * Cap on decoded flux held in memory, in bytes (float32). The block-shuffle buffer is as many
   * row groups as fit under it; the dataset may be any size. Must hold at least one row group.
   */
  cacheBytes: number;
  /** Label columns in conditioning order, and their scales. */
  labelScales: LabelScale[];
  /**
   * Attach reparameterisation noise [b, latentDim] drawn from (seed, epoch, example), as `eps`
   * (training) or, with `key: 'epsVal'`, as a fixed validation draw (the epoch stays 0 unless
   * `epochOrder` is called).
   */
  noise?: { latentDim: number; seed: number; key?: 'eps' | 'epsVal' };
}

/** Counters of a source (memory and decoding). */
export interface SpectrumSourceStats {
  /** Bytes of decoded flux currently cached and the maximum ever cached. */
  cachedBytes: number;
  peakCachedBytes: number;
  /** Row groups decoded so far (a re-read after eviction counts again). */
  decodes: number;
  decodeSeconds: number;
  fastDecodes: number;
  /** Spectra decoded from Parquet so far (re-reads count again). */
  decodedExamples: number;
  /** Examples and batches returned by `batch` so far. */
  examplesServed: number;
  batchesServed: number;
}

interface Group {
  /** Row group of the reader. */
  group: number;
  /** Positions within the row group of the rows that belong to this source. */
  rows: Int32Array;
  /** First example index of this group. */
  firstExample: number;
}

/**
 * A random-access, out-of-core {@link BatchSource} over a grid-io spectrum dataset. Labels (and
 * the split) of every row are read once at open (a few doubles per row); flux is decoded per row
 * group on demand into an LRU cache capped at `cacheBytes`. `epochOrder` is a block shuffle from
 * the loop's seeded rng: permute the row groups, then shuffle the examples inside consecutive
 * windows of as many row groups as the cache holds, so each window is decoded once per epoch.
 * Batches: `flux` [b, N] continuum-normalized, `labels` [b, L] scaled to [-1, 1], `mask` [b, N]
 * when the dataset has NaN pixels (0 there; the pixels are filled with the continuum, grid-io
 * `MISSING_FLUX_VALUE`, by `fillMissingFlux`), `eps` [b, d] when `noise` is set.
 */
export class SpectrumSource implements BatchSource {
  readonly numExamples: number;
  readonly stats: SpectrumSourceStats = {
    cachedBytes: 0,
    peakCachedBytes: 0,
    decodes: 0,
    decodeSeconds: 0,
    fastDecodes: 0,
    decodedExamples: 0,
    examplesServed: 0,
    batchesServed: 0,
  };
  /** Row groups per shuffle window (as many as fit in the cache). */
  readonly windowGroups: number;
  private readonly cache = new Map<number, Float32Array>();
  private readonly exampleGroup: Int32Array;
  private currentEpoch = 0;

  constructor(
    readonly manifest: DatasetManifest,
    readonly nPixels: number,
    private readonly groups: Group[],
    /** Scaled labels [numExamples * L]. */
    readonly labels: Float32Array,
    /** Physical labels [numExamples * L]. */
    readonly physicalLabels: Float64Array,
    /** Wavelength grid: first wavelength and step in Å. */
    readonly wavelength: { startAngstrom: number; stepAngstrom: number },
    private readonly opts: SpectrumSourceOptions,
    private readonly reader: SpectrumDatasetReader,
  ) {
    this.numExamples = groups.reduce((n, g) => n + g.rows.length, 0);
    this.exampleGroup = new Int32Array(this.numExamples);
    groups.forEach((g, gi) => this.exampleGroup.fill(gi, g.firstExample, g.firstExample + g.rows.length));
    const maxGroupBytes = Math.max(0, ...groups.map((g) => g.rows.length * nPixels * 4));
    if (maxGroupBytes > opts.cacheBytes) {
      throw new Error(
        `cache of ${opts.cacheBytes} bytes cannot hold one row group (${maxGroupBytes} bytes of flux); raise the memory cap or write smaller row groups`,
      );
    }
    this.windowGroups = Math.max(1, Math.floor(opts.cacheBytes / Math.max(1, maxGroupBytes)));
  }

  get nLabels(): number {
    return this.opts.labelScales.length;
  }

  /** Block shuffle (see the class comment); also fixes the epoch used for the noise. */
  epochOrder(epoch: number, rng: Rng): Int32Array {
    this.currentEpoch = epoch;
    const order = new Int32Array(this.numExamples);
    const groupPerm = rng.permutation(this.groups.length);
    let o = 0;
    for (let w = 0; w < groupPerm.length; w += this.windowGroups) {
      const start = o;
      for (const gi of groupPerm.subarray(w, w + this.windowGroups)) {
        const g = this.groups[gi];
        for (let r = 0; r < g.rows.length; r++) order[o++] = g.firstExample + r;
      }
      for (let i = o - 1; i > start; i--) {
        const j = start + rng.below(i - start + 1);
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    return order;
  }

  /** Decoded flux of group `gi` (rows of this source only), via the LRU cache. */
  private groupFlux(gi: number): Float32Array {
    const hit = this.cache.get(gi);
    if (hit) {
      this.cache.delete(gi);
      this.cache.set(gi, hit);
      return hit;
    }
    const g = this.groups[gi];
    const bytes = g.rows.length * this.nPixels * 4;
    while (this.cache.size > 0 && this.stats.cachedBytes + bytes > this.opts.cacheBytes) {
      const [oldest, arr] = this.cache.entries().next().value as [number, Float32Array];
      this.cache.delete(oldest);
      this.stats.cachedBytes -= arr.byteLength;
    }
    const t0 = performance.now();
    const { flux: all, path } = this.reader.readRowGroupFlux(g.group);
    let flux: Float32Array;
    if (g.rows.length * this.nPixels === all.length) flux = all;
    else {
      flux = new Float32Array(g.rows.length * this.nPixels);
      g.rows.forEach((r, i) =>
        flux.set(all.subarray(r * this.nPixels, (r + 1) * this.nPixels), i * this.nPixels),
      );
    }
    this.stats.decodeSeconds += (performance.now() - t0) / 1000;
    this.stats.decodes++;
    this.stats.decodedExamples += g.rows.length;
    if (path === 'fast') this.stats.fastDecodes++;
    this.cache.set(gi, flux);
    this.stats.cachedBytes += flux.byteLength;
    this.stats.peakCachedBytes = Math.max(this.stats.peakCachedBytes, this.stats.cachedBytes);
    return flux;
  }

  /** Copy the raw flux of `indices` into `out` [n * N] (NaN kept). */
  readFlux(indices: ArrayLike<number>, out = new Float32Array(indices.length * this.nPixels)): Float32Array {
    const N = this.nPixels;
    for (let i = 0; i < indices.length; i++) {
      const e = indices[i];
      if (!(e >= 0 && e < this.numExamples))
        throw new RangeError(`example ${e} out of range [0, ${this.numExamples})`);
      const gi = this.exampleGroup[e];
      const local = e - this.groups[gi].firstExample;
      out.set(this.groupFlux(gi).subarray(local * N, (local + 1) * N), i * N);
    }
    return out;
  }

  batch(indices: Int32Array): Batch {
    const n = indices.length;
    const N = this.nPixels;
    const L = this.nLabels;
    const flux = this.readFlux(indices);
    this.stats.examplesServed += n;
    this.stats.batchesServed++;
    let mask: Float32Array | null = null;
    if ((this.manifest.pixels?.nanCount ?? 0) > 0) {
      mask = new Float32Array(n * N);
      fillMissingFlux(flux, mask);
    }
    const labels = new Float32Array(n * L);
    for (let i = 0; i < n; i++) labels.set(this.labels.subarray(indices[i] * L, (indices[i] + 1) * L), i * L);
    const out: Batch = { flux: tf.tensor2d(flux, [n, N]), labels: tf.tensor2d(labels, [n, L]) };
    if (mask) out.mask = tf.tensor2d(mask, [n, N]);
    if (this.opts.noise) {
      const d = this.opts.noise.latentDim;
      const eps = new Float32Array(n * d);
      for (let i = 0; i < n; i++) {
        const rng = new Rng(deriveSeed(this.opts.noise.seed, this.currentEpoch, indices[i]));
        for (let j = 0; j < d; j++) eps[i * d + j] = rng.normal();
      }
      out[this.opts.noise.key ?? 'eps'] = tf.tensor2d(eps, [n, d]);
    }
    return out;
  }

  /** Drop the cache and close the files. */
  close(): void {
    this.cache.clear();
    this.stats.cachedBytes = 0;
    this.reader.close();
  }
}

/**
 * Open a spectrum dataset as a {@link SpectrumSource} with grid-io's `openSpectrumDataset`
 * (kind 'spectra', one pixel count, the label columns present; labels, split, ids and wavelengths
 * of every row read once), keeping the rows of `opts.split`, which must be on one wavelength
 * grid. Flux stays on disk.
 */
export async function openSpectrumSource(opts: SpectrumSourceOptions): Promise<SpectrumSource> {
  const reader = await openSpectrumDataset(opts.dir, { columns: opts.labelScales.map((s) => s.column) });
  try {
    const L = opts.labelScales.length;
    const want = opts.split === null ? null : canonicalSplitName(opts.split);
    const groups: Group[] = [];
    const labels: number[] = [];
    const physical: number[] = [];
    const selected: number[] = [];
    let first = 0;
    reader.rowGroups.forEach((rg, gi) => {
      const keep: number[] = [];
      for (let i = 0; i < rg.numRows; i++) {
        const row = rg.firstRow + i;
        const split = reader.splits[row] ?? assignSplit(reader.ids[row], '90/10', opts.splitSeed ?? 0);
        if (want !== null && split !== want) continue;
        keep.push(i);
        selected.push(row);
        opts.labelScales.forEach((s, j) => {
          const v = reader.labels[row * L + j];
          physical.push(v);
          labels.push(scaleValue(v, s));
        });
      }
      if (keep.length === 0) return;
      groups.push({ group: gi, rows: Int32Array.from(keep), firstExample: first });
      first += keep.length;
    });
    if (first === 0) throw new Error(`${opts.dir}: no rows in split ${JSON.stringify(opts.split)}`);
    const wavelength = reader.wavelengthGrid(selected);
    return new SpectrumSource(
      reader.manifest,
      reader.numPixels,
      groups,
      Float32Array.from(labels),
      Float64Array.from(physical),
      wavelength,
      opts,
      reader,
    );
  } catch (err) {
    reader.close();
    throw err;
  }
}
