// Dataset reader: manifest plus row groups streamed from Parquet with hyparquet, with column projection and split filtering.
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import type { AtmosphereModel, SpectrumRecord } from '../types.js';
import { readManifest, type DatasetManifest } from './manifest.js';

/** One row as read from a dataset: column name -> value (lists as number arrays). */
export type DatasetRow = Record<string, unknown>;

/** Where one row group lives. */
export interface RowGroupInfo {
  /** Index over the whole dataset. */
  index: number;
  file: string;
  /** Row group index within its file. */
  indexInFile: number;
  /** First row of the group within its file. */
  rowStart: number;
  numRows: number;
}

/** Options of {@link OpenDataset.iterateRows}. */
export interface IterateRowsOptions {
  /** Columns to read (default: all). */
  columns?: string[];
  /** Keep only rows of this split (or these splits). */
  split?: string | string[];
  /** Rows per yielded batch (default: one row group per batch). */
  batchSize?: number;
}

/** An open dataset: its manifest, row-group layout and streaming row access. */
export interface OpenDataset {
  dir: string;
  manifest: DatasetManifest;
  numRows: number;
  rowGroups: RowGroupInfo[];
  /** Read one row group (optionally only some columns). */
  readRowGroup(index: number, columns?: string[]): Promise<DatasetRow[]>;
  /** Stream batches of rows, one row group in memory at a time. */
  iterateRows(opts?: IterateRowsOptions): AsyncGenerator<DatasetRow[]>;
}

interface OpenFile {
  path: string;
  buffer: AsyncBuffer;
  metadata: FileMetaData;
}

/**
 * Open a dataset directory: validates manifest.json (zod) and reads each Parquet footer.
 * Row data are only read by {@link OpenDataset.readRowGroup} / {@link OpenDataset.iterateRows}.
 */
export async function openDataset(dir: string): Promise<OpenDataset> {
  const manifest = await readManifest(dir);
  const files: OpenFile[] = [];
  const rowGroups: RowGroupInfo[] = [];
  for (const f of manifest.files) {
    const path = join(dir, f.path);
    let buffer: AsyncBuffer;
    let metadata: FileMetaData;
    try {
      buffer = await asyncBufferFromFile(path);
      metadata = await parquetMetadataAsync(buffer);
    } catch (err) {
      throw new Error(`${path}: cannot open Parquet file (${(err as Error).message})`);
    }
    if (Number(metadata.num_rows) !== f.rowCount) throw new Error(`${path}: has ${metadata.num_rows} rows but the manifest says ${f.rowCount}`);
    let start = 0;
    metadata.row_groups.forEach((rg, i) => {
      const n = Number(rg.num_rows);
      rowGroups.push({ index: rowGroups.length, file: f.path, indexInFile: i, rowStart: start, numRows: n });
      start += n;
    });
    files.push({ path: f.path, buffer, metadata });
  }
  const known = new Set(manifest.columns.map((c) => c.name));
  const checkColumns = (cols?: string[]) => {
    for (const c of cols ?? []) if (!known.has(c)) throw new Error(`${dir}: no column "${c}" (columns: ${[...known].join(', ')})`);
  };

  const readRowGroup = async (index: number, columns?: string[]): Promise<DatasetRow[]> => {
    const g = rowGroups[index];
    if (!g) throw new RangeError(`${dir}: no row group ${index} (dataset has ${rowGroups.length})`);
    checkColumns(columns);
    const f = files.find((x) => x.path === g.file)!;
    return (await parquetReadObjects({ file: f.buffer, metadata: f.metadata, rowStart: g.rowStart, rowEnd: g.rowStart + g.numRows, columns })) as DatasetRow[];
  };

  async function* iterateRows(opts: IterateRowsOptions = {}): AsyncGenerator<DatasetRow[]> {
    const splits = opts.split === undefined ? null : new Set(Array.isArray(opts.split) ? opts.split : [opts.split]);
    checkColumns(opts.columns);
    const cols = opts.columns && splits && !opts.columns.includes('split') ? [...opts.columns, 'split'] : opts.columns;
    const dropSplit = cols !== opts.columns;
    let pending: DatasetRow[] = [];
    for (const g of rowGroups) {
      let rows = await readRowGroup(g.index, cols);
      if (splits) rows = rows.filter((r) => splits.has(r.split as string));
      if (dropSplit) for (const r of rows) delete r.split;
      if (!opts.batchSize) {
        if (rows.length) yield rows;
        continue;
      }
      pending = pending.concat(rows);
      while (pending.length >= opts.batchSize) {
        yield pending.slice(0, opts.batchSize);
        pending = pending.slice(opts.batchSize);
      }
    }
    if (pending.length) yield pending;
  }

  return { dir, manifest, numRows: manifest.rowCount, rowGroups, readRowGroup, iterateRows };
}

/** Open a dataset and stream its row batches: `{ manifest, batches }`. */
export async function readDataset(dir: string, opts: IterateRowsOptions = {}): Promise<{ manifest: DatasetManifest; batches: AsyncGenerator<DatasetRow[]> }> {
  const ds = await openDataset(dir);
  return { manifest: ds.manifest, batches: ds.iterateRows(opts) };
}

const numArray = (v: unknown): number[] => (Array.isArray(v) ? (v as number[]) : Array.from(v as ArrayLike<number>));

/** An atmosphere-dataset row (all columns read) back as an AtmosphereModel. */
export function rowToAtmosphereModel(row: DatasetRow): AtmosphereModel {
  return {
    id: row.id as string,
    source: row.source as string,
    line: row.line as number,
    teffK: row.teff_k as number,
    logg: row.logg as number,
    mh: row.mh as number,
    feh: row.feh as number,
    afe: row.afe as number,
    vturbKms: (row.vturb_kms as number | null | undefined) ?? null,
    nLayers: row.n_layers as number,
    rhox: numArray(row.rhox),
    temperature: numArray(row.temperature),
    pressure: numArray(row.pressure),
    xne: numArray(row.xne),
    abross: numArray(row.abross),
    accrad: numArray(row.accrad),
    tauRosseland: numArray(row.tau_rosseland),
    synthetic: row.synthetic as boolean,
    split: (row.split as string | null | undefined) ?? null,
  };
}

/** A spectrum-dataset row (all columns read) back as a SpectrumRecord, label keys from the manifest. */
export function rowToSpectrumRecord(row: DatasetRow, manifest: DatasetManifest): SpectrumRecord {
  const labels: Record<string, number> = {};
  for (const [key, col] of Object.entries(manifest.labelKeys ?? {})) labels[key] = row[col] as number;
  return {
    id: row.id as string,
    source: row.source as string,
    line: row.line as number,
    labels,
    wavelengthStartAngstrom: row.wavelength_start_angstrom as number,
    wavelengthStepAngstrom: row.wavelength_step_angstrom as number,
    flux: numArray(row.flux),
    synthetic: row.synthetic as boolean,
    split: (row.split as string | null | undefined) ?? null,
  };
}
