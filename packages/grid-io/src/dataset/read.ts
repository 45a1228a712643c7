// Dataset reader: manifest plus row groups streamed from Parquet with hyparquet, with column projection and split filtering.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
  type AsyncBuffer,
  type ColumnMetaData,
  type FileMetaData,
  type SchemaTree,
} from 'hyparquet';
import { getTreePath } from 'hyparquet/src/schema.js';
import type { AtmosphereModel, SpectrumRecord } from '../types.js';
import { parquetCompressors } from './codecs.js';
import {
  chunkRange,
  decodeFixedListChunk,
  decodeListChunk,
  listColumnChunk,
  listLevels,
  type FluxDecodePath,
  type ListChunk,
} from './list-column.js';
import { recoverDirectory } from './atomic-dir.js';
import { readManifest, type DatasetManifest } from './manifest.js';
import { canonicalSplitName } from './splits.js';

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
  /** Keep only rows of this split (or these splits); an old spelling ('validation') matches the one name on either side. */
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
  /** Read one row group (optionally only some columns); split names as the one vocabulary (old spellings read as their name). */
  readRowGroup(index: number, columns?: string[]): Promise<DatasetRow[]>;
  /** Stream batches of rows, one row group in memory at a time. */
  iterateRows(opts?: IterateRowsOptions): AsyncGenerator<DatasetRow[]>;
}

interface OpenFile {
  path: string;
  buffer: AsyncBuffer;
  metadata: FileMetaData;
  schema: SchemaTree;
}

/** Internals of an open dataset used by {@link readFluxRowGroup}. */
interface DatasetInternals {
  /** Raw bytes, column metadata and schema path of a list column chunk of one row group. */
  listChunkBytes(
    index: number,
    column: string,
  ): Promise<{
    bytes: Uint8Array;
    md: ColumnMetaData;
    schemaPath: SchemaTree[];
    numRows: number;
    where: string;
  }>;
}
const internals = new WeakMap<OpenDataset, DatasetInternals>();

/** Copy row `i` of a decoded list chunk into a plain number array (what hyparquet returns for lists). */
function listRow(chunk: ListChunk, i: number): number[] {
  const { values, offsets } = chunk;
  const o = offsets[i];
  const n = offsets[i + 1] - o;
  const out = new Array<number>(n);
  for (let j = 0; j < n; j++) out[j] = values[o + j];
  return out;
}

/**
 * Open a dataset directory: validates its manifest (zod; `_manifest.json`, or `manifest.json` of an
 * older dataset) and reads each Parquet footer.
 * Row data are only read by {@link OpenDataset.readRowGroup} / {@link OpenDataset.iterateRows}.
 */
export async function openDataset(dir: string): Promise<OpenDataset> {
  // A crash in the middle of an atomic rewrite can leave the previous version beside `dir`.
  if (!existsSync(dir)) await recoverDirectory(dir);
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
    if (Number(metadata.num_rows) !== f.rowCount)
      throw new Error(`${path}: has ${metadata.num_rows} rows but the manifest says ${f.rowCount}`);
    let start = 0;
    metadata.row_groups.forEach((rg, i) => {
      const n = Number(rg.num_rows);
      rowGroups.push({ index: rowGroups.length, file: f.path, indexInFile: i, rowStart: start, numRows: n });
      start += n;
    });
    files.push({ path: f.path, buffer, metadata, schema: parquetSchema(metadata) });
  }
  const listColumns = new Set(manifest.columns.filter((c) => c.kind.startsWith('list<')).map((c) => c.name));
  const allColumns = manifest.columns.map((c) => c.name);
  const known = new Set(manifest.columns.map((c) => c.name));
  const checkColumns = (cols?: string[]) => {
    for (const c of cols ?? [])
      if (!known.has(c)) throw new Error(`${dir}: no column "${c}" (columns: ${[...known].join(', ')})`);
  };

  const groupFile = (index: number) => {
    const g = rowGroups[index];
    if (!g) throw new RangeError(`${dir}: no row group ${index} (dataset has ${rowGroups.length})`);
    return { g, f: files.find((x) => x.path === g.file)! };
  };

  const listChunkBytes: DatasetInternals['listChunkBytes'] = async (index, column) => {
    const { g, f } = groupFile(index);
    const where = `${join(dir, f.path)}: row group ${g.indexInFile}`;
    const md = listColumnChunk(f.metadata, g.indexInFile, column, join(dir, f.path)).meta_data!;
    const { start, end } = chunkRange(md);
    const bytes = new Uint8Array(await f.buffer.slice(start, end));
    return { bytes, md, schemaPath: getTreePath(f.schema, md.path_in_schema), numRows: g.numRows, where };
  };

  const readRowGroupRaw = async (index: number, columns?: string[]): Promise<DatasetRow[]> => {
    const { g, f } = groupFile(index);
    checkColumns(columns);
    const cols = columns ?? allColumns;
    // list columns: decoded directly (levels run by run, values in one copy) when the chunk allows
    const lists = new Map<string, ListChunk>();
    for (const c of cols) {
      if (!listColumns.has(c) || lists.has(c)) continue;
      const { bytes, md, schemaPath, numRows } = await listChunkBytes(index, c);
      const chunk = decodeListChunk(bytes, md, listLevels(schemaPath), numRows);
      if (chunk) lists.set(c, chunk);
    }
    if (lists.size === 0)
      return (await parquetReadObjects({
        file: f.buffer,
        metadata: f.metadata,
        rowStart: g.rowStart,
        rowEnd: g.rowStart + g.numRows,
        columns,
        compressors: parquetCompressors,
      })) as DatasetRow[];
    const rest = cols.filter((c) => !lists.has(c));
    const other = rest.length
      ? ((await parquetReadObjects({
          file: f.buffer,
          metadata: f.metadata,
          rowStart: g.rowStart,
          rowEnd: g.rowStart + g.numRows,
          columns: rest,
          compressors: parquetCompressors,
        })) as DatasetRow[])
      : null;
    const rows: DatasetRow[] = new Array(g.numRows);
    for (let i = 0; i < g.numRows; i++) {
      const row: DatasetRow = {};
      for (const c of cols) row[c] = lists.has(c) ? listRow(lists.get(c)!, i) : other![i][c];
      rows[i] = row;
    }
    return rows;
  };
  // Split names as the one vocabulary: an old spelling stored in the split column reads as its name.
  const readRowGroup = async (index: number, columns?: string[]): Promise<DatasetRow[]> => {
    const rows = await readRowGroupRaw(index, columns);
    if (!columns || columns.includes('split'))
      for (const r of rows) if (typeof r.split === 'string') r.split = canonicalSplitName(r.split);
    return rows;
  };

  async function* iterateRows(opts: IterateRowsOptions = {}): AsyncGenerator<DatasetRow[]> {
    const splits =
      opts.split === undefined
        ? null
        : new Set((Array.isArray(opts.split) ? opts.split : [opts.split]).map(canonicalSplitName));
    checkColumns(opts.columns);
    const cols =
      opts.columns && splits && !opts.columns.includes('split') ? [...opts.columns, 'split'] : opts.columns;
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

  const ds: OpenDataset = { dir, manifest, numRows: manifest.rowCount, rowGroups, readRowGroup, iterateRows };
  internals.set(ds, { listChunkBytes });
  return ds;
}

