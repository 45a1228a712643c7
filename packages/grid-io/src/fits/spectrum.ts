// 1D spectra in FITS: read what observatories ship (primary/IMAGE arrays with a linear or log-linear
// wavelength WCS, binary tables with wavelength and flux columns), write generated spectra that
// astropy and specutils open with units.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { writeFileAtomic } from '../dataset/atomic-dir.js';
import type { Spectrum1D } from '../spectra/resample.js';
import {
  type FitsColumn,
  type FitsHdu,
  type FitsHeader,
  encodeFits,
  fitsCard,
  isFits,
  parseFits,
  readFitsImage,
  readFitsTable,
} from './fits.js';

/** Å per unit of a wavelength unit string as FITS files write it (CUNITn, TUNITn, IRAF's WAT `units=`). */
const ANGSTROM_PER: Record<string, number> = {
  angstrom: 1,
  angstroms: 1,
  aa: 1,
  a: 1,
  å: 1,
  '0.1nm': 1,
  '0.1 nm': 1,
  nm: 10,
  nanometer: 10,
  nanometers: 10,
  um: 1e4,
  micron: 1e4,
  microns: 1e4,
  micrometer: 1e4,
  mum: 1e4,
  m: 1e10,
  cm: 1e8,
  mm: 1e7,
};

function angstromPer(unit: string, where: string): number {
  const f = ANGSTROM_PER[unit.trim().toLowerCase()];
  if (f === undefined)
    throw new Error(
      `${where}: wavelength unit '${unit}' is not a length unit this reader knows (Å, nm, µm, m)`,
    );
  return f;
}

/** A spectrum read from FITS: the samples, plus which HDU and what layout they came from. */
export interface FitsSpectrum extends Spectrum1D {
  /** HDU index the spectrum was read from. */
  hdu: number;
  /** 'image' (array + WCS) or 'table' (binary-table columns). */
  layout: 'image' | 'table';
  /** Samples dropped because their flux or wavelength was NaN (BLANK, TNULL, NaN). */
  droppedSamples: number;
  /** 'air' when the file says so (CTYPE1 AWAV, AIRORVAC = 'air'), 'vacuum' for CTYPE1 WAVE (the WCS standard's meaning) or AIRORVAC = 'vac'; else undefined (IRAF's LINEAR says nothing). */
  medium?: 'air' | 'vacuum';
}

function mediumOf(h: FitsHeader): 'air' | 'vacuum' | undefined {
  const ctype = (h.string('CTYPE1') ?? '').trim().toUpperCase();
  if ((h.string('AIRORVAC') ?? '').trim().toLowerCase() === 'unknown') return undefined;
  if (ctype.startsWith('AWAV')) return 'air';
  if (ctype.startsWith('WAVE')) return 'vacuum'; // FITS WCS paper III: WAVE is the vacuum wavelength
  const v = (h.string('AIRORVAC') ?? h.string('VACUUM') ?? '').trim().toLowerCase();
  if (v.startsWith('air')) return 'air';
  if (v.startsWith('vac')) return 'vacuum';
  return undefined;
}

/** Wavelengths (Å) of the pixels of a 1D image from its WCS (FITS WCS papers I and III; IRAF's DC-FLAG). */
function imageWavelengths(h: FitsHeader, n: number, where: string): Float64Array {
  const ctype = (h.string('CTYPE1') ?? '').trim().toUpperCase();
  if (!h.has('CRVAL1')) throw new Error(`${where}: a 1D array without a wavelength solution (no CRVAL1)`);
  const base = ctype.split('-')[0];
  if (
    ctype !== '' &&
    !['WAVE', 'AWAV', 'LINEAR', 'ANGSTROM', 'ANGSTROMS', 'LAMBDA', 'WAVELENGTH', 'PIXEL'].includes(base)
  )
    throw new Error(`${where}: CTYPE1 = '${ctype}' is not a wavelength axis (WAVE, AWAV, LINEAR)`);
  const crval = h.number('CRVAL1', where);
  const cdelt = h.has('CDELT1') ? h.number('CDELT1', where) : h.number('CD1_1', where);
  const pc = h.number('PC1_1', where, 1);
  const crpix = h.number('CRPIX1', where, 0);
  let unit = h.string('CUNIT1');
  if (unit === undefined) {
    const wat = `${h.string('WAT1_001') ?? ''}`;
    const m = /units=(\w+)/i.exec(wat);
    if (m) unit = m[1];
    else if (base === 'WAVE' || base === 'AWAV')
      unit = 'm'; // the WCS standard's default
    else unit = 'angstrom'; // IRAF LINEAR / ANGSTROM
  }
  const f = angstromPer(unit, where);
  const logLinear = ctype.endsWith('-LOG');
  const dcFlag = h.number('DC-FLAG', where, 0);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const dp = (i + 1 - crpix) * cdelt * pc;
    const w = dcFlag === 1 ? 10 ** (crval + dp) : logLinear ? crval * Math.exp(dp / crval) : crval + dp;
    out[i] = w * f;
  }
  return out;
}

