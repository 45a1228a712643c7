// Readers of 1D spectra: two-column text (SYNSPEC fort.7 style) and CSV, gzip accepted, with errors naming file and line.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { isFits } from '../fits/fits.js';
import { parseFitsSpectrum } from '../fits/spectrum.js';
import type { Spectrum1D } from './resample.js';

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][+-]?\d+)?$/;
const NON_FINITE_RE = /^[+-]?(?:nan|inf|infinity)$/i;

/** The bytes, gunzipped when they start with the gzip magic bytes. */
function gunzipIfGzip(buf: Uint8Array, path: string): Uint8Array {
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      return gunzipSync(buf);
    } catch (err) {
      throw new Error(`${path}: truncated or corrupt gzip data (${(err as Error).message})`);
    }
  }
  return buf;
}

/** Read a file as text, gunzipping it when it starts with the gzip magic bytes. */
async function readText(path: string): Promise<string> {
  return Buffer.from(gunzipIfGzip(await readFile(path), path)).toString('utf8');
}

/** Options of the spectrum parsers shared by the text and CSV readers. */
export interface SpectrumParseOptions {
  /**
   * Quote the offending text (a field, a line, the header) in error messages (default true).
   * false: errors name only the file, the line and what was expected — never the file's contents
   * (for files named by someone else's label table, whose errors end up in reports and logs).
   */
  quoteContents?: boolean;
}

/** Parse one numeric field; throws `${source}:${line}: ...` for non-numbers, NaN and Inf. */
function parseField(field: string, what: string, source: string, line: number, quote = true): number {
  const f = field
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .trim();
  const shown = quote ? ` '${f}'` : '';
  if (NON_FINITE_RE.test(f)) throw new Error(`${source}:${line}: ${what}${shown} is not a finite number`);
  if (!NUMBER_RE.test(f)) throw new Error(`${source}:${line}: ${what}${shown} is not a number`);
  const v = Number(f.replace(/[dD]/, 'e'));
  if (!Number.isFinite(v)) throw new Error(`${source}:${line}: ${what}${shown} is not a finite number`);
  return v;
}

class SpectrumBuilder {
  private w: number[] = [];
  private f: number[] = [];
  private lastLine = 0;
  constructor(
    private readonly source: string,
    private readonly quote = true,
  ) {}
  add(wavelength: number, flux: number, line: number): void {
    const n = this.w.length;
    if (!(wavelength > 0))
      throw new Error(
        `${this.source}:${line}: wavelength${this.quote ? ` ${wavelength}` : ''} must be > 0 Å`,
      );
    if (n > 0 && !(wavelength > this.w[n - 1])) {
      throw new Error(
        this.quote
          ? `${this.source}:${line}: wavelength ${wavelength} does not increase (previous ${this.w[n - 1]} on line ${this.lastLine})`
          : `${this.source}:${line}: wavelength does not increase (not above the one on line ${this.lastLine})`,
      );
    }
    this.w.push(wavelength);
    this.f.push(flux);
    this.lastLine = line;
  }
  build(): Spectrum1D {
    if (this.w.length === 0) throw new Error(`${this.source}: empty file (no data rows)`);
    if (this.w.length < 2)
      throw new Error(
        `${this.source}: only one data row (line ${this.lastLine}); a spectrum needs at least 2`,
      );
    return {
      wavelengthAngstrom: Float64Array.from(this.w),
      flux: Float64Array.from(this.f),
      source: this.source,
    };
  }
}

function isComment(trimmed: string): boolean {
  return trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('!') || trimmed.startsWith('%');
}

/**
 * Parse whitespace-separated text with at least two numbers per row: wavelength (Å) and flux
 * (SYNSPEC `fort.7` style; extra columns are ignored). Blank lines and lines starting with
 * `#`, `!` or `%` are skipped; Fortran `D` exponents are accepted. Wavelengths must increase.
 * @param source name used in error messages (`source:line: ...`)
 */
export function parseSpectrumText(text: string, source: string, opts: SpectrumParseOptions = {}): Spectrum1D {
  const quote = opts.quoteContents ?? true;
  const b = new SpectrumBuilder(source, quote);
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (isComment(t)) continue;
    const fields = t.split(/\s+/);
    if (fields.length < 2)
      throw new Error(
        `${source}:${i + 1}: expected 2 numbers (wavelength, flux), found ${fields.length}${quote ? ` ('${t}')` : ''}`,
      );
    b.add(
      parseField(fields[0], 'wavelength', source, i + 1, quote),
      parseField(fields[1], 'flux', source, i + 1, quote),
      i + 1,
    );
  }
  return b.build();
}

