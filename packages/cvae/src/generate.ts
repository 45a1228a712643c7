// Generation: the decoder at physical labels with z = 0 or seeded z ~ N(0, I), batched; label-box checks; CSV/Parquet output.
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import {
  MANIFEST_FILE,
  parquetCompressors,
  scaleValue,
  writeFitsSpectra,
  writeSpectrumDataset,
  type SpectrumRecord,
} from '@stellar-emu/grid-io';
import { tf } from '@stellar-emu/nn-core';
import { deriveSeed, Rng } from '@stellar-emu/numerics';
import type { CvaeModelJson, LoadedCvae } from './artifact.js';

/** Options of {@link generateSpectra}. */
export interface GenerateOptions {
  /** 'zero': z = 0 (the mean spectrum); 'sample': z ~ N(0, I) from `seed` (default). */
  z?: 'zero' | 'sample';
  /** Seed of the latent draws: spectrum i uses Rng(deriveSeed(seed, i)), independent of batching. */
  seed?: number;
  /** Spectra per decoder call (default 256). */
  batchSize?: number;
  /** Allow labels outside the training box (default false: an error). */
  allowExtrapolation?: boolean;
}

/** Error for labels outside the training box or missing. */
export class LabelBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelBoxError';
  }
}

/**
 * Physical labels (objects keyed by record key — teffK, logg, vsiniKms, mh, vmicKms, resolution —
 * or by dataset column name) → a row-major Float64Array [n * L] in the model's label order.
 * Outside the training box is an error naming the label, value and box unless `allowExtrapolation`.
 */
export function labelMatrix(
  meta: CvaeModelJson,
  rows: Record<string, number>[],
  allowExtrapolation = false,
): Float64Array {
  const L = meta.labels.length;
  const out = new Float64Array(rows.length * L);
  rows.forEach((row, i) => {
    meta.labels.forEach((l, j) => {
      const v = row[l.key] ?? row[l.column];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new LabelBoxError(
          `spectrum ${i}: label ${l.key} (${l.column}) is missing or not a finite number (got ${String(v)}); the model needs ${meta.labels.map((x) => x.key).join(', ')}`,
        );
      }
      if (!allowExtrapolation && (v < l.rangeMin || v > l.rangeMax)) {
        throw new LabelBoxError(
          `spectrum ${i}: ${l.key} = ${v} is outside the training box [${l.rangeMin}, ${l.rangeMax}]; the emulator is only validated inside it (pass allowExtrapolation / --allow-extrapolation to generate anyway)`,
        );
      }
      out[i * L + j] = v;
    });
  });
  return out;
}

/**
 * Generate continuum-normalized spectra at physical labels [n * L] (from {@link labelMatrix}).
 * Returns flux as a row-major Float32Array [n * N] on the model's wavelength grid.
 */
export async function generateSpectra(
  loaded: LoadedCvae,
  labels: Float64Array,
  opts: GenerateOptions = {},
): Promise<Float32Array> {
  const { meta, model } = loaded;
  const L = meta.labels.length;
  const N = meta.config.nPixels;
  const d = meta.config.latentDim;
  const n = labels.length / L;
  if (!Number.isInteger(n)) throw new Error(`labels has ${labels.length} values, not a multiple of ${L}`);
  const batchSize = opts.batchSize ?? 256;
  const seed = opts.seed ?? 0;
  const out = new Float32Array(n * N);
  for (let start = 0; start < n; start += batchSize) {
    const b = Math.min(batchSize, n - start);
    const c = new Float32Array(b * L);
    for (let i = 0; i < b; i++)
      for (let j = 0; j < L; j++) c[i * L + j] = scaleValue(labels[(start + i) * L + j], meta.labels[j]);
    const z = new Float32Array(b * d);
    if ((opts.z ?? 'sample') === 'sample') {
      for (let i = 0; i < b; i++) {
        const rng = new Rng(deriveSeed(seed, start + i));
        for (let k = 0; k < d; k++) z[i * d + k] = rng.normal();
      }
    }
    const zT = tf.tensor2d(z, [b, d]);
    const cT = tf.tensor2d(c, [b, L]);
    const flux = model.generateFlux(zT, cT);
    zT.dispose();
    cT.dispose();
    out.set((await flux.data()) as Float32Array, start * N);
    flux.dispose();
  }
  return out;
}

