// The one reader of spectrum datasets for models: labels, ids, splits and wavelength grid of every row read once; flux decoded one row group at a time; missing pixels read as the continuum.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, type FileMetaData } from 'hyparquet';
import { decodeFluxRowGroup, fluxFile, type FluxDecodePath, type FluxFile } from './list-column.js';
import type { DatasetManifest } from './manifest.js';
import { openDataset, type OpenDataset } from './read.js';
import { canonicalSplitName } from './splits.js';

/**
 * The value a missing (NaN) flux pixel is given when flux is handed to a model: 1, the continuum.
 *
 * Flux in spectrum datasets is continuum-normalized, so 1 is "no line here": a missing pixel
 * filled with 1 adds nothing a model could mistake for a feature. Filling with 0 instead (what
 * the CVAE's batches did before) writes a fake saturated line into every gap: the CVAE's encoder
 * sees it (its reconstruction loss masks the pixel, its input does not), and for the PCA and the
 * recovery network of param-nn, which take the flux as it is, gaps would dominate the variance.
 * Readers keep NaN in raw reads ({@link SpectrumDatasetReader.readRowGroupFlux}) so that metrics
 * can skip missing pixels; {@link fillMissingFlux} is the one place NaN becomes this value.
 */
export const MISSING_FLUX_VALUE = 1;

/**
 * Replace NaN pixels of continuum-normalized flux by {@link MISSING_FLUX_VALUE}, in place; returns
 * how many were replaced. With `mask` (same length), also sets mask[i] = 1 where the pixel was
 * measured and 0 where it was filled (for losses that skip missing pixels).
 */
export function fillMissingFlux(flux: Float32Array, mask?: Float32Array): number {
  if (mask && mask.length !== flux.length)
    throw new Error(`fillMissingFlux: mask of ${mask.length} values for ${flux.length} pixels`);
  let filled = 0;
  for (let i = 0; i < flux.length; i++) {
    if (flux[i] !== flux[i]) {
      flux[i] = MISSING_FLUX_VALUE;
      filled++;
      if (mask) mask[i] = 0;
    } else if (mask) mask[i] = 1;
  }
  return filled;
}

/** Labels to read: record keys (`teffK`, mapped to columns by the manifest's `labelKeys`) or column names (`teff_k`). */
export type SpectrumLabelSelection = { keys: readonly string[] } | { columns: readonly string[] };

/** A row group of a spectrum dataset. */
export interface SpectrumRowGroup {
  /** Index over the whole dataset (as in `OpenDataset.rowGroups`). */
  index: number;
  file: string;
  indexInFile: number;
  /** Dataset row index of its first row. */
  firstRow: number;
  numRows: number;
}

/** A block of spectra in dataset order: flux row-major [rows, numPixels] with missing pixels filled, labels [rows, labels]. */
export interface SpectrumRowBlock {
  rows: number;
  flux: Float32Array;
  labels: Float64Array;
}

/** Counters of a reader (over every pass of {@link SpectrumDatasetReader.blocks}). */
export interface SpectrumReadStats {
  /** NaN flux pixels replaced by {@link MISSING_FLUX_VALUE}. */
  nanFilled: number;
}

/**
 * An open spectrum dataset: the labels, id, split and wavelength grid of every row (a few numbers
 * per row, read at open), and its flux on disk, read one row group at a time.
 */
export interface SpectrumDatasetReader {
  readonly dir: string;
  readonly dataset: OpenDataset;
  readonly manifest: DatasetManifest;
  /** Pixels per spectrum (the same for every row). */
  readonly numPixels: number;
  readonly numRows: number;
  /** Label columns read, in the requested order, and the record key of each. */
  readonly labelColumns: readonly string[];
  readonly labelKeys: readonly string[];
  /** Physical labels of every row, row-major [numRows, labelColumns.length], dataset order. */
  readonly labels: Float64Array;
  readonly ids: readonly string[];
  /** Each row's split as stored, old spellings read as the one name (`canonicalSplitName`); null when unassigned. */
  readonly splits: readonly (string | null)[];
  readonly rowGroups: readonly SpectrumRowGroup[];
  readonly stats: SpectrumReadStats;
  /**
   * The common wavelength grid of `rows` (dataset row indices; default every row): throws when
   * one of them is on another grid (relative tolerance 1e-9).
   */
  wavelengthGrid(rows?: ArrayLike<number>): { startAngstrom: number; stepAngstrom: number };
  /**
   * Raw flux of row group `group` (all its rows, NaN kept), decoded synchronously (fast path when
   * the encoding allows); the file stays open for further reads until {@link close}.
   */
  readRowGroupFlux(group: number): { flux: Float32Array; path: FluxDecodePath };
  /**
   * One pass over `rows` (ascending dataset row indices; default every row) in blocks of at most
   * `maxRows` spectra, missing pixels filled by {@link fillMissingFlux} and counted in `stats`.
   * Files are opened for the pass and closed when it ends.
   */
  blocks(maxRows: number, rows?: ArrayLike<number>): AsyncGenerator<SpectrumRowBlock>;
  /** Close the files opened by {@link readRowGroupFlux} (a later read opens them again). */
  close(): void;
}