const WAVE_COLUMN = /^(wave|wavelength|wavelen|lambda|lam|wl|awav|wave_air|wave_vac)$/i;
const LOG_WAVE_COLUMN = /^(loglam|loglambda|log_wave|logwave)$/i;

function findColumns(columns: FitsColumn[]): { wave?: FitsColumn; log: boolean; flux?: FitsColumn } {
  const numeric = columns.filter((c) => c.values.length > 0);
  let wave = numeric.find((c) => WAVE_COLUMN.test(c.name));
  let log = false;
  if (!wave) {
    wave = numeric.find((c) => LOG_WAVE_COLUMN.test(c.name));
    log = wave !== undefined;
  }
  const flux =
    numeric.find((c) => /^flux$/i.test(c.name)) ??
    numeric.find((c) => /flux/i.test(c.name) && !/err|ivar|sig|unc|var|mask|qual/i.test(c.name));
  return { wave, log, flux };
}

/** Drop samples with a non-finite wavelength or flux; put decreasing wavelengths in increasing order; check they increase strictly. */
function finish(
  w: Float64Array,
  f: Float64Array,
  where: string,
): { w: Float64Array; f: Float64Array; dropped: number } {
  const keep: number[] = [];
  for (let i = 0; i < w.length; i++) if (Number.isFinite(w[i]) && Number.isFinite(f[i])) keep.push(i);
  if (keep.length < 2)
    throw new Error(`${where}: fewer than 2 samples with a finite wavelength and flux (of ${w.length})`);
  if (w[keep[0]] > w[keep[keep.length - 1]]) keep.reverse();
  const ww = Float64Array.from(keep, (i) => w[i]);
  const ff = Float64Array.from(keep, (i) => f[i]);
  for (let i = 1; i < ww.length; i++)
    if (!(ww[i] > ww[i - 1]))
      throw new Error(`${where}: wavelengths do not increase strictly (sample ${keep[i]})`);
  if (ww[0] < 100 || ww[ww.length - 1] > 1e7)
    throw new Error(
      `${where}: wavelengths ${ww[0].toPrecision(6)}–${ww[ww.length - 1].toPrecision(6)} Å are not those of a spectrum (check CUNIT1/TUNIT)`,
    );
  return { w: ww, f: ff, dropped: w.length - keep.length };
}

function fromImage(buf: Uint8Array, hdu: FitsHdu, source: string): FitsSpectrum {
  const where = `${source}: HDU ${hdu.index}`;
  const { axes, values } = readFitsImage(buf, hdu, source);
  if (axes.slice(1).some((a) => a !== 1))
    throw new Error(
      `${where}: a ${axes.join(' × ')} array holds several spectra (orders or fibres); ingest reads one 1D spectrum per file`,
    );
  const w = imageWavelengths(hdu.header, axes[0], where);
  const r = finish(w, values, where);
  return {
    wavelengthAngstrom: r.w,
    flux: r.f,
    source,
    hdu: hdu.index,
    layout: 'image',
    droppedSamples: r.dropped,
    medium: mediumOf(hdu.header),
  };
}

function fromTable(buf: Uint8Array, hdu: FitsHdu, source: string): FitsSpectrum | undefined {
  const where = `${source}: HDU ${hdu.index}`;
  const { rows, columns } = readFitsTable(buf, hdu, source);
  const { wave, log, flux } = findColumns(columns);
  if (!wave || !flux) return undefined;
  if (wave.repeat !== flux.repeat)
    throw new Error(
      `${where}: column ${wave.name} has ${wave.repeat} values per row, ${flux.name} ${flux.repeat}`,
    );
  if (wave.repeat > 1 && rows > 1)
    throw new Error(
      `${where}: ${rows} rows of ${wave.repeat}-element spectra; ingest reads one 1D spectrum per file`,
    );
  const f = log ? 1 : angstromPer(wave.unit ?? 'angstrom', `${where} column ${wave.name}`);
  const w = Float64Array.from(wave.values, (v) => (log ? 10 ** v : v * f));
  const r = finish(w, flux.values, where);
  const medium = /air/i.test(wave.name) ? 'air' : /vac/i.test(wave.name) ? 'vacuum' : mediumOf(hdu.header);
  return {
    wavelengthAngstrom: r.w,
    flux: r.f,
    source,
    hdu: hdu.index,
    layout: 'table',
    droppedSamples: r.dropped,
    medium,
  };
}

