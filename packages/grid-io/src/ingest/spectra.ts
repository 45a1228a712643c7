// Ingest of real spectra (SYNSPEC fort.7 two-column text or CSV) listed in a CSV label table: resample onto a grid, optionally normalize, stream into a spectrum dataset.
import { createHash } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { spectrumContentId } from '../dataset/content-hash.js';
import type { DatasetManifest } from '../dataset/manifest.js';
import type { SplitScheme } from '../dataset/splits.js';
import { DATA_FILE, writeSpectrumDataset } from '../dataset/write.js';
import {
  SPECTRUM_DEFAULT_GRID,
  type SpectrumGrid,
  assertGrid,
  gridWavelengthsAngstrom,
} from '../spectra/grid.js';
import { parseSpectrumCsv, parseSpectrumText } from '../spectra/read.js';
import {
  type ContinuumOptions,
  type Spectrum1D,
  normalizeContinuum,
  resampleSpectrum,
} from '../spectra/resample.js';
import type { SpectrumRecord } from '../types.js';

/**
 * The label columns of an ingested spectrum dataset: the same keys, columns and order as the
 * synthetic generator (`generateSyntheticSpectrum`), so the CVAE trains on either unchanged.
 * Header names are matched case-insensitively, ignoring everything but letters and digits
 * (`Teff_K`, `[M/H]`, `log g` all match). `aliases` are accepted when the canonical column
 * is absent: `teff` for teff_k, `vsini` for vsini_kms, `feh` (`[Fe/H]`) for mh, `vmic` for vmic_kms.
 */
export const SPECTRUM_LABEL_TABLE_COLUMNS: readonly {
  key: string;
  column: string;
  aliases: readonly string[];
  /** Values allowed besides "finite": `positive` (> 0) or `nonnegative` (>= 0). */
  domain: 'any' | 'positive' | 'nonnegative';
}[] = [
  { key: 'teffK', column: 'teff_k', aliases: ['teff'], domain: 'positive' },
  { key: 'logg', column: 'logg', aliases: [], domain: 'any' },
  { key: 'vsiniKms', column: 'vsini_kms', aliases: ['vsini'], domain: 'nonnegative' },
  { key: 'mh', column: 'mh', aliases: ['feh'], domain: 'any' },
  { key: 'vmicKms', column: 'vmic_kms', aliases: ['vmic'], domain: 'nonnegative' },
  { key: 'resolution', column: 'resolution', aliases: [], domain: 'positive' },
];

/** Header names accepted for the spectrum-file column (normalized: lower case, letters and digits only). */
const FILE_COLUMN_NAMES = ['file', 'filename', 'path'];

/** Options of {@link ingestSpectra}. */
export interface IngestSpectraOptions {
  /** Path of the CSV label table (header row with a `file` column and the six label columns). */
  labels: string;
  /** Output dataset directory. */
  out: string;
  /** Target grid; default {@link SPECTRUM_DEFAULT_GRID} (4450–5399.95 Å at 0.05 Å, 19,000 px). */
  grid?: SpectrumGrid;
  /** Resampling: `linear` (default, linear interpolation at pixel centres) or `average` (exact pixel means); see {@link resampleSpectrum}. */
  method?: 'linear' | 'average';
  /** Input samples further apart than this (Å) are a gap; a gap inside the grid is an error. Default 1 Å. */
  maxGapAngstrom?: number;
  /** Continuum-normalize each resampled spectrum with {@link normalizeContinuum} (true: its defaults, 20 Å windows, 0.95 quantile). Default false. */
  normalize?: boolean | ContinuumOptions;
  /** Split column: default `{ scheme: '90/10', seed: 0 }` (the hash split of {@link assignSplit}); `null` leaves it empty. */
  split?: { scheme: SplitScheme; seed: number } | null;
  /** Flux storage: 'float' (default) or 'double'. */
  fluxType?: 'float' | 'double';
  /** Called after each spectrum (done counts from 1). */
  onProgress?: (p: { done: number; total: number; file: string }) => void;
  /** Extra provenance stored under `notes` in the manifest. */
  notes?: Record<string, unknown>;
}

