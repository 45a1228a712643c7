// What a Parquet file holds (from its footer), whether a dataset's manifest agrees with its data, and which dataset kind a file's columns fit.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
  type FileMetaData,
  type SchemaTree,
} from 'hyparquet';
import { parquetCompressors } from './codecs.js';
import { readManifest, type DatasetManifest } from './manifest.js';
import type { ColumnKind } from './parquet-stream.js';
import { ATMOSPHERE_COLUMNS } from './write.js';

/** One top-level column of a Parquet file. */
export interface ParquetColumnInfo {
  name: string;
  /** The grid-io kind it maps to, or null when none does (int64, nested structs, lists of strings...). */
  kind: ColumnKind | null;
  /** Human-readable type: a grid-io kind, else the Parquet physical/logical type (e.g. `int64`, `list<int32>`, `struct`). */
  type: string;
  /** OPTIONAL in the schema (may hold nulls). */
  nullable: boolean;
}

/** What the footer of a Parquet file says. */
export interface ParquetFileInfo {
  path: string;
  rows: number;
  rowGroups: number;
  createdBy: string | null;
  columns: ParquetColumnInfo[];
  /** Compression codecs of its column chunks. */
  codecs: string[];
}

/** Whether `path` starts and ends with the Parquet magic `PAR1`. */
export async function isParquetFile(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return false;
  }
  try {
    const { size } = await fh.stat();
    if (size < 12) return false;
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    await fh.read(tail, 0, 4, size - 4);
    return head.toString('latin1') === 'PAR1' && tail.toString('latin1') === 'PAR1';
  } finally {
    await fh.close();
  }
}

function leafType(node: SchemaTree): { kind: ColumnKind | null; type: string } {
  const el = node.element;
  const logical = el.logical_type?.type;
  switch (el.type) {
    case 'BYTE_ARRAY':
      return logical === 'STRING' || el.converted_type === 'UTF8'
        ? { kind: 'string', type: 'string' }
        : { kind: null, type: 'binary' };
    case 'INT32':
      // plain or INT_32; other annotations (INT_8, UINT_16, DATE, DECIMAL...) are no grid-io kind
      return !el.converted_type || el.converted_type === 'INT_32'
        ? { kind: 'int32', type: 'int32' }
        : { kind: null, type: el.converted_type.toLowerCase() };
    case 'INT64':
      return { kind: null, type: el.converted_type ? el.converted_type.toLowerCase() : 'int64' };
    case 'DOUBLE':
      return { kind: 'double', type: 'double' };
    case 'FLOAT':
      return { kind: 'float', type: 'float' };
    case 'BOOLEAN':
      return { kind: 'boolean', type: 'boolean' };
    default:
      return { kind: null, type: (el.type ?? 'group').toLowerCase() };
  }
}

/** Kind and type of a top-level schema node: flat leaves and one-level LISTs of FLOAT/DOUBLE map to grid-io kinds. */
function columnType(node: SchemaTree): { kind: ColumnKind | null; type: string } {
  const el = node.element;
  if (!node.children.length)
    return el.repetition_type === 'REPEATED'
      ? { kind: null, type: `repeated ${leafType(node).type}` }
      : leafType(node);
  const isList = el.converted_type === 'LIST' || el.logical_type?.type === 'LIST';
  if (!isList) return { kind: null, type: 'struct' };
  // standard 3-level list (<name> LIST { repeated group list { element } }) or a 2-level legacy list
  const repeated = node.children[0];
  const item = repeated.children.length === 1 ? repeated.children[0] : repeated;
  if (item.children.length) return { kind: null, type: 'list<nested>' };
  const inner = leafType(item);
  const kind = inner.kind === 'float' ? 'list<float>' : inner.kind === 'double' ? 'list<double>' : null;
  return { kind, type: `list<${inner.type}>` };
}