/** Result of {@link readFluxRowGroup}. */
export interface FluxRowGroup {
  /** Row-major [rows * nPixels] float32 flux (NaN kept). */
  flux: Float32Array;
  /** Rows returned (after the split filter). */
  rows: number;
  /** Pixels per spectrum. */
  nPixels: number;
  /** Index within the row group of each returned row. */
  rowIndex: Int32Array;
  /** 'fast' when the chunk was decoded directly, 'generic' when it went through hyparquet. */
  path: FluxDecodePath;
}

/**
 * Read the fixed-length list column `column` (default `flux`) of row group `index` of an open
 * dataset into one row-major Float32Array, without building per-row arrays: standard LISTs with
 * PLAIN values and RLE/bit-packed levels are decoded directly (one copy of the float bytes);
 * other encodings go through hyparquet. Every list must have the same length. With `split`, only
 * rows of that split (or those splits) are kept, compacted in place.
 */
export async function readFluxRowGroup(
  dataset: OpenDataset,
  index: number,
  split?: string | string[],
  column = 'flux',
): Promise<FluxRowGroup> {
  const inner = internals.get(dataset);
  if (!inner) throw new Error('readFluxRowGroup: not a dataset opened by openDataset');
  if (!dataset.manifest.columns.some((c) => c.name === column && c.kind.startsWith('list<')))
    throw new Error(`${dataset.dir}: no list column "${column}"`);
  const { bytes, md, schemaPath, numRows, where } = await inner.listChunkBytes(index, column);
  const { flux, nPixels, path } = decodeFixedListChunk(bytes, md, schemaPath, numRows, undefined, where);
  if (split === undefined)
    return {
      flux,
      rows: numRows,
      nPixels,
      rowIndex: Int32Array.from({ length: numRows }, (_, i) => i),
      path,
    };
  const keep = new Set((Array.isArray(split) ? split : [split]).map(canonicalSplitName));
  const splits = await dataset.readRowGroup(index, ['split']);
  const rowIndex: number[] = [];
  splits.forEach((r, i) => {
    if (keep.has(r.split as string)) {
      if (rowIndex.length !== i) flux.copyWithin(rowIndex.length * nPixels, i * nPixels, (i + 1) * nPixels);
      rowIndex.push(i);
    }
  });
  return {
    flux: flux.subarray(0, rowIndex.length * nPixels),
    rows: rowIndex.length,
    nPixels,
    rowIndex: Int32Array.from(rowIndex),
    path,
  };
}

/** Open a dataset and stream its row batches: `{ manifest, batches }`. */
export async function readDataset(
  dir: string,
  opts: IterateRowsOptions = {},
): Promise<{ manifest: DatasetManifest; batches: AsyncGenerator<DatasetRow[]> }> {
  const ds = await openDataset(dir);
  return { manifest: ds.manifest, batches: ds.iterateRows(opts) };
}

const numArray = (v: unknown): number[] =>
  Array.isArray(v) ? (v as number[]) : Array.from(v as ArrayLike<number>);

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