/** How one label column was found in the header. */
export interface LabelColumnUse {
  key: string;
  column: string;
  /** The header name as written in the table. */
  header: string;
  /** True when the header matched an alias rather than the canonical name. */
  alias: boolean;
}

/** Result of {@link ingestSpectra}. */
export interface IngestSpectraResult {
  manifest: DatasetManifest;
  ingested: number;
  /** Header -> label column, in dataset order. */
  columns: LabelColumnUse[];
  /** Header columns that were not used. */
  ignoredColumns: string[];
  seconds: number;
  /** Bytes of spectrum files read (compressed size for gzip files). */
  inputBytes: number;
}

/** One data row of the label table. */
export interface LabelTableRow {
  /** 1-based line of the row in the table. */
  line: number;
  /** The file as written in the table ('' for a table without a file column). */
  file: string;
  /** The file relative to the working directory (joined to the table's folder). */
  path: string;
  labels: Record<string, number>;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function normalizeHeader(h: string): string {
  return h.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Split one CSV line (double quotes with "" escapes; `delim` ',' ';' '\t', or ' ' for runs of whitespace). */
function splitCsvLine(line: string, delim: string): string[] {
  if (delim === ' ') return line.trim().split(/\s+/);
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur.trim() === '') {
      quoted = true;
      cur = '';
    } else if (c === delim) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

function isSkipped(trimmed: string): boolean {
  return trimmed === '' || trimmed.startsWith('#');
}

/**
 * Parse a spectrum label table (CSV, TSV, ';' or whitespace separated; `#` comments): header,
 * column mapping ({@link SPECTRUM_LABEL_TABLE_COLUMNS}), and every data row with its labels
 * checked as numbers in their domain. With `fileColumn: false` (label tables of spectra still to
 * be synthesized) no file column is needed. Errors are `<labels>:<line>: …`.
 */
export function parseSpectrumLabelTable(
  text: string,
  labelsPath: string,
  opts: { fileColumn?: boolean } = {},
): { rows: LabelTableRow[]; columns: LabelColumnUse[]; ignoredColumns: string[] } {
  const needFile = opts.fileColumn ?? true;
  const lines = text.split(/\r?\n/);
  let h = 0;
  while (h < lines.length && isSkipped(lines[h].trim())) h++;
  if (h === lines.length) throw new Error(`${labelsPath}: empty label table (no header row)`);
  const headerText = lines[h].replace(/^\uFEFF/, '');
  const delim = headerText.includes(',')
    ? ','
    : headerText.includes('\t')
      ? '\t'
      : headerText.includes(';')
        ? ';'
        : ' ';
  const header = splitCsvLine(headerText, delim).map((f) => f.replace(/^"(.*)"$/, '$1'));
  const where = `${labelsPath}:${h + 1}`;
  const norm = header.map(normalizeHeader);
  const used = new Set<number>();
  const fileIdx = needFile ? norm.findIndex((n) => FILE_COLUMN_NAMES.includes(n)) : -1;
  if (needFile && fileIdx < 0) throw new Error(`${where}: no 'file' column in header [${header.join(', ')}]`);
  if (fileIdx >= 0) used.add(fileIdx);
  const columns: (LabelColumnUse & { index: number })[] = [];
  const missing: string[] = [];
  for (const c of SPECTRUM_LABEL_TABLE_COLUMNS) {
    const exact = [c.column, c.key].map(normalizeHeader);
    let index = norm.findIndex((n) => exact.includes(n));
    let alias = false;
    if (index < 0) {
      const hits = norm.flatMap((n, i) => (c.aliases.includes(n) ? [i] : []));
      if (hits.length > 1)
        throw new Error(
          `${where}: columns ${hits.map((i) => `'${header[i]}'`).join(' and ')} both give ${c.column}; keep one`,
        );
      index = hits[0] ?? -1;
      alias = index >= 0;
    }
    if (index < 0) {
      missing.push(c.column + (c.aliases.length ? ` (or ${c.aliases.join(', ')})` : ''));
      continue;
    }
    used.add(index);
    columns.push({ key: c.key, column: c.column, header: header[index], alias, index });
  }
  if (missing.length) {
    throw new Error(
      `${where}: missing label column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; header is [${header.join(', ')}] (the spectrum datasets need teff_k, logg, vsini_kms, mh, vmic_kms, resolution)`,
    );
  }
  const ignoredColumns = header.filter((_, i) => !used.has(i));
  const base = dirname(labelsPath);
  const rows: LabelTableRow[] = [];
  for (let k = h + 1; k < lines.length; k++) {
    const t = lines[k].trim();
    if (isSkipped(t)) continue;
    const at = `${labelsPath}:${k + 1}`;
    const fields = splitCsvLine(lines[k], delim);
    if (fields.length !== header.length)
      throw new Error(
        `${at}: expected ${header.length} fields as in the header (line ${h + 1}), found ${fields.length}`,
      );
    const file = fileIdx >= 0 ? fields[fileIdx] : '';
    if (needFile && file === '') throw new Error(`${at}: empty 'file' field`);
    const labels: Record<string, number> = {};
    for (const c of columns) {
      const raw = fields[c.index];
      const v = NUMBER_RE.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isFinite(v))
        throw new Error(`${at}: column ${c.column}: expected a number, found '${raw}'`);
      const domain = SPECTRUM_LABEL_TABLE_COLUMNS.find((d) => d.key === c.key)!.domain;
      if (domain === 'positive' && !(v > 0))
        throw new Error(`${at}: column ${c.column}: expected a positive number, found '${raw}'`);
      if (domain === 'nonnegative' && !(v >= 0))
        throw new Error(`${at}: column ${c.column}: expected a number >= 0, found '${raw}'`);
      labels[c.key] = v;
    }
    rows.push({ line: k + 1, file, path: file === '' ? '' : isAbsolute(file) ? file : join(base, file), labels });
  }
  return { rows, columns: columns.map(({ index: _index, ...c }) => c), ignoredColumns };
}

/** Shortest round-trip text of a wavelength (so "needs" and "has" never print alike when they differ). */
const fmt = (v: number) => String(v);

/**
 * The wavelength range a spectrum must cover for every grid pixel to get a value: the first and
 * last pixel centres for `linear`, the outer pixel edges for `average` (computed as
 * {@link resampleSpectrum} does, so the check and the resampling agree to the last bit).
 */
export function requiredCoverageAngstrom(
  grid: SpectrumGrid,
  method: 'linear' | 'average' = 'linear',
): { min: number; max: number } {
  const s = grid.startAngstrom;
  const d = grid.stepAngstrom;
  if (method === 'average') return { min: s + -0.5 * d, max: s + (grid.n - 1 - 0.5) * d + d };
  return { min: s, max: s + (grid.n - 1) * d };
}

/** Read a spectrum file once: sha256 of its bytes, gunzip when gzip, CSV reader for `.csv` / `.csv.gz`, else two-column text. */
async function readSpectrumFile(
  path: string,
): Promise<{ spectrum: Spectrum1D; sha256: string; bytes: number }> {
  const buf = await readFile(path);
  const sha256 = createHash('sha256').update(buf).digest('hex');
  let text: string;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      text = gunzipSync(buf).toString('utf8');
    } catch (err) {
      throw new Error(`${path}: truncated or corrupt gzip data (${(err as Error).message})`);
    }
  } else text = buf.toString('utf8');
  const spectrum = /\.csv(\.gz)?$/i.test(path) ? parseSpectrumCsv(text, path) : parseSpectrumText(text, path);
  return { spectrum, sha256, bytes: buf.length };
}

