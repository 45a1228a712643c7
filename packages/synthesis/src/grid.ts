// Spectrum grids from PySME: label rows, their content keys, a resumable row store, one intrinsic synthesis per atmosphere, and the dataset.
import { appendFile, mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CVAE_LABEL_RANGES,
  parseSpectrumLabelTable,
  sha256Hex,
  spectrumContentId,
  writeSpectrumDataset,
  type DatasetManifest,
  type SpectrumGrid,
  type SpectrumRecord,
  type SplitScheme,
} from '@stellar-emu/grid-io';
import { Rng, SPEED_OF_LIGHT_KM_S } from '@stellar-emu/numerics';
import { IntensityBroadener } from './broaden.js';
import type { EngineAtmosphere, SmeEngine, WavelengthMedium } from './engine.js';

/** The six labels of one spectrum (the CVAE's): Teff K, log g dex, [M/H] dex, v_mic km/s, v sin i km/s, R = λ/FWHM. */
export interface SpectrumRowLabels {
  teffK: number;
  logg: number;
  mh: number;
  vmicKms: number;
  vsiniKms: number;
  resolution: number;
}

/** The label order of spectrum datasets (the CVAE's conditioning vector; see grid-io's CVAE_LABEL_RANGES). */
export const SPECTRUM_LABEL_KEYS = Object.keys(CVAE_LABEL_RANGES) as (keyof typeof CVAE_LABEL_RANGES)[];

/** Where the atmospheres come from: an interpolated ATLAS grid, an emulator, a single deck. */
export interface AtmosphereSource {
  /** `atlas9-grid`, `pinn`, `deck`, ... */
  readonly kind: string;
  /** Human-readable origin (folder, model directory, deck path). */
  readonly description: string;
  /** Content hash of what defines the atmospheres (grid files, model weights): part of every row key. */
  readonly sha256: string;
  /** Whether an atmosphere exists for these labels (no extrapolation). */
  covers(labels: { teffK: number; logg: number; mh: number }): boolean;
  /** The atmosphere at these labels; throws when not covered. */
  atmosphere(labels: { teffK: number; logg: number; mh: number }): EngineAtmosphere;
  /** The label box it covers, for sampling and messages. */
  readonly box: {
    teffK: { min: number; max: number };
    logg: { min: number; max: number };
    mh: { min: number; max: number };
  };
}

/** What shapes every spectrum of a grid besides its labels. */
export interface SmeGridSettings {
  /** Output wavelength grid (pixel centres, in `medium`). */
  grid: SpectrumGrid;
  /** VALD line list path. */
  linelist: string;
  medium: WavelengthMedium;
  /** Radial–tangential macroturbulence, km/s (0 for the CVAE grids, as the paper's SYNSPEC spectra). */
  vmacKms: number;
  /** Largest v sin i (km/s) and smallest R the intrinsic spectra must support (sets the synthesis margin). */
  maxVsiniKms: number;
  minResolution: number;
}

/** Provenance of a synthesized grid, recorded in the dataset manifest. */
export interface SmeProvenance {
  engine: 'pysme';
  pysmeVersion: string;
  linelist: { path: string; sha256: string; lines: number; native: WavelengthMedium };
  atmospheres: { kind: string; description: string; sha256: string };
  settings: SmeGridSettings & { window: { wminAngstrom: number; wmaxAngstrom: number } };
  /** Wavelengths of the dataset: air (optical convention: HARPS, SYNSPEC) or vacuum. */
  medium: WavelengthMedium;
  /**
   * What the grid cost, summed over its batches by the workflow: spectra computed, PySME calls
   * and their seconds, broadening seconds (absent when not recorded).
   */
  cost?: SynthesisCost;
}

/** What a grid's synthesis cost: spectra computed, PySME calls, their seconds, broadening seconds. */
export interface SynthesisCost {
  computed: number;
  intrinsicCalls: number;
  engineSeconds: number;
  broadenSeconds: number;
}

/**
 * The window PySME must synthesize so that every output pixel is unaffected by the edges: the
 * grid widened by v sin i + 6 σ of the widest instrument profile + 6 σ of the macroturbulence,
 * plus 1 Å.
 */