/** Footer summary of a Parquet file (row count, row groups, writer, top-level columns, codecs). */
export async function describeParquetFile(path: string, metadata?: FileMetaData): Promise<ParquetFileInfo> {
  const md = metadata ?? (await parquetMetadataAsync(await asyncBufferFromFile(path)));
  const tree = parquetSchema(md);
  const codecs = new Set<string>();
  for (const rg of md.row_groups) for (const c of rg.columns) if (c.meta_data) codecs.add(c.meta_data.codec);
  return {
    path,
    rows: Number(md.num_rows),
    rowGroups: md.row_groups.length,
    createdBy: md.created_by ?? null,
    columns: tree.children.map((node) => ({
      name: node.element.name,
      ...columnType(node),
      nullable: node.element.repetition_type === 'OPTIONAL',
    })),
    codecs: [...codecs].sort(),
  };
}

/** Result of {@link checkDatasetAgainstData}. */
export interface DatasetCheck {
  manifest: DatasetManifest;
  /** Footer of each data file (in manifest order; absent for a file that cannot be opened). */
  files: ParquetFileInfo[];
  /** Split counts counted in the data (when the manifest has a split column). */
  splitCounts: Record<string, number> | null;
  /** Every disagreement between the manifest and the data; empty when they agree. */
  problems: string[];
}

/**
 * Check a dataset's manifest against its Parquet files instead of trusting it: every file exists
 * and opens, its row count and row-group count are the manifest's, the total row count adds up,
 * the columns (names, order and kinds) are the manifest's, and the split counts are those of the
 * `split` column. The manifest itself must parse (else the error of {@link readManifest}).
 */
export async function checkDatasetAgainstData(dir: string): Promise<DatasetCheck> {
  const manifest = await readManifest(dir);
  const problems: string[] = [];
  const files: ParquetFileInfo[] = [];
  let rows = 0;
  let canCountSplits = manifest.columns.some((c) => c.name === 'split');
  const splitCounts: Record<string, number> = {};
  for (const f of manifest.files) {
    const path = join(dir, f.path);
    let info: ParquetFileInfo;
    let md: FileMetaData;
    let buffer;
    try {
      buffer = await asyncBufferFromFile(path);
      md = await parquetMetadataAsync(buffer);
      info = await describeParquetFile(path, md);
    } catch (err) {
      problems.push(`${f.path}: cannot open as Parquet (${(err as Error).message})`);
      canCountSplits = false;
      continue;
    }
    files.push(info);
    rows += info.rows;
    if (info.rows !== f.rowCount)
      problems.push(`${f.path}: ${info.rows} rows in the file, ${f.rowCount} in the manifest`);
    if (info.rowGroups !== f.rowGroups)
      problems.push(`${f.path}: ${info.rowGroups} row groups in the file, ${f.rowGroups} in the manifest`);
    const inFile = info.columns.map((c) => c.name);
    const inManifest = manifest.columns.map((c) => c.name);
    const missing = inManifest.filter((n) => !inFile.includes(n));
    const extra = inFile.filter((n) => !inManifest.includes(n));
    if (missing.length)
      problems.push(
        `${f.path}: no column ${missing.join(', ')} (the manifest lists ${missing.length === 1 ? 'it' : 'them'})`,
      );
    if (extra.length) problems.push(`${f.path}: column ${extra.join(', ')} not in the manifest`);
    if (!missing.length && !extra.length && inFile.join(',') !== inManifest.join(','))
      problems.push(`${f.path}: columns in another order than the manifest's (${inFile.join(', ')})`);
    for (const c of manifest.columns) {
      const fc = info.columns.find((x) => x.name === c.name);
      if (fc && fc.kind !== c.kind)
        problems.push(`${f.path}: column ${c.name} is ${fc.type} in the file, ${c.kind} in the manifest`);
    }
    if (canCountSplits && inFile.includes('split')) {
      // as the writers count them: rows without a split (null) are not counted
      for (const r of (await parquetReadObjects({
        file: buffer,
        metadata: md,
        columns: ['split'],
        compressors: parquetCompressors,
      })) as { split: string | null }[]) {
        if (r.split !== null && r.split !== undefined) splitCounts[r.split] = (splitCounts[r.split] ?? 0) + 1;
      }
    } else canCountSplits = false;
  }
  if (rows !== manifest.rowCount && files.length === manifest.files.length)
    problems.push(`${rows} rows in the data files, ${manifest.rowCount} in the manifest`);
  const sumFiles = manifest.files.reduce((n, f) => n + f.rowCount, 0);
  if (sumFiles !== manifest.rowCount)
    problems.push(`the manifest's files hold ${sumFiles} rows, its rowCount says ${manifest.rowCount}`);
  if (canCountSplits) {
    const expected = manifest.splitCounts;
    const keys = new Set([...Object.keys(expected), ...Object.keys(splitCounts)]);
    for (const k of [...keys].sort()) {
      if ((splitCounts[k] ?? 0) !== (expected[k] ?? 0))
        problems.push(
          `split ${k}: ${splitCounts[k] ?? 0} rows in the data, ${expected[k] ?? 0} in the manifest`,
        );
    }
  }
  return { manifest, files, splitCounts: canCountSplits ? splitCounts : null, problems };
}