/**
 * Build a spectrum dataset from real spectra listed in a CSV label table.
 *
 * The table (read whole: it holds labels only) has a header row with a `file` column (`filename`
 * and `path` also accepted) giving each spectrum's path relative to the table's folder (or
 * absolute), and the six label columns of {@link SPECTRUM_LABEL_TABLE_COLUMNS} (teff_k, logg,
 * vsini_kms, mh, vmic_kms, resolution; aliases teff, vsini, feh, vmic). Other columns are ignored
 * (reported in `ignoredColumns`). Blank lines and lines starting with `#` are skipped. The whole
 * table is checked (numbers, files exist) before the dataset is touched.
 *
 * Each spectrum is read by itself (`.csv` / `.csv.gz` with {@link parseSpectrumCsv}, anything else
 * with the two-column {@link parseSpectrumText}; gzip detected from the magic bytes), resampled
 * onto `grid` by {@link resampleSpectrum} — by default linear interpolation in wavelength at each
 * pixel centre, or with `method: 'average'` the exact mean of the piecewise-linear input over each
 * pixel — optionally continuum-normalized on the grid by {@link normalizeContinuum}, and streamed
 * into {@link writeSpectrumDataset}; only one spectrum is held at a time (plus the writer's current
 * row group). The resampler never extrapolates: a spectrum must cover
 * {@link requiredCoverageAngstrom} and have no gap wider than `maxGapAngstrom` inside it, otherwise
 * ingest stops with an error naming the table line, the file and the ranges (no NaN flux is written).
 *
 * Rows: `source` = the spectrum file (table folder joined with the `file` field), `line` = the
 * table line, `synthetic` = false, split from the id hash (default 90/10, seed 0). The manifest's
 * `inputs` list the table and every spectrum file with their sha256.
 *
 * Errors are plain `Error`s starting `<labels>:<line>: ` (e.g. `labels.csv:7: spectrum file
 * 'x.txt' not found`); on an error the partial Parquet file is removed.
 */
