// Splitting a stream of spectra 70/15/15, reading grid-io spectrum datasets, and streaming generated spectra.
import { deriveSeed, Rng } from '@stellar-emu/nn-core';
import { openDataset, type OpenDataset } from '@stellar-emu/grid-io';
import type { LabelRange } from './labels.js';
import type { SpectrumBlock, SpectrumSource } from './sources.js';

/** The three sets of the recovery network. */
export interface SplitSources {
  train: SpectrumSource;
  validation: SpectrumSource;
  test: SpectrumSource;
}

/** Fractions of the seeded split: 70/15/15. */
export const RECOVERY_SPLIT = { train: 0.7, validation: 0.15, test: 0.15 } as const;

/**
 * Row i's set for a seeded 70/15/15 split of n rows: a seeded permutation, the first 70 % train,
 * the next 15 % validation, the rest test (0 = train, 1 = validation, 2 = test).
 */
export function seededSplit(n: number, seed: number): Uint8Array {
  const perm = new Rng(deriveSeed(seed, 0x7015)).permutation(n);
  const nTrain = Math.round(n * RECOVERY_SPLIT.train);
  const nVal = Math.round(n * RECOVERY_SPLIT.validation);
  const out = new Uint8Array(n);
  for (let r = 0; r < n; r++) out[perm[r]] = r < nTrain ? 0 : r < nTrain + nVal ? 1 : 2;
  return out;
}

/** The rows of `source` whose global index i has `assignment[i] === which`, re-blocked. */
export function filterSource(source: SpectrumSource, assignment: Uint8Array, which: number): SpectrumSource {
  if (assignment.length !== source.numSpectra)
    throw new Error(`filterSource: ${assignment.length} assignments for ${source.numSpectra} spectra`);
  let count = 0;
  for (const a of assignment) if (a === which) count++;
  const D = source.numPixels;
  const nl = source.labelNames.length;
  return {
    numPixels: D,
    numSpectra: count,
    labelNames: source.labelNames,
    async *blocks(maxRows: number) {
      const step = Math.max(1, Math.floor(maxRows));
      let flux = new Float32Array(step * D);
      let labels = new Float64Array(step * nl);
      let n = 0;
      let index = 0;
      for await (const b of source.blocks(step)) {
        for (let r = 0; r < b.rows; r++, index++) {
          if (assignment[index] !== which) continue;
          flux.set(b.flux.subarray(r * D, (r + 1) * D), n * D);
          if (nl && b.labels) labels.set(b.labels.subarray(r * nl, (r + 1) * nl), n * nl);
          n++;
          if (n === step) {
            yield { rows: n, flux, ...(nl ? { labels } : {}) };
            flux = new Float32Array(step * D);
            labels = new Float64Array(step * nl);
            n = 0;
          }
        }
      }
      if (n > 0)
        yield {
          rows: n,
          flux: flux.subarray(0, n * D),
          ...(nl ? { labels: labels.subarray(0, n * nl) } : {}),
        };
    },
  };
}

/** Split any source 70/15/15 by a seeded permutation of its rows. */
export function splitSource(source: SpectrumSource, seed: number): SplitSources {
  const a = seededSplit(source.numSpectra, seed);
  return {
    train: filterSource(source, a, 0),
    validation: filterSource(source, a, 1),
    test: filterSource(source, a, 2),
  };
}

/** Counters of a dataset source (shared by its passes). */
export interface DatasetSourceStats {
  /** NaN flux pixels replaced by the continuum value 1 (counted over every pass). */
  nanFilled: number;
}

/**
 * All spectra of a grid-io spectrum dataset as a source, streamed one row group at a time.
 * Labels are read in the order `labelNames` (record keys such as teffK, mapped to columns by
 * the manifest). NaN flux pixels (missing data) become 1, the continuum, and are counted in
 * `stats.nanFilled`.
 */
export async function datasetSource(
  dirOrDataset: string | OpenDataset,
  labelNames: readonly string[],
): Promise<SpectrumSource & { stats: DatasetSourceStats; dataset: OpenDataset }> {
  const ds = typeof dirOrDataset === 'string' ? await openDataset(dirOrDataset) : dirOrDataset;
  const m = ds.manifest;
  if (m.kind !== 'spectra') throw new Error(`${ds.dir}: is a '${m.kind}' dataset, not spectra`);
  const keys = m.labelKeys ?? {};
  const cols = labelNames.map((n) => {
    const c = keys[n];
    if (!c) throw new Error(`${ds.dir}: no label '${n}' (labels: ${Object.keys(keys).join(', ')})`);
    return c;
  });
  if (!m.pixels || m.pixels.min !== m.pixels.max)
    throw new Error(
      `${ds.dir}: spectra must all have the same number of pixels (manifest pixels: ${JSON.stringify(m.pixels)})`,
    );
  const D = m.pixels.max;
  const nl = labelNames.length;
  const stats: DatasetSourceStats = { nanFilled: 0 };
  return {
    dataset: ds,
    stats,
    numPixels: D,
    numSpectra: ds.numRows,
    labelNames,
    async *blocks(maxRows: number) {
      const step = Math.max(1, Math.floor(maxRows));
      for await (const rows of ds.iterateRows({ columns: ['flux', ...cols], batchSize: step })) {
        const block: SpectrumBlock = {
          rows: rows.length,
          flux: new Float32Array(rows.length * D),
          labels: new Float64Array(rows.length * nl),
        };
        rows.forEach((row, i) => {
          const f = row.flux as ArrayLike<number>;
          if (f.length !== D) throw new Error(`${ds.dir}: a spectrum has ${f.length} pixels, expected ${D}`);
          for (let j = 0; j < D; j++) {
            const v = f[j];
            if (Number.isNaN(v)) {
              stats.nanFilled++;
              block.flux[i * D + j] = 1;
            } else block.flux[i * D + j] = v;
          }
          cols.forEach((c, j) => (block.labels![i * nl + j] = row[c] as number));
        });
        yield block;
      }
    },
  };
}