/**
 * Open a grid-io spectrum dataset for a model. Checks that it is a spectrum dataset whose spectra
 * all have the same number of pixels and that every requested label exists, then reads the label,
 * id, split and wavelength columns of every row group. Flux stays on disk; nothing needs closing
 * unless {@link SpectrumDatasetReader.readRowGroupFlux} was used.
 */
export async function openSpectrumDataset(
  dirOrDataset: string | OpenDataset,
  labels: SpectrumLabelSelection,
): Promise<SpectrumDatasetReader> {
  const ds = typeof dirOrDataset === 'string' ? await openDataset(dirOrDataset) : dirOrDataset;
  const dir = ds.dir;
  const m = ds.manifest;
  if (m.kind !== 'spectra') throw new Error(`${dir}: is a '${m.kind}' dataset, not spectra`);
  if (!m.pixels || m.pixels.min !== m.pixels.max || m.pixels.min < 1)
    throw new Error(
      `${dir}: spectra must all have the same number of pixels (manifest pixels: ${JSON.stringify(m.pixels)})`,
    );
  const numPixels = m.pixels.min;
  const keyToColumn = m.labelKeys ?? {};
  const columnToKey = Object.fromEntries(Object.entries(keyToColumn).map(([k, c]) => [c, k]));
  let labelColumns: string[];
  let labelKeys: string[];
  if ('keys' in labels) {
    labelKeys = [...labels.keys];
    labelColumns = labelKeys.map((k) => {
      const c = keyToColumn[k];
      if (!c) throw new Error(`${dir}: no label '${k}' (labels: ${Object.keys(keyToColumn).join(', ')})`);
      return c;
    });
  } else {
    labelColumns = [...labels.columns];
    for (const c of labelColumns)
      if (!m.labels.includes(c))
        throw new Error(`${dir}: dataset has no label "${c}" (labels: ${m.labels.join(', ')})`);
    labelKeys = labelColumns.map((c) => columnToKey[c] ?? c);
  }
  const nl = labelColumns.length;
  const numRows = ds.numRows;
  const labelValues = new Float64Array(numRows * nl);
  const ids = new Array<string>(numRows);
  const splits = new Array<string | null>(numRows);
  const wlStart = new Float64Array(numRows);
  const wlStep = new Float64Array(numRows);
  const rowGroups: SpectrumRowGroup[] = [];
  let row = 0;
  for (const rg of ds.rowGroups) {
    const rows = await ds.readRowGroup(rg.index, [
      ...labelColumns,
      'split',
      'id',
      'wavelength_start_angstrom',
      'wavelength_step_angstrom',
    ]);
    rowGroups.push({
      index: rg.index,
      file: rg.file,
      indexInFile: rg.indexInFile,
      firstRow: row,
      numRows: rows.length,
    });
    for (const r of rows) {
      ids[row] = r.id as string;
      splits[row] = canonicalSplitName((r.split as string | null | undefined) ?? null);
      wlStart[row] = r.wavelength_start_angstrom as number;
      wlStep[row] = r.wavelength_step_angstrom as number;
      for (let j = 0; j < nl; j++) labelValues[row * nl + j] = r[labelColumns[j]] as number;
      row++;
    }
  }
  if (row !== numRows) throw new Error(`${dir}: read ${row} rows, the manifest says ${numRows}`);

  const groupOfRow = (i: number): SpectrumRowGroup => {
    let lo = 0;
    let hi = rowGroups.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (rowGroups[mid].firstRow <= i) lo = mid;
      else hi = mid - 1;
    }
    return rowGroups[lo];
  };
  // Footers are read once here; file descriptors are opened on first use (synchronously).
  const footers = new Map<string, FileMetaData>();
  for (const g of rowGroups) {
    if (footers.has(g.file)) continue;
    const path = join(dir, g.file);
    footers.set(g.file, await parquetMetadataAsync(await asyncBufferFromFile(path)));
  }
  const decode = (files: Map<string, FluxFile>, group: number) => {
    const g = rowGroups[group];
    if (!g) throw new RangeError(`${dir}: no row group ${group} (dataset has ${rowGroups.length})`);
    let f = files.get(g.file);
    if (!f) {
      const path = join(dir, g.file);
      f = fluxFile(openSync(path, 'r'), path, footers.get(g.file)!);
      files.set(g.file, f);
    }
    return decodeFluxRowGroup(f, g.indexInFile, 'flux', numPixels);
  };
  const closeFiles = (files: Map<string, FluxFile>) => {
    for (const f of files.values()) closeSync(f.fd);
    files.clear();
  };
  // Files of random-access reads, until close().
  const shared = new Map<string, FluxFile>();
  const stats: SpectrumReadStats = { nanFilled: 0 };

  return {
    dir,
    dataset: ds,
    manifest: m,
    numPixels,
    numRows,
    labelColumns,
    labelKeys,
    labels: labelValues,
    ids,
    splits,
    rowGroups,
    stats,
    wavelengthGrid(rows?: ArrayLike<number>) {
      const n = rows ? rows.length : numRows;
      if (n === 0) throw new Error(`${dir}: no rows, so no wavelength grid`);
      const at = (k: number) => (rows ? rows[k] : k);
      const grid = { startAngstrom: wlStart[at(0)], stepAngstrom: wlStep[at(0)] };
      for (let k = 1; k < n; k++) {
        const i = at(k);
        const ws = wlStart[i];
        const st = wlStep[i];
        if (
          Math.abs(ws - grid.startAngstrom) > 1e-9 * Math.abs(ws) ||
          Math.abs(st - grid.stepAngstrom) > 1e-9 * Math.abs(st)
        )
          throw new Error(
            `${dir}: row ${ids[i]} is on a different wavelength grid (start ${ws} Å, step ${st} Å vs ${grid.startAngstrom}, ${grid.stepAngstrom}); one grid is needed`,
          );
      }
      return grid;
    },
    readRowGroupFlux(group: number) {
      return decode(shared, group);
    },
    async *blocks(maxRows: number, rows?: ArrayLike<number>) {
      const step = Math.max(1, Math.floor(maxRows));
      const D = numPixels;
      const total = rows ? rows.length : numRows;
      const at = (k: number) => (rows ? rows[k] : k);
      for (let k = 1; k < total; k++)
        if (!(at(k) > at(k - 1))) throw new Error('blocks: rows must be ascending dataset row indices');
      if (total > 0 && !(at(0) >= 0 && at(total - 1) < numRows))
        throw new RangeError(`blocks: rows outside [0, ${numRows})`);
      const files = new Map<string, FluxFile>();
      try {
        let k = 0;
        let flux = new Float32Array(Math.min(step, total) * D);
        let lab = new Float64Array(Math.min(step, total) * nl);
        let n = 0;
        while (k < total) {
          const g = groupOfRow(at(k));
          const all = decode(files, g.index).flux;
          for (; k < total && at(k) < g.firstRow + g.numRows; k++) {
            const i = at(k);
            const local = i - g.firstRow;
            flux.set(all.subarray(local * D, (local + 1) * D), n * D);
            lab.set(labelValues.subarray(i * nl, (i + 1) * nl), n * nl);
            n++;
            if (n === step) {
              stats.nanFilled += fillMissingFlux(flux);
              yield { rows: n, flux, labels: lab };
              const left = Math.min(step, total - k - 1);
              flux = new Float32Array(left * D);
              lab = new Float64Array(left * nl);
              n = 0;
            }
          }
        }
        if (n > 0) {
          stats.nanFilled += fillMissingFlux(flux);
          yield { rows: n, flux, labels: lab };
        }
      } finally {
        closeFiles(files);
      }
    },
    close() {
      closeFiles(shared);
    },
  };
}
