// Streaming writers of atmosphere and spectrum datasets: one Parquet file plus manifest.json, statistics gathered in the same pass.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ATMOSPHERE_QUANTITIES, type AtmosphereModel, type SpectrumRecord } from '../types.js';
import { writeDirectoryAtomic } from './atomic-dir.js';
import { DATASET_SCHEMA_VERSION, MANIFEST_FILE, type DatasetManifest } from './manifest.js';
import { RunningStats } from './normalization.js';
import { ParquetStreamWriter, type ColumnSpec, type RowGroupData } from './parquet-stream.js';
import { assignSplit, canonicalSplitName, type SplitScheme } from './splits.js';

/** A row whose split is written with the one name (an old spelling such as 'validation' becomes 'val'). */
function withCanonicalSplit<T extends { split: string | null }>(row: T): T {
  const split = canonicalSplitName(row.split);
  return split === row.split ? row : { ...row, split };
}

/** Name of the Parquet file inside a dataset directory. */
export const DATA_FILE = 'data.parquet';

/** Options shared by the dataset writers. */
export interface WriteDatasetOptions {
  /** Assign the split column from each row's id with this scheme and seed (overrides the records' own split). */
  split?: { scheme: SplitScheme; seed: number };
  /** Input files and their sha256, recorded in the manifest. */
  inputs?: { path: string; sha256: string }[];
  /** Rows per row group (default: 1024 atmospheres; spectra: about 4 million pixels per group). */
  rowGroupSize?: number;
  /** Extra provenance stored under `notes` in the manifest. */
  notes?: Record<string, unknown>;
}

/** Options of {@link writeSpectrumDataset}. */
export interface WriteSpectrumDatasetOptions extends WriteDatasetOptions {
  /** Storage of the flux list: 'float' (float32, default) or 'double'. NaN is preserved either way. */
  fluxType?: 'float' | 'double';
  /**
   * Compression of the flux column: 'none' (default; noisy float flux gains little from snappy
   * and the pure-JS compressor would halve write speed) or 'snappy'. Other columns use snappy.
   */
  fluxCompression?: 'none' | 'snappy';
}

/** Atmosphere dataset columns (schema version 1). */
export const ATMOSPHERE_COLUMNS: readonly ColumnSpec[] = [
  { name: 'id', kind: 'string' },
  { name: 'source', kind: 'string' },
  { name: 'line', kind: 'int32' },
  { name: 'teff_k', kind: 'double' },
  { name: 'logg', kind: 'double' },
  { name: 'mh', kind: 'double' },
  { name: 'feh', kind: 'double' },
  { name: 'afe', kind: 'double' },
  { name: 'vturb_kms', kind: 'double', nullable: true },
  { name: 'n_layers', kind: 'int32' },
  { name: 'rhox', kind: 'list<double>' },
  { name: 'temperature', kind: 'list<double>' },
  { name: 'pressure', kind: 'list<double>' },
  { name: 'xne', kind: 'list<double>' },
  { name: 'abross', kind: 'list<double>' },
  { name: 'accrad', kind: 'list<double>' },
  { name: 'tau_rosseland', kind: 'list<double>' },
  { name: 'synthetic', kind: 'boolean' },
  { name: 'split', kind: 'string', nullable: true },
];

/** Atmosphere label columns and the AtmosphereModel field each comes from. */
export const ATMOSPHERE_LABELS: readonly {
  column: string;
  field: 'teffK' | 'logg' | 'mh' | 'feh' | 'afe' | 'vturbKms';
}[] = [
  { column: 'teff_k', field: 'teffK' },
  { column: 'logg', field: 'logg' },
  { column: 'mh', field: 'mh' },
  { column: 'feh', field: 'feh' },
  { column: 'afe', field: 'afe' },
  { column: 'vturb_kms', field: 'vturbKms' },
];

/** Depth columns: AtmosphereModel field -> column name and normalization transform. */
const DEPTH_COLUMNS: readonly {
  field: (typeof ATMOSPHERE_QUANTITIES)[number] | 'tauRosseland';
  column: string;
  log: boolean;
}[] = [
  { field: 'rhox', column: 'rhox', log: true },
  { field: 'temperature', column: 'temperature', log: true },
  { field: 'pressure', column: 'pressure', log: true },
  { field: 'xne', column: 'xne', log: true },
  { field: 'abross', column: 'abross', log: true },
  { field: 'accrad', column: 'accrad', log: false },
  { field: 'tauRosseland', column: 'tau_rosseland', log: true },
];