export function synthesisWindow(
  s: Pick<SmeGridSettings, 'grid' | 'maxVsiniKms' | 'minResolution' | 'vmacKms'>,
): { wminAngstrom: number; wmaxAngstrom: number } {
  const lo = s.grid.startAngstrom;
  const hi = s.grid.startAngstrom + (s.grid.n - 1) * s.grid.stepAngstrom;
  const sigmaIpKms = SPEED_OF_LIGHT_KM_S / (s.minResolution * 2 * Math.sqrt(2 * Math.LN2));
  const marginKms = s.maxVsiniKms + 6 * sigmaIpKms + 6 * s.vmacKms + 5;
  return {
    wminAngstrom: lo * (1 - marginKms / SPEED_OF_LIGHT_KM_S) - 1,
    wmaxAngstrom: hi * (1 + marginKms / SPEED_OF_LIGHT_KM_S) + 1,
  };
}

/** Version of the row-key recipe: bumped when the project's synthesis changes its output. */
export const SME_ROW_KEY_VERSION = 1;

/** What every row key of a grid shares: settings, line list and atmosphere source. */
export interface RowKeyContext {
  settings: SmeGridSettings;
  linelistSha256: string;
  atmosphereSha256: string;
  pysmeVersion: string;
}

/** Key of the intrinsic spectrum (one PySME call) a row derives from: Teff, log g, [M/H], v_mic + context. */
export function intrinsicKey(row: SpectrumRowLabels, ctx: RowKeyContext): string {
  const { grid, linelist: _path, ...rest } = ctx.settings;
  return sha256Hex(
    JSON.stringify([
      'intrinsic',
      SME_ROW_KEY_VERSION,
      row.teffK,
      row.logg,
      row.mh,
      row.vmicKms,
      grid,
      rest,
      ctx.linelistSha256,
      ctx.atmosphereSha256,
      ctx.pysmeVersion,
    ]),
  );
}

/**
 * Content key of one spectrum: its six labels, the grid settings, the line-list hash, the
 * atmosphere-source hash and the PySME version. Two workers, or a resumed batch, that meet
 * the same key compute the same spectrum, so it is computed once.
 */
export function rowKey(row: SpectrumRowLabels, ctx: RowKeyContext): string {
  return sha256Hex(JSON.stringify(['row', intrinsicKey(row, ctx), row.vsiniKms, row.resolution]));
}

/** Check the six labels of a row; errors name `where` (a CSV line, a row number). */
export function assertRowLabels(where: string, row: SpectrumRowLabels): void {
  for (const k of SPECTRUM_LABEL_KEYS) {
    if (!Number.isFinite(row[k])) throw new Error(`${where}: label ${k} is ${row[k]}: not a finite number`);
  }
  if (!(row.teffK > 0)) throw new Error(`${where}: teffK must be > 0, got ${row.teffK}`);
  if (row.vsiniKms < 0) throw new Error(`${where}: vsiniKms must be >= 0, got ${row.vsiniKms}`);
  if (row.vmicKms < 0) throw new Error(`${where}: vmicKms must be >= 0, got ${row.vmicKms}`);
  if (!(row.resolution > 0)) throw new Error(`${where}: resolution must be > 0, got ${row.resolution}`);
}

/** Label box for sampling spectra (units of {@link SpectrumRowLabels}). */
export type SpectrumLabelBox = Record<keyof SpectrumRowLabels, { min: number; max: number }>;

/**
 * The CVAE paper's Table 1 box cut to what the atmosphere source covers (Teff, log g, [M/H]);
 * `cut` says which limits were moved (e.g. the 1993 ATLAS9 grid stops at [M/H] = +1.0).
 */
export function cvaeBoxFor(
  source: AtmosphereSource,
  box: SpectrumLabelBox = CVAE_LABEL_RANGES,
): { box: SpectrumLabelBox; cut: string[] } {
  const out = { ...box } as SpectrumLabelBox;
  const cut: string[] = [];
  for (const k of ['teffK', 'logg', 'mh'] as const) {
    const lo = Math.max(box[k].min, source.box[k].min);
    const hi = Math.min(box[k].max, source.box[k].max);
    if (!(lo < hi))
      throw new Error(
        `the atmosphere source (${source.description}) does not cover ${k} ${box[k].min}…${box[k].max} (it covers ${source.box[k].min}…${source.box[k].max})`,
      );
    if (lo !== box[k].min) cut.push(`${k} min ${box[k].min} -> ${lo} (${source.kind} coverage)`);
    if (hi !== box[k].max) cut.push(`${k} max ${box[k].max} -> ${hi} (${source.kind} coverage)`);
    out[k] = { min: lo, max: hi };
  }
  return { box: out, cut };
}