/** Read a two-column text spectrum (gzip accepted); see {@link parseSpectrumText}. */
export async function readSpectrumText(path: string): Promise<Spectrum1D> {
  return parseSpectrumText(await readText(path), path);
}

/** Options of {@link parseSpectrumCsv} / {@link readSpectrumCsv}. */
export interface CsvSpectrumOptions extends SpectrumParseOptions {
  /** Wavelength column: header name or 0-based index. Default: the first header matching wave/wl/lambda, else column 0. */
  wavelengthColumn?: string | number;
  /** Flux column: header name or 0-based index. Default: the first header containing "flux", else column 1. */
  fluxColumn?: string | number;
  /** Field delimiter; default: ',' (or tab / ';' when the first row has no comma). */
  delimiter?: string;
}

/**
 * Parse a CSV spectrum. Lines starting with `#` are comments; the first other line is a header
 * when any of its fields is not a number. Wavelength in Å, strictly increasing.
 */
export function parseSpectrumCsv(text: string, source: string, opts: CsvSpectrumOptions = {}): Spectrum1D {
  const quote = opts.quoteContents ?? true;
  const lines = text.split(/\r?\n/);
  let i = 0;
  while (i < lines.length && isComment(lines[i].trim())) i++;
  if (i === lines.length) throw new Error(`${source}: empty file (no data rows)`);
  const first = lines[i].trim();
  const delim =
    opts.delimiter ??
    (first.includes(',') ? ',' : first.includes('\t') ? '\t' : first.includes(';') ? ';' : ',');
  const firstFields = first.split(delim).map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
  const hasHeader = firstFields.some((f) => !NUMBER_RE.test(f) && !NON_FINITE_RE.test(f));
  const pick = (spec: string | number | undefined, re: RegExp, fallback: number, what: string): number => {
    if (typeof spec === 'number') {
      if (!Number.isInteger(spec) || spec < 0)
        throw new Error(`${source}: ${what} column index ${spec} is invalid`);
      return spec;
    }
    if (typeof spec === 'string') {
      const k = firstFields.indexOf(spec);
      if (!hasHeader || k < 0)
        throw new Error(
          `${source}:${i + 1}: no ${what} column named '${spec}' in the header${quote ? ` [${firstFields.join(', ')}]` : ''}`,
        );
      return k;
    }
    if (hasHeader) {
      const k = firstFields.findIndex((f) => re.test(f));
      if (k >= 0) return k;
    }
    return fallback;
  };
  const wCol = pick(opts.wavelengthColumn, /^(wave|wl|lambda)/i, 0, 'wavelength');
  const fCol = pick(opts.fluxColumn, /flux/i, 1, 'flux');
  if (wCol === fCol) throw new Error(`${source}: wavelength and flux columns are the same (${wCol})`);
  const need = Math.max(wCol, fCol) + 1;
  const b = new SpectrumBuilder(source, quote);
  for (let k = hasHeader ? i + 1 : i; k < lines.length; k++) {
    const t = lines[k].trim();
    if (isComment(t)) continue;
    const fields = t.split(delim);
    if (fields.length < need)
      throw new Error(
        `${source}:${k + 1}: expected at least ${need} fields, found ${fields.length}${quote ? ` ('${t}')` : ''}`,
      );
    b.add(
      parseField(fields[wCol], 'wavelength', source, k + 1, quote),
      parseField(fields[fCol], 'flux', source, k + 1, quote),
      k + 1,
    );
  }
  return b.build();
}

/** Read a CSV spectrum (gzip accepted); see {@link parseSpectrumCsv}. */
export async function readSpectrumCsv(path: string, opts: CsvSpectrumOptions = {}): Promise<Spectrum1D> {
  return parseSpectrumCsv(await readText(path), path, opts);
}

/**
 * Parse a spectrum file's bytes by what they are: FITS (by its `SIMPLE =` first card; see
 * {@link parseFitsSpectrum}), CSV (a name ending in `.csv` / `.csv.gz`), else two-column text;
 * gzip is detected from the magic bytes. `path` names the file in errors.
 */
export function parseSpectrumBytes(
  bytes: Uint8Array,
  path: string,
  opts: SpectrumParseOptions = {},
): Spectrum1D {
  const buf = gunzipIfGzip(bytes, path);
  if (isFits(buf)) return parseFitsSpectrum(buf, path);
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8');
  return /\.csv(\.gz)?$/i.test(path)
    ? parseSpectrumCsv(text, path, opts)
    : parseSpectrumText(text, path, opts);
}

/** Read a spectrum file of any supported kind (FITS, CSV, two-column text; gzip accepted); see {@link parseSpectrumBytes}. */
export async function readSpectrum(path: string, opts: SpectrumParseOptions = {}): Promise<Spectrum1D> {
  return parseSpectrumBytes(await readFile(path), path, opts);
}