/** camelCase label key -> snake_case column name (teffK -> teff_k, vsiniKms -> vsini_kms). */
export function labelColumnName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

class RangeTracker {
  readonly ranges: Record<string, { min: number; max: number }> = {};
  add(name: string, v: number | null | undefined): void {
    if (v === null || v === undefined || !Number.isFinite(v)) return;
    const r = (this.ranges[name] ??= { min: v, max: v });
    if (v < r.min) r.min = v;
    if (v > r.max) r.max = v;
  }
}

/** Name of the quarantine report an ingest writes into its dataset directory (a leading `_`: pyarrow, polars and DuckDB skip it when they open the folder as a Parquet dataset). */
export const QUARANTINE_FILE = '_quarantine.json';

/**
 * Files a dataset write replaces as a whole: the data, the manifest (either name), the quarantine
 * report and the partial files of earlier, non-atomic versions. Other entries of an existing
 * dataset directory are carried into the new version unchanged.
 */
const DATASET_FILES = new Set([
  DATA_FILE,
  MANIFEST_FILE,
  'manifest.json',
  QUARANTINE_FILE,
  `${DATA_FILE}.partial`,
  `${MANIFEST_FILE}.partial`,
  'manifest.json.partial',
]);

/**
 * Write a dataset directory as a whole: `write` fills a temporary sibling folder, which replaces
 * `dir` only when complete and fsynced (see {@link writeDirectoryAtomic}), so a failure at any
 * point leaves the previous dataset at `dir` readable and unchanged.
 */
export function writeDatasetAtomic<T>(dir: string, write: (stage: string) => Promise<T>): Promise<T> {
  return writeDirectoryAtomic(dir, write, {
    carryOver: (name) => !DATASET_FILES.has(name) && !/^\..*\.tmp-/.test(name),
  });
}

/** A `write…DatasetFiles` writer made to replace its directory as a whole ({@link writeDatasetAtomic}). */
function atomicDatasetWriter<T, O>(
  writeFiles: (items: AsyncIterable<T> | Iterable<T>, dir: string, opts?: O) => Promise<DatasetManifest>,
): (items: AsyncIterable<T> | Iterable<T>, dir: string, opts?: O) => Promise<DatasetManifest> {
  return (items, dir, opts) => writeDatasetAtomic(dir, (stage) => writeFiles(items, stage, opts));
}

