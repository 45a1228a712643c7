// Adopt a Parquet file written by another tool (pyarrow, polars, DuckDB, Spark) as a grid-io dataset: its rows through the dataset writers, which compute the manifest.
import { basename, resolve } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { rosselandTau } from '../derived/optical-depth.js';
import type { AtmosphereModel, SpectrumRecord } from '../types.js';
import { parquetCompressors } from './codecs.js';
import { atmosphereContentId, sha256File, spectrumContentId } from './content-hash.js';
import {
  datasetKindsOf,
  describeParquetFile,
  OPTIONAL_DATASET_COLUMNS,
  SPECTRUM_REQUIRED_COLUMNS,
} from './inspect.js';
import type { DatasetManifest } from './manifest.js';
import type { SplitScheme } from './splits.js';
import { writeAtmosphereDataset, writeSpectrumDataset } from './write.js';

/** Options of {@link adoptParquetFile}. */
export interface AdoptParquetOptions {
  kind: 'atmospheres' | 'spectra';
  /** Assign the split column by id hash (default: keep the file's `split` column, else none). */
  split?: { scheme: SplitScheme; seed: number };
  notes?: Record<string, unknown>;
}

/** snake_case column -> camelCase record key (teff_k -> teffK), the inverse of `labelColumnName` for snake_case names. */
function labelKey(column: string): string {
  return column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));
const list = (v: unknown): number[] =>
  Array.from(v as ArrayLike<number>, (x) => (x === null || x === undefined ? Number.NaN : Number(x)));

/**
 * Write the rows of the Parquet file `file` as a grid-io dataset in `dir` (data.parquet and
 * _manifest.json with statistics, label ranges and the file's sha256 as input), one row group in
 * memory at a time. Spectra need `flux` (a list of numbers), `wavelength_start_angstrom`,
 * `wavelength_step_angstrom` and at least one other numeric column: every other numeric column is
 * a label (teff_k -> teffK). Atmospheres need the columns of an atmosphere dataset's labels and
 * depth quantities; `tau_rosseland` (else the RHOX-ABROSS integral), `mh` (else [Fe/H]),
 * `vturb_kms`, `id` (else the content hash), `source` (else `parquet:<file name>`), `line`
 * (else the row number), `synthetic` (else false) and `split` are optional. Null list elements
 * become NaN.
 */
export async function adoptParquetFile(
  file: string,
  dir: string,
  opts: AdoptParquetOptions,
): Promise<DatasetManifest> {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  const info = await describeParquetFile(file, metadata);
  const fit = datasetKindsOf(info.columns);
  if (!fit.kinds.includes(opts.kind))
    throw new Error(
      `${file}: cannot be adopted as ${opts.kind}: missing ${fit.missing[opts.kind].join(', ')}`,
    );
  const names = new Set(info.columns.map((c) => c.name));
  const source = `parquet:${basename(file)}`;
  const sha256 = await sha256File(file);
  const labelColumns = info.columns
    .filter(
      (c) =>
        !(SPECTRUM_REQUIRED_COLUMNS as readonly string[]).includes(c.name) &&
        !(OPTIONAL_DATASET_COLUMNS as readonly string[]).includes(c.name) &&
        !c.type.startsWith('list<') &&
        c.kind !== 'string' &&
        c.kind !== 'boolean' &&
        c.type !== 'struct' &&
        c.type !== 'binary',
    )
    .map((c) => c.name);

  async function* rows(): AsyncGenerator<{ row: Record<string, unknown>; index: number }> {
    let start = 0;
    for (const rg of metadata.row_groups) {
      const n = Number(rg.num_rows);
      const part = (await parquetReadObjects({
        file: buffer,
        metadata,
        rowStart: start,
        rowEnd: start + n,
        compressors: parquetCompressors,
      })) as Record<string, unknown>[];
      for (let i = 0; i < part.length; i++) yield { row: part[i], index: start + i };
      start += n;
    }
  }
  const common = (row: Record<string, unknown>, index: number) => ({
    source: names.has('source') && typeof row.source === 'string' ? row.source : source,
    line: names.has('line') && row.line !== null && row.line !== undefined ? num(row.line) : index + 1,
    synthetic: names.has('synthetic') ? row.synthetic === true : false,
    split: names.has('split') && typeof row.split === 'string' ? row.split : null,
  });
  const writeOpts = {
    split: opts.split,
    inputs: [{ path: resolve(file), sha256 }],
    notes: { adoptedFrom: resolve(file), ...opts.notes },
  };

  if (opts.kind === 'spectra') {
    async function* records(): AsyncGenerator<SpectrumRecord> {
      for await (const { row, index } of rows()) {
        const labels: Record<string, number> = {};
        for (const c of labelColumns)
          labels[labelKey(c)] = row[c] === null || row[c] === undefined ? Number.NaN : num(row[c]);
        const base = {
          ...common(row, index),
          labels,
          wavelengthStartAngstrom: num(row.wavelength_start_angstrom),
          wavelengthStepAngstrom: num(row.wavelength_step_angstrom),
          flux: list(row.flux),
        };
        yield {
          id: names.has('id') && typeof row.id === 'string' ? row.id : spectrumContentId(base),
          ...base,
        };
      }
    }
    return writeSpectrumDataset(records(), dir, writeOpts);
  }
  async function* models(): AsyncGenerator<AtmosphereModel> {
    for await (const { row, index } of rows()) {
      const rhox = list(row.rhox);
      const abross = list(row.abross);
      const feh = num(row.feh);
      const base: Omit<AtmosphereModel, 'id'> = {
        ...common(row, index),
        teffK: num(row.teff_k),
        logg: num(row.logg),
        mh: names.has('mh') && row.mh !== null ? num(row.mh) : feh,
        feh,
        afe: num(row.afe),
        vturbKms:
          names.has('vturb_kms') && row.vturb_kms !== null && row.vturb_kms !== undefined
            ? num(row.vturb_kms)
            : null,
        nLayers: rhox.length,
        rhox,
        temperature: list(row.temperature),
        pressure: list(row.pressure),
        xne: list(row.xne),
        abross,
        accrad: list(row.accrad),
        tauRosseland: names.has('tau_rosseland') ? list(row.tau_rosseland) : rosselandTau(rhox, abross),
      };
      yield {
        id: names.has('id') && typeof row.id === 'string' ? row.id : atmosphereContentId(base),
        ...base,
      };
    }
  }
  return writeAtmosphereDataset(models(), dir, writeOpts);
}