/**
 * Read a 1D spectrum from FITS bytes: the first HDU that holds one — a primary or IMAGE array of
 * one spectrum (any BITPIX, BSCALE/BZERO, BLANK) with a linear (CRVAL1, CDELT1 or CD1_1, CRPIX1,
 * PC1_1), log-linear (CTYPE1 `WAVE-LOG`) or IRAF log10 (DC-FLAG = 1) wavelength solution in
 * CUNIT1 (IRAF's `LINEAR`/`ANGSTROM` axes and WAT `units=` understood; WAVE without CUNIT1 is in
 * metres, as the standard says), or a BINTABLE with a wavelength column (`WAVE`, `wavelength`,
 * `lambda`, … in TUNIT; or `loglam` in log10 Å) and a `flux` column, either one row per pixel or
 * one row of arrays (ESO's Phase 3 spectra). Samples whose flux or wavelength is NaN are dropped
 * (counted in `droppedSamples`; a resampler's gap check then decides). Errors name the file and HDU.
 */
export function parseFitsSpectrum(buf: Uint8Array, source: string): FitsSpectrum {
  const hdus = parseFits(buf, source);
  const seen: string[] = [];
  for (const hdu of hdus) {
    if (hdu.dataBytes === 0) {
      seen.push(`HDU ${hdu.index} (${hdu.kind}) is empty`);
      continue;
    }
    if (hdu.kind === 'primary' || hdu.kind === 'IMAGE') {
      if (hdu.kind === 'IMAGE' && !hdu.header.has('CRVAL1')) {
        seen.push(`HDU ${hdu.index} (IMAGE${hdu.name ? ` ${hdu.name}` : ''}) has no wavelength solution`);
        continue;
      }
      return fromImage(buf, hdu, source);
    }
    if (hdu.kind === 'BINTABLE') {
      const s = fromTable(buf, hdu, source);
      if (s) return s;
      seen.push(
        `HDU ${hdu.index} (BINTABLE${hdu.name ? ` ${hdu.name}` : ''}) has no numeric wavelength and flux columns`,
      );
      continue;
    }
    seen.push(`HDU ${hdu.index} is ${hdu.kind}`);
  }
  throw new Error(`${source}: no 1D spectrum in this FITS file (${seen.join('; ')})`);
}

/** Read a 1D FITS spectrum from a file (`.fits.gz` too); see {@link parseFitsSpectrum}. */
export async function readFitsSpectrum(path: string): Promise<FitsSpectrum> {
  let buf: Uint8Array = await readFile(path);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (err) {
      throw new Error(`${path}: truncated or corrupt gzip data (${(err as Error).message})`);
    }
  }
  if (!isFits(buf)) throw new Error(`${path}: not a FITS file (it does not start with a SIMPLE card)`);
  return parseFitsSpectrum(buf, path);
}

/** What {@link encodeFitsSpectra} writes. */
export interface FitsSpectraInput {
  /** Wavelength of pixel 0 and the step, Å; `nPixels` pixels. */
  startAngstrom: number;
  stepAngstrom: number;
  nPixels: number;
  /** Spectra × nPixels, row-major (spectrum i at [i·nPixels, (i+1)·nPixels)). */
  flux: Float32Array;
  /** Flux unit as a FITS unit string; '' (dimensionless) for continuum-normalized flux. */
  fluxUnit: string;
  /** What the flux is, written as BUNIT's comment (e.g. "continuum-normalized flux"). */
  fluxDescription: string;
  /**
   * 'air' writes CTYPE1 AWAV, 'vacuum' WAVE (FITS WCS paper III); undefined (not known, e.g. a
   * model trained on spectra whose medium was not recorded) writes WAVE with AIRORVAC = 'unknown'
   * (specutils needs a spectral CTYPE for several spectra in one array; LINEAR works only for one).
   */
  medium?: 'air' | 'vacuum';
  /** Labels of each spectrum: names and FITS units (K, km/s, dex, ''), values spectra × names. */
  labels?: { names: string[]; units: string[]; values: Float64Array };
  /** Provenance as header cards (keyword ≤ 8 characters → value), e.g. ORIGIN, MODEL, MODELSHA. */
  provenance?: Record<string, string | number | boolean>;
  /** Free-text COMMENT lines (longer than 72 characters: wrapped; characters outside printable ASCII: '?'). */
  comments?: string[];
}

