// Ingest of real spectra (SYNSPEC fort.7 two-column text or CSV) listed in a CSV label table: resample onto a grid, optionally normalize, stream into a spectrum dataset.
import { readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { sha256Hex, spectrumContentId } from '../dataset/content-hash.js';
import type { DatasetManifest } from '../dataset/manifest.js';
import type { SplitScheme } from '../dataset/splits.js';
import { QUARANTINE_FILE, writeDatasetAtomic, writeSpectrumDatasetFiles } from '../dataset/write.js';
import { IngestError, nothingIngestedMessage, type QuarantineEntry } from './ingest.js';
import {
  SPECTRUM_DEFAULT_GRID,
  type SpectrumGrid,
  assertGrid,
  gridWavelengthsAngstrom,
} from '../spectra/grid.js';
import { parseSpectrumBytes } from '../spectra/read.js';
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
  /** Called after each spectrum read, ingested or rejected (done counts from 1 to total, the rows whose file exists). */
  onProgress?: (p: { done: number; total: number; file: string }) => void;
  /** Extra provenance stored under `notes` in the manifest. */
  notes?: Record<string, unknown>;
  /**
   * Read spectrum files outside the label table's folder (absolute paths elsewhere, `../`, links
   * leading out). Default false: such rows are rejected, so a table cannot make ingest read
   * arbitrary files.
   */
  allowOutside?: boolean;
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
  /** Rejected rows: the table and line, a code, the reason (`input`: the spectrum file). */
  rejected: QuarantineEntry[];
  /** Path of the quarantine report (`<out>/_quarantine.json`, also written when nothing was rejected). */
  quarantinePath: string;
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

/** A `file` field of a label table as a path: relative to the table's folder, or absolute. */
function resolveTableFile(base: string, file: string): string {
  return isAbsolute(file) ? file : join(base, file);
}

/** Whether `path` lies inside folder `dir` (or is it), comparing resolved paths. */
function isInside(dir: string, path: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
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
  opts: {
    fileColumn?: boolean;
    /**
     * Receives each bad data row (wrong field count, empty file field, a label that is not a
     * number in its domain) instead of throwing; the row is left out. Header problems still throw.
     */
    onRowError?: (row: { line: number; message: string }) => void;
  } = {},
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
  const parseRow = (k: number): LabelTableRow => {
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
    return { line: k + 1, file, path: file === '' ? '' : resolveTableFile(base, file), labels };
  };
  for (let k = h + 1; k < lines.length; k++) {
    const t = lines[k].trim();
    if (isSkipped(t)) continue;
    if (!opts.onRowError) {
      rows.push(parseRow(k));
      continue;
    }
    try {
      rows.push(parseRow(k));
    } catch (err) {
      opts.onRowError({ line: k + 1, message: (err as Error).message });
    }
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

/** Read a spectrum file once: sha256 of its bytes, and the spectrum ({@link parseSpectrumBytes}: FITS, CSV or text, gzip accepted). */
async function readSpectrumFile(
  path: string,
): Promise<{ spectrum: Spectrum1D; sha256: string; bytes: number }> {
  // Errors name the file, the line (or HDU) and what was expected, never the file's contents.
  const buf = await readFile(path);
  const sha256 = sha256Hex(buf);
  return { spectrum: parseSpectrumBytes(buf, path, { quoteContents: false }), sha256, bytes: buf.length };
}

/**
 * Build a spectrum dataset from real spectra listed in a CSV label table.
 *
 * The table (read whole: it holds labels only) has a header row with a `file` column (`filename`
 * and `path` also accepted) giving each spectrum's path relative to the table's folder (or
 * absolute), and the six label columns of {@link SPECTRUM_LABEL_TABLE_COLUMNS} (teff_k, logg,
 * vsini_kms, mh, vmic_kms, resolution; aliases teff, vsini, feh, vmic). Other columns are ignored
 * (reported in `ignoredColumns`). Blank lines and lines starting with `#` are skipped. A spectrum
 * file outside the table's folder (an absolute path elsewhere, `../`, a link leading out) is
 * refused unless `allowOutside` is set.
 *
 * Each spectrum is read by itself ({@link parseSpectrumBytes}: FITS by its first card — a 1D
 * array with a wavelength WCS or a binary table with wavelength and flux columns —, `.csv` /
 * `.csv.gz` as CSV, anything else as two-column text; gzip detected from the magic bytes), resampled
 * onto `grid` by {@link resampleSpectrum} — by default linear interpolation in wavelength at each
 * pixel centre, or with `method: 'average'` the exact mean of the piecewise-linear input over each
 * pixel — optionally continuum-normalized on the grid by {@link normalizeContinuum}, and streamed
 * into the dataset; only one spectrum is held at a time (plus the writer's current row group).
 * The resampler never extrapolates: a spectrum must cover {@link requiredCoverageAngstrom} and
 * have no gap wider than `maxGapAngstrom` inside it (no NaN flux is written).
 *
 * Quarantine: a bad row — a label that is not a number in its domain, a file that is missing,
 * outside the folder, unreadable, damaged gzip, not a spectrum, not covering the grid or with a
 * gap — is rejected with `<labels>:<line>: <reason>` (never quoting the spectrum file's contents)
 * and ingest goes on; the rejects are listed in `rejected` and in `<out>/_quarantine.json`. Only
 * when no row is good is an {@link IngestError} thrown (listing the reasons). Problems of the
 * table itself (unreadable, no header, a missing column) throw at once.
 *
 * The dataset directory is replaced as a whole, only when complete ({@link writeDatasetAtomic}):
 * on any error an existing dataset at `out` stays readable and byte-identical.
 *
 * Rows: `source` = the spectrum file (table folder joined with the `file` field), `line` = the
 * table line, `synthetic` = false, split from the id hash (default 90/10, seed 0). The manifest's
 * `inputs` list the table and every ingested spectrum file with their sha256.
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
  const rejected: QuarantineEntry[] = [];
  const reject = (line: number, code: string, reason: string, input?: string) =>
    rejected.push({ file: opts.labels, line, code, reason, ...(input ? { input } : {}) });
  const {
    rows: tableRows,
    columns,
    ignoredColumns,
  } = parseSpectrumLabelTable(tableBytes.toString('utf8'), opts.labels, {
    onRowError: (e) => reject(e.line, 'label', e.message),
  });
  if (tableRows.length === 0 && rejected.length === 0)
    throw new Error(`${opts.labels}: no spectrum rows after the header`);

  // Resolve and check every file before the dataset is touched.
  const base = dirname(opts.labels);
  let realBase: string | null = null;
  const rows: LabelTableRow[] = [];
  for (const r of tableRows) {
    const at = `${opts.labels}:${r.line}`;
    const shown = `spectrum file '${r.file}'${r.path !== r.file ? ` (${r.path})` : ''}`;
    const outside = (how: 'is' | 'links') =>
      reject(
        r.line,
        'outside',
        `${at}: ${shown} ${how} outside the label table's folder ${base || '.'}; refused (allowOutside / --allow-outside reads it)`,
        r.path,
      );
    if (!opts.allowOutside && !isInside(base, r.path)) {
      outside('is');
      continue;
    }
    let ok = false;
    try {
      ok = (await stat(r.path)).isFile();
    } catch {
      ok = false;
    }
    if (!ok) {
      reject(
        r.line,
        'not-found',
        `${at}: spectrum file '${r.file}' not found${r.path !== r.file ? ` (${r.path})` : ''}`,
        r.path,
      );
      continue;
    }
    if (!opts.allowOutside) {
      // A link inside the folder may lead out of it.
      realBase ??= await realpath(base || '.');
      if (!isInside(realBase, await realpath(r.path))) {
        outside('links');
        continue;
      }
    }
    rows.push(r);
  }
  const total = tableRows.length + rejected.filter((r) => r.code === 'label').length;
  const byLine = () => rejected.sort((a, b) => a.line - b.line);
  if (rows.length === 0)
    throw new IngestError(nothingIngestedMessage('rows were', opts.out, byLine()), [...rejected]);

  const need = requiredCoverageAngstrom(grid, method);
  const wavelengths = continuum ? gridWavelengthsAngstrom(grid) : null;
  const inputs: { path: string; sha256: string }[] = [{ path: opts.labels, sha256: sha256Hex(tableBytes) }];
  let inputBytes = 0;
  let done = 0;
  let processed = 0;
  /** The resampled (and normalized) flux of row `r`, or an Error with `code` saying why not. */
  async function spectrumOf(
    r: LabelTableRow,
    at: string,
  ): Promise<{ flux: Float64Array; sha256: string; bytes: number }> {
    let read: Awaited<ReturnType<typeof readSpectrumFile>>;
    try {
      read = await readSpectrumFile(r.path);
    } catch (err) {
      throw Object.assign(new Error(`${at}: ${(err as Error).message}`), { code: 'unreadable' });
    }
    const x = read.spectrum.wavelengthAngstrom;
    const has = `${fmt(x[0])}–${fmt(x[x.length - 1])} Å`;
    if (x[0] > need.min || x[x.length - 1] < need.max) {
      throw Object.assign(
        new Error(
          `${at}: spectrum file '${r.file}' covers ${has} but the grid needs ${fmt(need.min)}–${fmt(need.max)} Å ` +
            `(${method === 'linear' ? 'first to last pixel centre' : 'outer pixel edges'} of ${grid.n} px from ${fmt(grid.startAngstrom)} Å at ${fmt(grid.stepAngstrom)} Å)`,
        ),
        { code: 'coverage' },
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
      throw Object.assign(
        new Error(
          `${at}: spectrum file '${r.file}' (${has}) leaves ${nan} of ${grid.n} grid pixels without flux: a gap in its samples${gap}`,
        ),
        { code: 'gap' },
      );
    }
    const flux = continuum ? normalizeContinuum(wavelengths!, resampled, continuum).flux : resampled;
    return { flux: Float64Array.from(flux), sha256: read.sha256, bytes: read.bytes };
  }
  async function* records(): AsyncGenerator<SpectrumRecord> {
    for (const r of rows) {
      const at = `${opts.labels}:${r.line}`;
      processed++;
      let s: Awaited<ReturnType<typeof spectrumOf>>;
      try {
        s = await spectrumOf(r, at);
      } catch (err) {
        reject(r.line, (err as { code?: string }).code ?? 'unreadable', (err as Error).message, r.path);
        opts.onProgress?.({ done: processed, total: rows.length, file: r.path });
        continue;
      }
      inputBytes += s.bytes;
      inputs.push({ path: r.path, sha256: s.sha256 });
      const rec: Omit<SpectrumRecord, 'id'> = {
        source: r.path,
        line: r.line,
        labels: r.labels,
        wavelengthStartAngstrom: grid.startAngstrom,
        wavelengthStepAngstrom: grid.stepAngstrom,
        flux: Array.from(s.flux),
        synthetic: false,
        split: null,
      };
      done++;
      yield { id: spectrumContentId(rec), ...rec };
      opts.onProgress?.({ done: processed, total: rows.length, file: r.path });
    }
  }

  const manifest = await writeDatasetAtomic(opts.out, async (stage) => {
    const m = await writeSpectrumDatasetFiles(records(), stage, {
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
        rejected: rejected.length,
      },
    });
    byLine();
    if (done === 0)
      throw new IngestError(nothingIngestedMessage('rows were', opts.out, rejected), [...rejected]);
    await writeFile(
      join(stage, QUARANTINE_FILE),
      `${JSON.stringify({ labels: opts.labels, rows: total, ingested: done, rejected }, null, 2)}\n`,
    );
    return m;
  });
  return {
    manifest,
    ingested: done,
    columns,
    ignoredColumns,
    seconds: (performance.now() - t0) / 1000,
    inputBytes,
    rejected,
    quarantinePath: join(opts.out, QUARANTINE_FILE),
  };
}
