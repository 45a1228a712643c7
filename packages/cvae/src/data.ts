// Out-of-core spectrum examples for nn-core's trainLoop: Parquet row groups in a memory-capped cache, block-shuffled epochs.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { assignSplit, openDataset, type DatasetManifest } from '@stellar-emu/grid-io';
import { deriveSeed, Rng, tf, type Batch, type BatchSource } from '@stellar-emu/nn-core';
import { decodeFluxRowGroup, fluxFile, type FluxFile } from './parquet-flux.js';

/** Min-max scaling of one label to [-1, 1] with the dataset's stored statistics (physical units). */
export interface LabelScale {
  column: string;
  min: number;
  max: number;
}

/** Physical label value → [-1, 1] (a constant label maps to 0). */
export function scaleLabel(v: number, s: LabelScale): number {
  const span = s.max - s.min;
  return span > 0 ? (2 * (v - s.min)) / span - 1 : 0;
}

/** Label scales of `columns` from a spectrum manifest's normalization statistics. */
export function labelScalesFromManifest(manifest: DatasetManifest, columns: string[]): LabelScale[] {
  return columns.map((column) => {
    const st = manifest.normalization[column];
    if (!st) throw new Error(`dataset manifest has no normalization statistics for label "${column}"`);
    if (st.transform !== 'linear') throw new Error(`label "${column}" has a ${st.transform} normalization; the CVAE expects linear`);
    return { column, min: st.min, max: st.max };
  });
}

/** Options of {@link openSpectrumSource}. */
export interface SpectrumSourceOptions {
  /** Dataset directory (grid-io spectrum dataset: Parquet + _manifest.json). */
  dir: string;
  /** Keep rows of this split; null: all rows. Rows without a split get one from their id (90/10, `splitSeed`). */
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
  file: FluxFile;
  indexInFile: number;
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
 * Batches: `flux` [b, N] continuum-normalized (NaN → 0), `labels` [b, L] scaled to [-1, 1],
 * `mask` [b, N] when the dataset has NaN pixels, `eps` [b, d] when `noise` is set.
 */
export class SpectrumSource implements BatchSource {
  readonly numExamples: number;
  readonly stats: SpectrumSourceStats = { cachedBytes: 0, peakCachedBytes: 0, decodes: 0, decodeSeconds: 0, fastDecodes: 0, decodedExamples: 0, examplesServed: 0, batchesServed: 0 };
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
    private readonly closeFiles: () => void,
  ) {
    this.numExamples = groups.reduce((n, g) => n + g.rows.length, 0);
    this.exampleGroup = new Int32Array(this.numExamples);
    groups.forEach((g, gi) => this.exampleGroup.fill(gi, g.firstExample, g.firstExample + g.rows.length));
    const maxGroupBytes = Math.max(0, ...groups.map((g) => g.rows.length * nPixels * 4));
    if (maxGroupBytes > opts.cacheBytes) {
      throw new Error(`cache of ${opts.cacheBytes} bytes cannot hold one row group (${maxGroupBytes} bytes of flux); raise the memory cap or write smaller row groups`);
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
    const { flux: all, path } = decodeFluxRowGroup(g.file, g.indexInFile, 'flux', this.nPixels);
    let flux: Float32Array;
    if (g.rows.length * this.nPixels === all.length) flux = all;
    else {
      flux = new Float32Array(g.rows.length * this.nPixels);
      g.rows.forEach((r, i) => flux.set(all.subarray(r * this.nPixels, (r + 1) * this.nPixels), i * this.nPixels));
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
      if (!(e >= 0 && e < this.numExamples)) throw new RangeError(`example ${e} out of range [0, ${this.numExamples})`);
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
      for (let i = 0; i < flux.length; i++) {
        if (flux[i] !== flux[i]) flux[i] = 0;
        else mask[i] = 1;
      }
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
    this.closeFiles();
  }
}

/**
 * Open a spectrum dataset as a {@link SpectrumSource}: validates the manifest (kind 'spectra',
 * one pixel count, the label columns present), reads labels, split and wavelength columns of
 * every row group, and leaves flux on disk.
 */
export async function openSpectrumSource(opts: SpectrumSourceOptions): Promise<SpectrumSource> {
  const ds = await openDataset(opts.dir);
  const m = ds.manifest;
  if (m.kind !== 'spectra') throw new Error(`${opts.dir}: is a '${m.kind}' dataset, the CVAE needs spectra`);
  if (!m.pixels || m.pixels.min !== m.pixels.max || m.pixels.min < 1) {
    throw new Error(`${opts.dir}: spectra must all have the same number of pixels (manifest pixels: ${JSON.stringify(m.pixels)})`);
  }
  const nPixels = m.pixels.min;
  const labelCols = opts.labelScales.map((s) => s.column);
  for (const c of labelCols) if (!m.labels.includes(c)) throw new Error(`${opts.dir}: dataset has no label "${c}" (labels: ${m.labels.join(', ')})`);
  const fds: number[] = [];
  const files = new Map<string, FluxFile>();
  try {
    for (const f of m.files) {
      const path = join(opts.dir, f.path);
      const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
      const fd = openSync(path, 'r');
      fds.push(fd);
      files.set(f.path, fluxFile(fd, path, metadata));
    }
    const groups: Group[] = [];
    const labels: number[] = [];
    const physical: number[] = [];
    let wavelength: { startAngstrom: number; stepAngstrom: number } | null = null;
    let first = 0;
    for (const rg of ds.rowGroups) {
      const rows = await ds.readRowGroup(rg.index, [...labelCols, 'split', 'id', 'wavelength_start_angstrom', 'wavelength_step_angstrom']);
      const keep: number[] = [];
      rows.forEach((r, i) => {
        const split = (r.split as string | null) ?? assignSplit(r.id as string, '90/10', opts.splitSeed ?? 0);
        if (opts.split !== null && split !== opts.split) return;
        const ws = r.wavelength_start_angstrom as number;
        const st = r.wavelength_step_angstrom as number;
        if (!wavelength) wavelength = { startAngstrom: ws, stepAngstrom: st };
        else if (Math.abs(ws - wavelength.startAngstrom) > 1e-9 * Math.abs(ws) || Math.abs(st - wavelength.stepAngstrom) > 1e-9 * Math.abs(st)) {
          throw new Error(`${opts.dir}: row ${r.id} is on a different wavelength grid (start ${ws} Å, step ${st} Å vs ${wavelength.startAngstrom}, ${wavelength.stepAngstrom}); the CVAE needs one grid`);
        }
        keep.push(i);
        opts.labelScales.forEach((s) => {
          const v = r[s.column] as number;
          physical.push(v);
          labels.push(scaleLabel(v, s));
        });
      });
      if (keep.length === 0) continue;
      groups.push({ file: files.get(rg.file)!, indexInFile: rg.indexInFile, rows: Int32Array.from(keep), firstExample: first });
      first += keep.length;
    }
    if (first === 0) throw new Error(`${opts.dir}: no rows in split ${JSON.stringify(opts.split)}`);
    const close = () => {
      for (const fd of fds.splice(0)) closeSync(fd);
    };
    return new SpectrumSource(m, nPixels, groups, Float32Array.from(labels), Float64Array.from(physical), wavelength!, opts, close);
  } catch (err) {
    for (const fd of fds) closeSync(fd);
    throw err;
  }
}