function commentCards(lines: string[]): string[] {
  const out: string[] = [];
  // FITS headers are printable ASCII: anything else (a path with 'Å', say) becomes '?'.
  for (const line of lines.map((l) => l.replace(/[^\x20-\x7e]/g, '?')))
    for (let i = 0; i < Math.max(1, line.length); i += 72)
      out.push(fitsCard('COMMENT', line.slice(i, i + 72)));
  return out;
}

/**
 * Encode spectra on a uniform wavelength grid as FITS: the primary HDU is the float32 flux array
 * (NAXIS1 = pixels, NAXIS2 = spectra when more than one) with a one-axis spectral WCS in Å
 * (CTYPE1 AWAV or WAVE by `medium`, CUNIT1 Angstrom, WCSAXES 1) and BUNIT, so that
 * `specutils.Spectrum.read(path)` identifies it as `wcs1d-fits` and returns the flux with its unit
 * and the spectral axis as a length; the labels go to an IMAGE extension `LABELS` (spectra × labels,
 * float64, with `LABELn`/`LUNITn` cards naming each column and its unit) — an IMAGE rather than a
 * table, because specutils would take a BINTABLE in HDU 1 for a tabular spectrum. A single
 * spectrum also carries its labels as primary keywords (`TEFF`, `LOGG`, …).
 */
export function encodeFitsSpectra(s: FitsSpectraInput): Buffer {
  const n = s.flux.length / s.nPixels;
  if (!Number.isInteger(n) || n < 1)
    throw new Error(
      `FITS spectra: ${s.flux.length} flux values are not a whole number of ${s.nPixels}-pixel spectra`,
    );
  for (let i = 0; i < s.flux.length; i++)
    if (!Number.isFinite(s.flux[i]))
      throw new Error(
        `FITS spectra: spectrum ${Math.floor(i / s.nPixels)} pixel ${i % s.nPixels} is not finite`,
      );
  const cards = [
    fitsCard('WCSAXES', 1, 'one spectral axis; NAXIS2 counts spectra'),
    s.medium === 'air'
      ? fitsCard('CTYPE1', 'AWAV', 'air wavelength')
      : fitsCard(
          'CTYPE1',
          'WAVE',
          s.medium === 'vacuum' ? 'vacuum wavelength' : 'wavelength; air or vacuum: see AIRORVAC',
        ),
    ...(s.medium === undefined
      ? [fitsCard('AIRORVAC', 'unknown', 'the medium of the wavelengths was not recorded')]
      : []),
    fitsCard('CUNIT1', 'Angstrom'),
    fitsCard('CRPIX1', 1, 'reference pixel (1-based)'),
    fitsCard('CRVAL1', s.startAngstrom, 'wavelength at CRPIX1'),
    fitsCard('CDELT1', s.stepAngstrom, 'wavelength step per pixel'),
    fitsCard('BUNIT', s.fluxUnit, s.fluxDescription),
  ];
  const labels = s.labels;
  if (labels && n === 1)
    labels.names.forEach((name, j) => {
      const key = name
        .replace(/[^A-Za-z0-9_-]/g, '')
        .slice(0, 8)
        .toUpperCase();
      cards.push(fitsCard(key, labels.values[j], labels.units[j] ? `[${labels.units[j]}] ${name}` : name));
    });
  for (const [k, v] of Object.entries(s.provenance ?? {})) cards.push(fitsCard(k, v));
  cards.push(...commentCards(s.comments ?? []));
  const hdus: Parameters<typeof encodeFits>[0] = [
    { kind: 'image', axes: n === 1 ? [s.nPixels] : [s.nPixels, n], bitpix: -32, data: s.flux, cards },
  ];
  if (labels) {
    const L = labels.names.length;
    if (labels.values.length !== n * L)
      throw new Error(`FITS spectra: ${labels.values.length} label values for ${n} spectra × ${L} labels`);
    const lcards = labels.names.flatMap((name, j) => [
      fitsCard(`LABEL${j + 1}`, name, `column ${j + 1} of NAXIS1`),
      fitsCard(`LUNIT${j + 1}`, labels.units[j]),
    ]);
    hdus.push({
      kind: 'image',
      name: 'LABELS',
      axes: [L, n],
      bitpix: -64,
      data: labels.values,
      cards: lcards,
    });
  }
  return encodeFits(hdus);
}

/** Write {@link encodeFitsSpectra}'s file atomically (temporary sibling, fsync, rename). */
export async function writeFitsSpectra(path: string, s: FitsSpectraInput): Promise<void> {
  await writeFileAtomic(path, encodeFitsSpectra(s));
}