/**
 * The CVAE as an emulator under test (param-nn `validateEmulatorOnDataset`'s `emulator`): spectra
 * at labels given by record key (`labelMatrix`), z ~ N(0, I) from each batch's seed, with the
 * model's training label box and pixel count.
 */
export function cvaeEmulator(loaded: LoadedCvae): {
  name: string;
  numPixels: number;
  labelRanges: Record<string, { min: number; max: number }>;
  generator: (labels: Record<string, number>[], opts: { seed: number }) => Promise<Float32Array>;
} {
  const { meta } = loaded;
  return {
    name: 'CVAE',
    numPixels: meta.wavelength.nPixels,
    labelRanges: Object.fromEntries(meta.labels.map((l) => [l.key, { min: l.rangeMin, max: l.rangeMax }])),
    generator: (labels, { seed }) =>
      generateSpectra(loaded, labelMatrix(meta, labels), { seed, z: 'sample' }),
  };
}

/** Wavelengths in Å of the model's grid. */
export function wavelengthGrid(meta: CvaeModelJson): Float64Array {
  const { startAngstrom, stepAngstrom, nPixels } = meta.wavelength;
  return Float64Array.from({ length: nPixels }, (_, i) => startAngstrom + i * stepAngstrom);
}

/** Who generated a file: written into CSV comments, FITS header cards and manifest notes. */
export interface GeneratedBy {
  /** stellar-emu version. */
  version: string;
  /** The model directory (absolute). */
  modelDir: string;
  /** sha256 of the model's weights file. */
  weightsSha256: string;
  /** Seed of the latent draws, and whether z was drawn or zero. */
  seed: number;
  z: 'sample' | 'zero';
}

/** The wavelength medium of the model's training spectra, when recorded (`training.medium`). */
function modelMedium(meta: CvaeModelJson): 'air' | 'vacuum' | undefined {
  const m = meta.training?.medium;
  return m === 'air' || m === 'vacuum' ? m : undefined;
}

/** Label units as FITS unit strings (the model's label keys), '' for dex and dimensionless labels. */
const LABEL_UNITS: Record<string, string> = {
  teffK: 'K',
  logg: '',
  vsiniKms: 'km/s',
  mh: '',
  vmicKms: 'km/s',
  resolution: '',
};

/**
 * CSV: `#` comment lines naming stellar-emu, the model (directory and weights sha256), the draw
 * and the units; then the header `wavelength_angstrom,flux_0,...` and one row per pixel
 * (wavelength in Å, then each spectrum's continuum-normalized flux).
 */
export async function writeSpectraCsv(
  path: string,
  meta: CvaeModelJson,
  flux: Float32Array,
  by?: GeneratedBy,
): Promise<void> {
  const N = meta.config.nPixels;
  const n = flux.length / N;
  const wl = wavelengthGrid(meta);
  const medium = modelMedium(meta);
  const lines: string[] = [];
  if (by) {
    lines.push(
      `# stellar-emu ${by.version} CVAE ${by.modelDir} (weights sha256 ${by.weightsSha256}); z ${by.z === 'zero' ? '= 0' : `~ N(0, I), seed ${by.seed}`}`,
    );
    lines.push(
      `# units: wavelength_angstrom Å (${medium ?? 'air or vacuum not recorded'}); flux_i continuum-normalized (dimensionless)`,
    );
  }
  lines.push(['wavelength_angstrom', ...Array.from({ length: n }, (_, i) => `flux_${i}`)].join(','));
  for (let p = 0; p < N; p++) {
    const row = [wl[p].toFixed(6)];
    for (let i = 0; i < n; i++) row.push(String(flux[i * N + p]));
    lines.push(row.join(','));
  }
  await writeFile(path, `${lines.join('\n')}\n`);
}

/**
 * FITS (grid-io `writeFitsSpectra`): the flux array on the model's wavelength grid with its WCS
 * in Å, the labels in the `LABELS` extension with their units, and the model's provenance as
 * header cards (ORIGIN, SOFTWARE version, MODELSHA = weights sha256, SEED, ZDRAW) — opens in
 * astropy and `specutils.Spectrum.read` with its units.
 */