/**
 * The 70/15/15 sets of a dataset: the dataset's own split column when it was written with the
 * '70/15/15' scheme (train/val/test), otherwise a seeded permutation of its rows.
 */
export async function datasetSplits(
  dir: string,
  labelNames: readonly string[],
  seed: number,
): Promise<SplitSources & { scheme: 'dataset' | 'seeded'; stats: DatasetSourceStats }> {
  const src = await datasetSource(dir, labelNames);
  const ds = src.dataset;
  if (ds.manifest.split?.scheme === '70/15/15') {
    const assignment = new Uint8Array(ds.numRows);
    let i = 0;
    for await (const rows of ds.iterateRows({ columns: ['split'] })) {
      for (const r of rows)
        assignment[i++] = r.split === 'train' ? 0 : r.split === 'val' ? 1 : r.split === 'test' ? 2 : 3;
    }
    return {
      train: filterSource(src, assignment, 0),
      validation: filterSource(src, assignment, 1),
      test: filterSource(src, assignment, 2),
      scheme: 'dataset',
      stats: src.stats,
    };
  }
  return { ...splitSource(src, seed), scheme: 'seeded', stats: src.stats };
}

/**
 * An emulator seen from param-nn: spectra for the given labels (physical units, keys as in
 * `labelNames`), row-major [labels.length, numPixels] or one array per spectrum, on the same
 * wavelength grid as the training data. The app wires the CVAE's batched generator here.
 */
export type SpectrumGenerator = (
  labels: Record<string, number>[],
  opts: { seed: number },
) => Promise<Float32Array | ArrayLike<number>[]> | Float32Array | ArrayLike<number>[];

/**
 * `count` generated spectra at labels drawn uniformly (and independently per label) in `ranges`,
 * or at the given label rows `at` (row-major [count, labels], physical units), produced by
 * `generator` in batches of at most `maxRows` (the seed of each batch is derived from `seed` and
 * the batch's first index). Labels depend only on (seed, index).
 */
export function generatedSource(
  generator: SpectrumGenerator,
  opts: {
    count: number;
    numPixels: number;
    labelNames: readonly string[];
    ranges: Record<string, LabelRange>;
    seed: number;
    at?: Float64Array;
  },
): SpectrumSource {
  const { count, numPixels: D, labelNames, ranges, seed, at } = opts;
  const nl = labelNames.length;
  for (const n of labelNames) if (!ranges[n]) throw new Error(`generatedSource: no range for label ${n}`);
  if (at && at.length !== count * nl)
    throw new Error(`generatedSource: ${at.length} label values for ${count} spectra of ${nl} labels`);
  return {
    numPixels: D,
    numSpectra: count,
    labelNames,
    async *blocks(maxRows: number) {
      const step = Math.max(1, Math.floor(maxRows));
      for (let start = 0; start < count; start += step) {
        const rows = Math.min(step, count - start);
        const labels = new Float64Array(rows * nl);
        const objs: Record<string, number>[] = [];
        for (let i = 0; i < rows; i++) {
          const rng = new Rng(deriveSeed(seed, 0x6e4, start + i));
          const o: Record<string, number> = {};
          labelNames.forEach((n, j) => {
            const { min, max } = ranges[n];
            o[n] = at ? at[(start + i) * nl + j] : min + (max - min) * rng.uniform();
            labels[i * nl + j] = o[n];
          });
          objs.push(o);
        }
        const out = await generator(objs, { seed: deriveSeed(seed, 0x6e5, start) });
        const flux = new Float32Array(rows * D);
        if (out instanceof Float32Array) {
          if (out.length !== rows * D)
            throw new Error(`generator returned ${out.length} values for ${rows} spectra of ${D} pixels`);
          flux.set(out);
        } else {
          if (out.length !== rows)
            throw new Error(`generator returned ${out.length} spectra for ${rows} label sets`);
          out.forEach((s, i) => {
            if (s.length !== D)
              throw new Error(`generator returned a spectrum of ${s.length} pixels, expected ${D}`);
            for (let j = 0; j < D; j++) flux[i * D + j] = s[j];
          });
        }
        yield { rows, flux, labels };
      }
    },
  };
}
