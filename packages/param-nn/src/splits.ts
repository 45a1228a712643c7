// Splitting a stream of spectra 70/15/15 (grid-io's split functions), grid-io spectrum datasets as sources, and streaming generated spectra.
import {
  openSpectrumDataset,
  seededSplit,
  TEST_SPLIT,
  TRAIN_SPLIT,
  VAL_SPLIT,
  type OpenDataset,
  type SpectrumDatasetReader,
  type SpectrumReadStats,
  type SplitName,
} from '@stellar-emu/grid-io';
import { deriveSeed, Rng } from '@stellar-emu/numerics';
import type { LabelRange } from './labels.js';
import type { SpectrumSource } from './sources.js';

/** The three sets of the recovery network, by split name (grid-io `SplitName`: train, val, test). */
export type SplitSources = Record<SplitName, SpectrumSource>;

/**
 * The rows of `source` whose split is `which` (`assignment`: one split name per row, in row order,
 * e.g. from grid-io's `seededSplit`), re-blocked.
 */
export function filterSource(
  source: SpectrumSource,
  assignment: readonly (string | null)[],
  which: SplitName,
): SpectrumSource {
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

/** Split any source 70/15/15 with grid-io's seeded permutation split (exact fractions; `seededSplit`). */
export function splitSource(source: SpectrumSource, seed: number): SplitSources {
  const a = seededSplit(source.numSpectra, '70/15/15', seed);
  return {
    [TRAIN_SPLIT]: filterSource(source, a, TRAIN_SPLIT),
    [VAL_SPLIT]: filterSource(source, a, VAL_SPLIT),
    [TEST_SPLIT]: filterSource(source, a, TEST_SPLIT),
  };
}

/** The rows `rows` (ascending; default all) of an open spectrum dataset as a source. */
function readerSource(
  reader: SpectrumDatasetReader,
  labelNames: readonly string[],
  rows?: Int32Array,
): SpectrumSource {
  return {
    numPixels: reader.numPixels,
    numSpectra: rows ? rows.length : reader.numRows,
    labelNames,
    blocks: (maxRows: number) => reader.blocks(maxRows, rows),
  };
}

/**
 * All spectra of a grid-io spectrum dataset as a source (grid-io's `openSpectrumDataset`), streamed
 * one row group at a time. Labels are read in the order `labelNames` (record keys such as teffK,
 * mapped to columns by the manifest); every spectrum must be on one wavelength grid. NaN flux
 * pixels (missing data) become 1, the continuum (grid-io `MISSING_FLUX_VALUE`), and are counted
 * in `stats.nanFilled`.
 */
export async function datasetSource(
  dirOrDataset: string | OpenDataset,
  labelNames: readonly string[],
): Promise<
  SpectrumSource & { stats: SpectrumReadStats; dataset: OpenDataset; reader: SpectrumDatasetReader }
> {
  const reader = await openSpectrumDataset(dirOrDataset, { keys: labelNames });
  if (reader.numRows > 0) reader.wavelengthGrid();
  return { ...readerSource(reader, labelNames), stats: reader.stats, dataset: reader.dataset, reader };
}

/**
 * The 70/15/15 sets of a dataset: the dataset's own split column when it was written with the
 * '70/15/15' scheme (train/val/test), otherwise grid-io's seeded permutation split of its rows.
 * NaN pixels are filled as by {@link datasetSource} and counted in `stats.nanFilled` (over every
 * pass of the three sets).
 */
export async function datasetSplits(
  dir: string,
  labelNames: readonly string[],
  seed: number,
): Promise<SplitSources & { scheme: 'dataset' | 'seeded'; stats: SpectrumReadStats }> {
  const { reader } = await datasetSource(dir, labelNames);
  const fromDataset = reader.manifest.split?.scheme === '70/15/15';
  const assignment = fromDataset ? reader.splits : seededSplit(reader.numRows, '70/15/15', seed);
  const rowsOf = (which: SplitName) => {
    const rows: number[] = [];
    assignment.forEach((s, i) => {
      if (s === which) rows.push(i);
    });
    return readerSource(reader, labelNames, Int32Array.from(rows));
  };
  return {
    [TRAIN_SPLIT]: rowsOf(TRAIN_SPLIT),
    [VAL_SPLIT]: rowsOf(VAL_SPLIT),
    [TEST_SPLIT]: rowsOf(TEST_SPLIT),
    scheme: fromDataset ? 'dataset' : 'seeded',
    stats: reader.stats,
  };
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