/**
 * Seeded label rows for a grid: `n` rows in groups of `perAtmosphere` that share one intrinsic
 * spectrum (Teff, log g, [M/H], v_mic drawn once per group) and differ in v sin i and R. Each
 * label is uniform in `box`; an intrinsic draw that the atmosphere source does not cover (the
 * grid is not a full box) is redrawn, and the number of redraws is returned.
 */
export function sampleSpectrumRows(opts: {
  n: number;
  seed: number;
  perAtmosphere: number;
  box: SpectrumLabelBox;
  covers: (l: { teffK: number; logg: number; mh: number }) => boolean;
}): { rows: SpectrumRowLabels[]; redraws: number } {
  const { n, perAtmosphere, box } = opts;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`n must be a positive integer, got ${n}`);
  if (!(Number.isInteger(perAtmosphere) && perAtmosphere >= 1))
    throw new Error(`perAtmosphere must be a positive integer, got ${perAtmosphere}`);
  const rng = new Rng(opts.seed);
  const u = (k: keyof SpectrumRowLabels) => rng.uniform(box[k].min, box[k].max);
  const rows: SpectrumRowLabels[] = [];
  let redraws = 0;
  while (rows.length < n) {
    let intrinsic: { teffK: number; logg: number; mh: number; vmicKms: number } | null = null;
    for (let attempt = 0; attempt < 10_000 && !intrinsic; attempt++) {
      const c = { teffK: u('teffK'), logg: u('logg'), mh: u('mh'), vmicKms: u('vmicKms') };
      if (opts.covers(c)) intrinsic = c;
      else redraws++;
    }
    if (!intrinsic)
      throw new Error('the atmosphere source covers almost none of the label box (10,000 draws missed)');
    for (let j = 0; j < perAtmosphere && rows.length < n; j++) {
      rows.push({ ...intrinsic, vsiniKms: u('vsiniKms'), resolution: u('resolution') });
    }
  }
  return { rows, redraws };
}

/**
 * Rows of a label table (CSV with teff, logg, mh, vmic, vsini, resolution columns; see
 * grid-io's SPECTRUM_LABEL_TABLE_COLUMNS for the accepted names), with their line numbers.
 */
export async function readSpectrumLabelTable(
  path: string,
): Promise<{ rows: SpectrumRowLabels[]; lines: number[] }> {
  const text = await readFile(path, 'utf8');
  const table = parseSpectrumLabelTable(text, path, { fileColumn: false });
  if (table.rows.length === 0) throw new Error(`${path}: the label table has no data rows`);
  const rows = table.rows.map((r) => r.labels as unknown as SpectrumRowLabels);
  rows.forEach((r, i) => assertRowLabels(`${path}:${table.rows[i].line}`, r));
  return { rows, lines: table.rows.map((r) => r.line) };
}

/**
 * Finished spectra of a grid on disk, one file per row key (`rows/<key>.f32`: the float32 flux,
 * then the computing worker's identity in UTF-8 and its byte length as a little-endian uint32),
 * written to a temporary name and renamed into place (fsync first), so a crash never leaves a
 * half-written row and a finished row is never computed again. `computed.log` gets one line per
 * computed row (`<key> <worker>`), which tests read to prove that nothing was computed twice; a
 * worker killed between the rename and the log line leaves a finished row without its line, and
 * {@link RowStore.computedLog} then takes the identity from the row file itself.
 */