async function finishDataset(
  dir: string,
  writer: ParquetStreamWriter,
  manifest: DatasetManifest,
): Promise<DatasetManifest> {
  await writer.finish();
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The data file of a dataset being written into the (fresh, empty) folder `dir`. */
function prepareDir(dir: string): string {
  return join(dir, DATA_FILE);
}

/** The fields of a row that every dataset has. */
interface DatasetRow {
  id: string;
  source: string;
  line: number;
  synthetic: boolean;
  split: string | null;
}

/**
 * What every dataset writer does per row: the split as written (assigned from the id by the
 * scheme, or the row's own under its one name), the split / synthetic / row counts, and row
 * groups of `groupSize` rows handed to `write` with the common columns filled in.
 */
class RowGroups<T extends DatasetRow> {
  readonly splitCounts: Record<string, number> = {};
  rowCount = 0;
  syntheticCount = 0;
  groups = 0;
  private group: T[] = [];

  constructor(
    private readonly opts: WriteDatasetOptions,
    private readonly write: (rows: T[], data: RowGroupData) => void,
  ) {}

  /** The row with its split as it is written. */
  prepare(input: T): T {
    const split = this.opts.split;
    return split
      ? { ...input, split: assignSplit(input.id, split.scheme, split.seed) }
      : withCanonicalSplit(input);
  }

  /** Count a prepared row and queue it; a full group is written. */
  add(row: T, groupSize: number): void {
    if (row.split !== null) this.splitCounts[row.split] = (this.splitCounts[row.split] ?? 0) + 1;
    if (row.synthetic) this.syntheticCount++;
    this.rowCount++;
    this.group.push(row);
    if (this.group.length >= groupSize) this.flush();
  }

  /** Write the queued rows as one row group (nothing when none are queued). */
  flush(): void {
    const rows = this.group;
    if (rows.length === 0) return;
    this.write(rows, {
      id: rows.map((r) => r.id),
      source: rows.map((r) => r.source),
      line: rows.map((r) => r.line),
      synthetic: rows.map((r) => r.synthetic),
      split: rows.map((r) => r.split),
    });
    this.groups++;
    this.group = [];
  }

  /** The manifest fields every dataset has, from the counts. */
  manifestFields(): Pick<
    DatasetManifest,
    'rowCount' | 'synthetic' | 'syntheticCount' | 'split' | 'splitCounts' | 'inputs'
  > {
    return {
      rowCount: this.rowCount,
      synthetic: this.rowCount > 0 && this.syntheticCount === this.rowCount,
      syntheticCount: this.syntheticCount,
      split: this.opts.split ?? null,
      splitCounts: this.splitCounts,
      inputs: this.opts.inputs ?? [],
    };
  }
}

/**
 * Stream atmospheres into `<dir>/data.parquet` (row groups of `rowGroupSize` models; only one
 * row group is held) and write the manifest with row count, label ranges,
 * normalization statistics (log10 for RHOX, T, P, XNE, ABROSS, tau; linear for ACCRAD and the
 * labels) gathered in the same pass, split counts and input hashes. Models must be finite.
 * The directory is replaced as a whole ({@link writeDatasetAtomic}): an error while reading the
 * models or writing leaves an existing dataset at `dir` as it was.
 */
export const writeAtmosphereDataset = atomicDatasetWriter(writeAtmosphereDatasetFiles);

/** {@link writeAtmosphereDataset} without the atomic replacement: into an empty folder (inside {@link writeDatasetAtomic}). */
export async function writeAtmosphereDatasetFiles(
  models: AsyncIterable<AtmosphereModel> | Iterable<AtmosphereModel>,
  dir: string,
  opts: WriteDatasetOptions = {},
): Promise<DatasetManifest> {
  const path = prepareDir(dir);
  const writer = new ParquetStreamWriter(path, ATMOSPHERE_COLUMNS);
  const groupSize = opts.rowGroupSize ?? 1024;
  const stats = new Map<string, RunningStats>();
  for (const d of DEPTH_COLUMNS) stats.set(d.column, new RunningStats(d.column, d.log ? 'log10' : 'linear'));
  for (const l of ATMOSPHERE_LABELS) stats.set(l.column, new RunningStats(l.column, 'linear'));
  const ranges = new RangeTracker();
  const layerCounts: Record<string, number> = {};
  const rows = new RowGroups<AtmosphereModel>(opts, (group, data) => {
    data.n_layers = group.map((m) => m.nLayers);
    for (const l of ATMOSPHERE_LABELS) data[l.column] = group.map((m) => m[l.field]);
    for (const d of DEPTH_COLUMNS) data[d.column] = group.map((m) => m[d.field]);
    writer.writeRowGroup(data);
  });

  for await (const input of models) {
    const m = rows.prepare(input);
    for (const d of DEPTH_COLUMNS) {
      const arr = m[d.field];
      if (arr.length !== m.nLayers)
        throw new Error(
          `${m.source}:${m.line}: ${d.column} has ${arr.length} layers, expected nLayers = ${m.nLayers}`,
        );
      stats.get(d.column)!.addAll(arr);
    }
    for (const l of ATMOSPHERE_LABELS) {
      const v = m[l.field];
      if (v !== null) stats.get(l.column)!.add(v);
      ranges.add(l.column, v);
    }
    layerCounts[m.nLayers] = (layerCounts[m.nLayers] ?? 0) + 1;
    rows.add(m, groupSize);
  }
  rows.flush();
  const normalization = Object.fromEntries([...stats].map(([k, s]) => [k, s.result()]));
  const manifest: DatasetManifest = {
    schemaVersion: DATASET_SCHEMA_VERSION,
    kind: 'atmospheres',
    createdAt: new Date().toISOString(),
    ...rows.manifestFields(),
    files: [{ path: DATA_FILE, rowCount: rows.rowCount, rowGroups: rows.groups }],
    columns: [...ATMOSPHERE_COLUMNS],
    labels: ATMOSPHERE_LABELS.map((l) => l.column),
    labelRanges: ranges.ranges,
    normalization,
    layerCounts,
    ...(opts.notes ? { notes: opts.notes } : {}),
  };
  return finishDataset(dir, writer, manifest);
}

/**
 * Stream spectra into `<dir>/data.parquet` and write the manifest. Label columns are
 * taken from the first record's `labels` keys (camelCase -> snake_case: teffK -> teff_k); every
 * record must have the same keys. Flux is stored as LIST<float> (or LIST<double>), NaN kept.
 * The directory is replaced as a whole ({@link writeDatasetAtomic}): an error while reading the
 * records or writing leaves an existing dataset at `dir` as it was.
 */
export const writeSpectrumDataset = atomicDatasetWriter(writeSpectrumDatasetFiles);

/** {@link writeSpectrumDataset} without the atomic replacement: into an empty folder (inside {@link writeDatasetAtomic}). */
export async function writeSpectrumDatasetFiles(
  records: AsyncIterable<SpectrumRecord> | Iterable<SpectrumRecord>,
  dir: string,
  opts: WriteSpectrumDatasetOptions = {},
): Promise<DatasetManifest> {
  const path = prepareDir(dir);
  const fluxKind = opts.fluxType === 'double' ? 'list<double>' : 'list<float>';
  const st: { writer: ParquetStreamWriter | null } = { writer: null };
  let columns: ColumnSpec[] = [];
  let labelKeys: string[] = [];
  let labelCols: string[] = [];
  const stats = new Map<string, RunningStats>();
  const ranges = new RangeTracker();
  let groupSize = opts.rowGroupSize ?? 0;
  let pixMin = Infinity;
  let pixMax = -Infinity;
  let nanCount = 0;

  const open = (first: SpectrumRecord | null) => {
    labelKeys = first ? Object.keys(first.labels) : [];
    labelCols = labelKeys.map(labelColumnName);
    columns = [
      { name: 'id', kind: 'string' },
      { name: 'source', kind: 'string' },
      { name: 'line', kind: 'int32' },
      ...labelCols.map((name) => ({ name, kind: 'double' as const })),
      { name: 'wavelength_start_angstrom', kind: 'double' },
      { name: 'wavelength_step_angstrom', kind: 'double' },
      { name: 'flux', kind: fluxKind },
      { name: 'synthetic', kind: 'boolean' },
      { name: 'split', kind: 'string', nullable: true },
    ];
    for (const c of labelCols) stats.set(c, new RunningStats(c, 'linear'));
    st.writer = new ParquetStreamWriter(path, columns, {
      listCodec: opts.fluxCompression === 'snappy' ? 'SNAPPY' : 'UNCOMPRESSED',
    });
    if (!groupSize) groupSize = Math.max(1, Math.floor(4_000_000 / Math.max(1, first?.flux.length ?? 1)));
  };
  const rows = new RowGroups<SpectrumRecord>(opts, (group, data) => {
    data.wavelength_start_angstrom = group.map((r) => r.wavelengthStartAngstrom);
    data.wavelength_step_angstrom = group.map((r) => r.wavelengthStepAngstrom);
    data.flux = group.map((r) => r.flux);
    labelKeys.forEach((k, i) => (data[labelCols[i]] = group.map((r) => r.labels[k])));
    st.writer!.writeRowGroup(data);
  });

  for await (const input of records) {
    const r = rows.prepare(input);
    if (!st.writer) open(r);
    const keys = Object.keys(r.labels);
    if (keys.length !== labelKeys.length || labelKeys.some((k) => !(k in r.labels))) {
      throw new Error(
        `${r.source}:${r.line}: spectrum labels {${keys.join(', ')}} differ from the dataset's {${labelKeys.join(', ')}}`,
      );
    }
    if (r.flux.length === 0) throw new Error(`${r.source}:${r.line}: spectrum ${r.id} has no flux pixels`);
    labelKeys.forEach((k, i) => {
      stats.get(labelCols[i])!.add(r.labels[k]);
      ranges.add(labelCols[i], r.labels[k]);
    });
    const flux = r.flux;
    for (let i = 0; i < flux.length; i++) if (flux[i] !== flux[i]) nanCount++;
    if (flux.length < pixMin) pixMin = flux.length;
    if (flux.length > pixMax) pixMax = flux.length;
    rows.add(r, groupSize);
  }
  if (!st.writer) open(null);
  rows.flush();
  const rowCount = rows.rowCount;
  const manifest: DatasetManifest = {
    schemaVersion: DATASET_SCHEMA_VERSION,
    kind: 'spectra',
    createdAt: new Date().toISOString(),
    ...rows.manifestFields(),
    files: [{ path: DATA_FILE, rowCount, rowGroups: rows.groups }],
    columns,
    labels: labelCols,
    labelKeys: Object.fromEntries(labelKeys.map((k, i) => [k, labelCols[i]])),
    labelRanges: ranges.ranges,
    normalization: Object.fromEntries([...stats].map(([k, s]) => [k, s.result()])),
    pixels: { min: rowCount ? pixMin : 0, max: rowCount ? pixMax : 0, nanCount },
    ...(opts.notes ? { notes: opts.notes } : {}),
  };
  return finishDataset(dir, st.writer!, manifest);
}