/** Integer types without a grid-io kind that still read as numbers. */
const INTEGER_TYPES = new Set([
  'int64',
  'int_8',
  'int_16',
  'int_64',
  'uint_8',
  'uint_16',
  'uint_32',
  'uint_64',
]);

/** Columns a spectrum dataset file needs (labels: at least one more numeric column). */
export const SPECTRUM_REQUIRED_COLUMNS = [
  'flux',
  'wavelength_start_angstrom',
  'wavelength_step_angstrom',
] as const;
/** Columns an atmosphere dataset file needs. */
export const ATMOSPHERE_REQUIRED_COLUMNS = [
  'teff_k',
  'logg',
  'feh',
  'afe',
  'rhox',
  'temperature',
  'pressure',
  'xne',
  'abross',
  'accrad',
] as const;
/** Columns both kinds may have and that adoption fills in when absent. */
export const OPTIONAL_DATASET_COLUMNS = ['id', 'source', 'line', 'synthetic', 'split'] as const;

/** Which grid-io dataset kinds a file's columns fit, and what each kind would still need. */
export function datasetKindsOf(columns: readonly ParquetColumnInfo[]): {
  kinds: ('atmospheres' | 'spectra')[];
  missing: { atmospheres: string[]; spectra: string[] };
} {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const isList = (n: string) => byName.get(n)?.kind?.startsWith('list<') ?? false;
  const isNumber = (n: string) =>
    ['double', 'float', 'int32'].includes(byName.get(n)?.kind ?? '') ||
    INTEGER_TYPES.has(byName.get(n)?.type ?? '');
  const listCols = new Set(ATMOSPHERE_COLUMNS.filter((c) => c.kind.startsWith('list<')).map((c) => c.name));
  const atm = ATMOSPHERE_REQUIRED_COLUMNS.filter((n) => !(listCols.has(n) ? isList(n) : isNumber(n)));
  const spec: string[] = SPECTRUM_REQUIRED_COLUMNS.filter((n) => !(n === 'flux' ? isList(n) : isNumber(n)));
  const known = new Set<string>([...SPECTRUM_REQUIRED_COLUMNS, ...OPTIONAL_DATASET_COLUMNS]);
  if (!columns.some((c) => !known.has(c.name) && isNumber(c.name)))
    spec.push('a numeric label column (e.g. teff_k)');
  const kinds: ('atmospheres' | 'spectra')[] = [];
  if (!atm.length) kinds.push('atmospheres');
  if (!spec.length) kinds.push('spectra');
  return { kinds, missing: { atmospheres: atm, spectra: spec } };
}