export async function ingestSpectra(opts: IngestSpectraOptions): Promise<IngestSpectraResult> {
  const t0 = performance.now();
  const grid = opts.grid ?? SPECTRUM_DEFAULT_GRID;
  assertGrid('ingestSpectra', grid);
  const method = opts.method ?? 'linear';
  if (method !== 'linear' && method !== 'average')
    throw new Error(`ingestSpectra: unknown method '${String(method)}' (linear or average)`);
  const maxGap = opts.maxGapAngstrom ?? 1;
  if (!(maxGap > 0)) throw new Error(`ingestSpectra: maxGapAngstrom must be > 0, got ${maxGap}`);
  const continuum: ContinuumOptions | null = opts.normalize
    ? opts.normalize === true
      ? {}
      : opts.normalize
    : null;
  const split = opts.split === undefined ? { scheme: '90/10' as const, seed: 0 } : opts.split;

  let tableBytes: Buffer;
  try {
    tableBytes = await readFile(opts.labels);
  } catch (err) {
    throw new Error(`${opts.labels}: cannot read the label table (${(err as Error).message})`);
  }
  const { rows, columns, ignoredColumns } = parseSpectrumLabelTable(tableBytes.toString('utf8'), opts.labels);
  if (rows.length === 0) throw new Error(`${opts.labels}: no spectrum rows after the header`);
  for (const r of rows) {
    let ok = false;
    try {
      ok = (await stat(r.path)).isFile();
    } catch {
      ok = false;
    }
    if (!ok)
      throw new Error(
        `${opts.labels}:${r.line}: spectrum file '${r.file}' not found${r.path !== r.file ? ` (${r.path})` : ''}`,
      );
  }

  const need = requiredCoverageAngstrom(grid, method);
  const wavelengths = continuum ? gridWavelengthsAngstrom(grid) : null;
  const inputs: { path: string; sha256: string }[] = [
    { path: opts.labels, sha256: createHash('sha256').update(tableBytes).digest('hex') },
  ];
  let inputBytes = 0;
  let done = 0;
  async function* records(): AsyncGenerator<SpectrumRecord> {
    for (const r of rows) {
      const at = `${opts.labels}:${r.line}`;
      let read: Awaited<ReturnType<typeof readSpectrumFile>>;
      try {
        read = await readSpectrumFile(r.path);
      } catch (err) {
        throw new Error(`${at}: ${(err as Error).message}`);
      }
      inputBytes += read.bytes;
      inputs.push({ path: r.path, sha256: read.sha256 });
      const x = read.spectrum.wavelengthAngstrom;
      const has = `${fmt(x[0])}–${fmt(x[x.length - 1])} Å`;
      if (x[0] > need.min || x[x.length - 1] < need.max) {
        throw new Error(
          `${at}: spectrum file '${r.file}' covers ${has} but the grid needs ${fmt(need.min)}–${fmt(need.max)} Å ` +
            `(${method === 'linear' ? 'first to last pixel centre' : 'outer pixel edges'} of ${grid.n} px from ${fmt(grid.startAngstrom)} Å at ${fmt(grid.stepAngstrom)} Å)`,
        );
      }
      const resampled = resampleSpectrum(read.spectrum, { grid, method, maxGapAngstrom: maxGap });
      let nan = 0;
      for (let i = 0; i < resampled.length; i++) if (resampled[i] !== resampled[i]) nan++;
      if (nan > 0) {
        let gap = '';
        for (let i = 1; i < x.length && !gap; i++) {
          if (x[i] - x[i - 1] > maxGap && x[i] > need.min && x[i - 1] < need.max)
            gap = ` between ${fmt(x[i - 1])} and ${fmt(x[i])} Å (wider than maxGapAngstrom = ${maxGap} Å)`;
        }
        throw new Error(
          `${at}: spectrum file '${r.file}' (${has}) leaves ${nan} of ${grid.n} grid pixels without flux: a gap in its samples${gap}`,
        );
      }
      const flux = continuum ? normalizeContinuum(wavelengths!, resampled, continuum).flux : resampled;
      const rec: Omit<SpectrumRecord, 'id'> = {
        source: r.path,
        line: r.line,
        labels: r.labels,
        wavelengthStartAngstrom: grid.startAngstrom,
        wavelengthStepAngstrom: grid.stepAngstrom,
        flux: Array.from(flux),
        synthetic: false,
        split: null,
      };
      done++;
      yield { id: spectrumContentId(rec), ...rec };
      opts.onProgress?.({ done, total: rows.length, file: r.path });
    }
  }

  let manifest: DatasetManifest;
  try {
    manifest = await writeSpectrumDataset(records(), opts.out, {
      split: split ?? undefined,
      inputs,
      fluxType: opts.fluxType,
      notes: {
        ...opts.notes,
        ingest: 'spectra',
        labels: opts.labels,
        grid: { startAngstrom: grid.startAngstrom, stepAngstrom: grid.stepAngstrom, n: grid.n },
        resample: method,
        maxGapAngstrom: maxGap,
        normalize: continuum
          ? { windowAngstrom: continuum.windowAngstrom ?? 20, quantile: continuum.quantile ?? 0.95 }
          : false,
        headers: Object.fromEntries(columns.map((c) => [c.column, c.header])),
        ...(ignoredColumns.length ? { ignoredColumns } : {}),
      },
    });
  } catch (err) {
    await rm(join(opts.out, `${DATA_FILE}.partial`), { force: true });
    throw err;
  }
  return {
    manifest,
    ingested: done,
    columns,
    ignoredColumns,
    seconds: (performance.now() - t0) / 1000,
    inputBytes,
  };
}