export class RowStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  private path(key: string): string {
    return join(this.dir, 'rows', `${key}.f32`);
  }
  /** Keys of every finished row. */
  async keys(): Promise<Set<string>> {
    try {
      return new Set(
        (await readdir(join(this.dir, 'rows'))).filter((f) => f.endsWith('.f32')).map((f) => f.slice(0, -4)),
      );
    } catch {
      return new Set();
    }
  }
  /** Store one finished row (atomically) and log it. */
  async write(key: string, flux: Float32Array, who: string): Promise<void> {
    await mkdir(join(this.dir, 'rows'), { recursive: true });
    const tmp = `${this.path(key)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const fh = await open(tmp, 'w');
    try {
      const tag = Buffer.from(who, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(tag.byteLength);
      await fh.write(new Uint8Array(flux.buffer, flux.byteOffset, flux.byteLength));
      await fh.write(Buffer.concat([tag, len]));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path(key));
    await appendFile(join(this.dir, 'computed.log'), `${key} ${who}\n`);
  }
  /** The flux of a finished row. */
  async read(key: string, n: number): Promise<Float32Array> {
    const buf = await readFile(this.path(key));
    const tag = rowTag(buf, this.path(key));
    if (buf.byteLength - tag.bytes !== 4 * n)
      throw new Error(
        `${this.path(key)}: ${buf.byteLength - tag.bytes} bytes of flux, expected ${4 * n} (${n} pixels)`,
      );
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(buf.subarray(0, 4 * n));
    return out;
  }
  /**
   * Remove temporary files left by interrupted writes, older than `olderThanMs` (default 10
   * minutes: another worker may be writing a younger one into the same store right now).
   */
  async cleanTemporary(olderThanMs = 600_000): Promise<number> {
    let n = 0;
    const dir = join(this.dir, 'rows');
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {
      return 0;
    }
    for (const f of names) {
      if (!f.includes('.tmp-')) continue;
      try {
        if (Date.now() - (await stat(join(dir, f))).mtimeMs < olderThanMs) continue;
        await rm(join(dir, f), { force: true });
        n++;
      } catch {
        /* gone meanwhile */
      }
    }
    return n;
  }
  /** Lines of computed.log: key and worker of every computation. */
  async computedLog(): Promise<{ key: string; who: string }[]> {
    let text = '';
    try {
      text = await readFile(join(this.dir, 'computed.log'), 'utf8');
    } catch {
      /* no row computed yet */
    }
    const log = text
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [key, ...who] = l.split(' ');
        return { key, who: who.join(' ') };
      });
    // A finished row whose line was lost (its worker killed right after the rename).
    const logged = new Set(log.map((l) => l.key));
    for (const key of [...(await this.keys())].sort()) {
      if (logged.has(key)) continue;
      log.push({ key, who: rowTag(await readFile(this.path(key)), this.path(key)).who });
    }
    return log;
  }
}

/** The worker tag at the end of a row file, and its size in bytes (tag + length word). */
function rowTag(buf: Buffer, path: string): { who: string; bytes: number } {
  const len = buf.byteLength >= 4 ? buf.readUInt32LE(buf.byteLength - 4) : -1;
  if (len < 0 || len + 4 > buf.byteLength || (buf.byteLength - len - 4) % 4 !== 0)
    throw new Error(`${path}: ${buf.byteLength} bytes, not a row file (float32 flux + worker tag)`);
  return { who: buf.subarray(buf.byteLength - 4 - len, buf.byteLength - 4).toString('utf8'), bytes: len + 4 };
}

/** Progress of {@link synthesizeRows}. */
export interface SynthesisProgress {
  done: number;
  total: number;
  /** Rows found finished in the store (not recomputed). */
  reused: number;
  /** PySME calls made so far (one per intrinsic spectrum). */
  intrinsicCalls: number;
  engineSeconds: number;
  broadenSeconds: number;
}

/**
 * Synthesize the rows not yet in `store`: group them by intrinsic key, make one PySME call
 * per group (specific intensities), derive each row's (v sin i, R) with the project's kernels,
 * store each row as soon as it is done. Rows already in the store are skipped. A PySME
 * failure names the row (index, labels) and leaves every finished row in place.
 */
export async function synthesizeRows(opts: {
  engine: SmeEngine;
  source: AtmosphereSource;
  rows: readonly SpectrumRowLabels[];
  /** Index of rows[0] in the whole grid (for messages). */
  firstIndex?: number;
  ctx: RowKeyContext;
  store: RowStore;
  /** Identity written to computed.log (worker id, pid). */
  who: string;
  onProgress?: (p: SynthesisProgress) => void;
  signal?: AbortSignal;
}): Promise<SynthesisProgress> {
  const { engine, source, rows, ctx, store } = opts;
  const first = opts.firstIndex ?? 0;
  const settings = ctx.settings;
  const window = synthesisWindow(settings);
  const finished = await store.keys();
  const groups = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const k = intrinsicKey(r, ctx);
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  });
  const p: SynthesisProgress = {
    done: 0,
    total: rows.length,
    reused: 0,
    intrinsicCalls: 0,
    engineSeconds: 0,
    broadenSeconds: 0,
  };
  for (const idx of groups.values()) {
    const todo = idx.filter((i) => !finished.has(rowKey(rows[i], ctx)));
    p.reused += idx.length - todo.length;
    p.done += idx.length - todo.length;
    if (todo.length === 0) continue;
    opts.signal?.throwIfAborted();
    const r0 = rows[todo[0]];
    const describe = (i: number) =>
      `row ${first + i} (teffK ${rows[i].teffK}, logg ${rows[i].logg}, mh ${rows[i].mh}, vmicKms ${rows[i].vmicKms}, vsiniKms ${rows[i].vsiniKms}, R ${rows[i].resolution})`;
    const atmosphere = source.atmosphere(r0);
    const si = await engine.intensities({
      atmosphere,
      labels: { teffK: r0.teffK, logg: r0.logg, mh: r0.mh, vmicKms: r0.vmicKms },
      linelist: settings.linelist,
      medium: settings.medium,
      ...window,
      context: describe(todo[0]),
    });
    p.intrinsicCalls++;
    p.engineSeconds += si.seconds;
    const t0 = performance.now();
    const broadener = new IntensityBroadener(si, settings.grid, {
      maxVsiniKms: settings.maxVsiniKms,
      maxVmacKms: settings.vmacKms,
      minResolution: settings.minResolution,
    });
    for (const i of todo) {
      const flux = broadener.spectrum({
        vsiniKms: rows[i].vsiniKms,
        vmacKms: settings.vmacKms,
        resolution: rows[i].resolution,
      });
      for (let j = 0; j < flux.length; j++) {
        if (!Number.isFinite(flux[j]))
          throw new Error(
            `${describe(i)}: non-finite flux at pixel ${j} (${settings.grid.startAngstrom + j * settings.grid.stepAngstrom} Å)`,
          );
      }
      await store.write(rowKey(rows[i], ctx), Float32Array.from(flux), opts.who);
      p.done++;
      opts.onProgress?.({ ...p });
    }
    p.broadenSeconds += (performance.now() - t0) / 1000;
  }
  opts.onProgress?.({ ...p });
  return p;
}

/**
 * Write the grid's dataset from the row store, in row order: grid-io's spectrum dataset with the
 * six CVAE labels, the hash split (`split`, default 70/15/15 seed 0) and the provenance in the
 * manifest's notes. Every row must be finished.
 */
export async function writeSmeDataset(opts: {
  store: RowStore;
  rows: readonly SpectrumRowLabels[];
  ctx: RowKeyContext;
  out: string;
  provenance: SmeProvenance;
  split?: { scheme: SplitScheme; seed: number } | null;
  extraNotes?: Record<string, unknown>;
}): Promise<DatasetManifest> {
  const { store, rows, ctx } = opts;
  const grid = ctx.settings.grid;
  const finished = await store.keys();
  const missing = rows.findIndex((r) => !finished.has(rowKey(r, ctx)));
  if (missing >= 0)
    throw new Error(
      `row ${missing} of the grid is not synthesized yet (key ${rowKey(rows[missing], ctx).slice(0, 12)}…)`,
    );
  async function* records(): AsyncGenerator<SpectrumRecord> {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const flux = Array.from(await store.read(rowKey(r, ctx), grid.n));
      const labels: Record<string, number> = {};
      for (const k of SPECTRUM_LABEL_KEYS) labels[k] = r[k];
      const rec: Omit<SpectrumRecord, 'id'> = {
        source: `pysme:${ctx.atmosphereSha256.slice(0, 12)}`,
        line: i + 1,
        labels,
        wavelengthStartAngstrom: grid.startAngstrom,
        wavelengthStepAngstrom: grid.stepAngstrom,
        flux,
        synthetic: false,
        split: null,
      };
      yield { id: spectrumContentId(rec), ...rec };
    }
  }
  const split = opts.split === undefined ? { scheme: '70/15/15' as SplitScheme, seed: 0 } : opts.split;
  return writeSpectrumDataset(records(), opts.out, {
    ...(split ? { split } : {}),
    inputs: [{ path: opts.provenance.linelist.path, sha256: opts.provenance.linelist.sha256 }],
    notes: { synthesis: opts.provenance, ...(opts.extraNotes ?? {}) },
  });
}