export async function writeSpectraFits(
  path: string,
  meta: CvaeModelJson,
  labels: Float64Array,
  flux: Float32Array,
  by: GeneratedBy,
): Promise<void> {
  const dir = by.modelDir;
  await writeFitsSpectra(path, {
    startAngstrom: meta.wavelength.startAngstrom,
    stepAngstrom: meta.wavelength.stepAngstrom,
    nPixels: meta.config.nPixels,
    flux,
    fluxUnit: '',
    fluxDescription: 'continuum-normalized flux',
    medium: modelMedium(meta),
    labels: {
      names: meta.labels.map((l) => l.key),
      units: meta.labels.map((l) => LABEL_UNITS[l.key] ?? ''),
      values: labels,
    },
    provenance: {
      ORIGIN: 'stellar-emu',
      SOFTWARE: `stellar-emu ${by.version}`,
      MODELSHA: by.weightsSha256,
      SEED: by.seed,
      ZDRAW: by.z,
    },
    comments: [
      `Generated by the CVAE in ${dir}`,
      'Flux: continuum-normalized; labels: HDU LABELS (LABELn, LUNITn)',
    ],
  });
}

/** The generated spectra as grid-io spectrum records (labels by record key, physical units). */
export function* spectrumRecords(
  meta: CvaeModelJson,
  labels: Float64Array,
  flux: Float32Array,
  source: string,
): Generator<SpectrumRecord> {
  const N = meta.config.nPixels;
  const L = meta.labels.length;
  for (let i = 0; i < flux.length / N; i++) {
    const rec: Record<string, number> = {};
    meta.labels.forEach((l, j) => (rec[l.key] = labels[i * L + j]));
    yield {
      id: `cvae-${i}`,
      source,
      line: 0,
      labels: rec,
      wavelengthStartAngstrom: meta.wavelength.startAngstrom,
      wavelengthStepAngstrom: meta.wavelength.stepAngstrom,
      flux: Array.from(flux.subarray(i * N, (i + 1) * N)),
      synthetic: true,
      split: null,
    };
  }
}

/**
 * Write generated spectra in the grid-io spectrum schema: to a dataset directory
 * (data.parquet + _manifest.json), or, when `out` ends in `.parquet`, to that single file with
 * the manifest beside it as `<name>.manifest.json`.
 */
export async function writeSpectraParquet(
  out: string,
  meta: CvaeModelJson,
  labels: Float64Array,
  flux: Float32Array,
  source: string,
  notes: Record<string, unknown> = {},
): Promise<void> {
  const records = spectrumRecords(meta, labels, flux, source);
  if (!out.endsWith('.parquet')) {
    await writeSpectrumDataset(records, out, { notes: { generator: 'stellar-emu cvae', ...notes } });
    return;
  }
  const tmp = await mkdtemp(join(dirname(out), `.${basename(out)}.tmp-`));
  try {
    await writeSpectrumDataset(records, tmp, { notes: { generator: 'stellar-emu cvae', ...notes } });
    await rename(join(tmp, 'data.parquet'), out);
    await rename(join(tmp, MANIFEST_FILE), out.replace(/\.parquet$/, '.manifest.json'));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Read a label table: CSV with a header row (record keys or column names), or a Parquet file. */
export async function readLabelTable(path: string): Promise<Record<string, number>[]> {
  if (path.endsWith('.parquet')) {
    const rows = (await parquetReadObjects({
      file: await asyncBufferFromFile(path),
      compressors: parquetCompressors,
    })) as Record<string, unknown>[];
    return rows.map((r) =>
      Object.fromEntries(
        Object.entries(r)
          .filter(([, v]) => typeof v === 'number' || typeof v === 'bigint')
          .map(([k, v]) => [k, Number(v)]),
      ),
    );
  }
  const text = await readFile(path, 'utf8');
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length < 2) throw new Error(`${path}: expected a header row and at least one row of labels`);
  const header = lines[0].split(',').map((h) => h.trim());
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    if (cells.length !== header.length)
      throw new Error(`${path}:${i + 2}: ${cells.length} cells, header has ${header.length}`);
    return Object.fromEntries(header.map((h, j) => [h, Number(cells[j])]));
  });
}
