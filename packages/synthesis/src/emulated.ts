// Spectra of emulated atmospheres against the true decks' (Kurucz-a1's end-to-end claim, its Fig. 5).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  columnIndex,
  rosselandTau,
  writeFileAtomic,
  type KuruczDeck,
  type SpectrumGrid,
} from '@stellar-emu/grid-io';
import { absDifferenceStats } from '@stellar-emu/numerics';
import { SynthesisError, type EngineAtmosphere, type SmeEngine, type WavelengthMedium } from './engine.js';
import { deckMh, synthesizeAtmosphere } from './observed.js';
import { deckAtmosphere } from './sources.js';

/** The output grid of a window [first, last) at `stepAngstrom` (at least 16 pixels). */
export function windowGrid(window: readonly [number, number], stepAngstrom: number): SpectrumGrid {
  const n = Math.round((window[1] - window[0]) / stepAngstrom);
  if (!(n >= 16))
    throw new RangeError(
      `window ${window[0]}–${window[1]} Å at ${stepAngstrom} Å has ${n} pixels; at least 16 are needed`,
    );
  return { startAngstrom: window[0], stepAngstrom, n };
}

/** Settings of a spectral comparison: windows, sampling and broadening, the same for every atmosphere. */
export interface WindowedSpectrumSettings {
  /** Wavelength windows [from, to) in Å (in `medium`). */
  windows: [number, number][];
  stepAngstrom: number;
  resolution: number;
  vmicKms: number;
  vsiniKms: number;
  vmacKms: number;
  linelist: string;
  medium: WavelengthMedium;
}

/** Wavelengths of every pixel of every window, in order (Å). */
export function windowWavelengths(
  s: Pick<WindowedSpectrumSettings, 'windows' | 'stepAngstrom'>,
): Float64Array {
  const grids = s.windows.map((w) => windowGrid(w, s.stepAngstrom));
  const out = new Float64Array(grids.reduce((n, g) => n + g.n, 0));
  let k = 0;
  for (const g of grids) for (let i = 0; i < g.n; i++) out[k++] = g.startAngstrom + i * g.stepAngstrom;
  return out;
}

/**
 * One atmosphere's spectrum over every window (windows concatenated in order), through the
 * engine and the project's kernels with the settings' broadening.
 */
export async function synthesizeWindows(
  engine: SmeEngine,
  atmosphere: EngineAtmosphere,
  labels: { teffK: number; logg: number; mh: number },
  s: WindowedSpectrumSettings,
  context?: string,
): Promise<{ flux: Float32Array; seconds: number; warnings: string[] }> {
  const parts: Float64Array[] = [];
  let seconds = 0;
  const warnings: string[] = [];
  for (const w of s.windows) {
    const r = await synthesizeAtmosphere(
      engine,
      atmosphere,
      labels,
      {
        grid: windowGrid(w, s.stepAngstrom),
        linelist: s.linelist,
        medium: s.medium,
        vmicKms: s.vmicKms,
        vsiniKms: s.vsiniKms,
        vmacKms: s.vmacKms,
        resolution: s.resolution,
      },
      context,
    );
    parts.push(r.flux);
    seconds += r.seconds;
    warnings.push(...r.warnings);
  }
  const flux = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let k = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      if (!Number.isFinite(p[i]))
        throw new Error(
          `${context ?? 'synthesis'}: the spectrum has a non-finite pixel (${p[i]}) at index ${k + i}`,
        );
      flux[k + i] = p[i];
    }
    k += p.length;
  }
  return { flux, seconds, warnings };
}

/** The depth structure an atmosphere emulator predicts on a given tau grid (cgs, surface first). */
export interface DepthStructure {
  rhox: ArrayLike<number>;
  temperature: ArrayLike<number>;
  pressure: ArrayLike<number>;
  xne: ArrayLike<number>;
  /**
   * Rosseland mean opacity, cm² g⁻¹, when the emulator predicts it: then a column mass that does
   * not increase inwards is rebuilt from the tau scale ({@link monotoneColumnMass}) instead of
   * making the atmosphere unusable.
   */
  abross?: ArrayLike<number>;
}

/** Layers whose column mass was rebuilt from the tau scale, and the largest relative change of RHOX. */
export interface ColumnMassRepair {
  /** 0-based layer indices (surface first). */
  layers: number[];
  /** max over those layers of |RHOX_rebuilt / RHOX_predicted − 1|. */
  maxRelativeChange: number;
}

/**
 * A column mass that increases inwards, from a predicted one that may not (an emulator's error
 * in the deep layers, where the column mass grows by ~1 % per layer in cool convective
 * envelopes while the emulator errs by about as much). Going inwards, every layer whose RHOX is
 * not above the layer before is rebuilt from the definition of the Rosseland scale on its
 * layers, dτ = κ_R dRHOX, with the trapezoid of grid-io's `rosselandTau`:
 * RHOX_i = RHOX_{i−1} + (τ_i − τ_{i−1}) / (½ (κ_{i−1} + κ_i)), the inverse of that integral, so a
 * true deck's own RHOX comes back. The other layers keep the prediction. Throws
 * {@link UnphysicalAtmosphereError} when the tau grid does not increase or κ is not positive.
 */
export function monotoneColumnMass(
  rhox: ArrayLike<number>,
  tau: ArrayLike<number>,
  abross: ArrayLike<number>,
  where: string,
): { rhox: number[]; repair: ColumnMassRepair | null } {
  const n = rhox.length;
  if (tau.length !== n || abross.length !== n)
    throw new Error(`${where}: RHOX has ${n} layers, tau ${tau.length}, ABROSS ${abross.length}`);
  const out = Array.from(rhox);
  const layers: number[] = [];
  let maxRelativeChange = 0;
  for (let i = 1; i < n; i++) {
    if (out[i] > out[i - 1]) continue;
    const dTau = tau[i] - tau[i - 1];
    const kappa = 0.5 * (abross[i] + abross[i - 1]);
    if (!(dTau > 0) || !(kappa > 0) || !Number.isFinite(dTau / kappa))
      throw new UnphysicalAtmosphereError(
        `${where}: RHOX does not increase inwards (layer ${i}: ${out[i].toPrecision(4)} after ${out[i - 1].toPrecision(4)} g cm^-2) and cannot be rebuilt from the tau scale (Δτ ${dTau}, κ ${kappa})`,
      );
    out[i] = out[i - 1] + dTau / kappa;
    layers.push(i);
    maxRelativeChange = Math.max(maxRelativeChange, Math.abs(out[i] / rhox[i] - 1));
  }
  return { rhox: out, repair: layers.length > 0 ? { layers, maxRelativeChange } : null };
}

/** The labels an atmosphere emulator takes. */
export interface EmulatorLabels {
  teffK: number;
  logg: number;
  feh: number;
  afe: number;
}

/** An atmosphere emulator: labels and a Rosseland tau grid to a depth structure. */
export type AtmosphereEmulator = (labels: EmulatorLabels, tauRosseland: number[]) => DepthStructure;

/** A true deck prepared for the comparison: its engine atmosphere, labels and tau grid. */
export interface TrueDeck {
  atmosphere: EngineAtmosphere;
  /** Labels of the emulator ([Fe/H] = [M/H] of the deck's abundance scale, [alpha/Fe] as given). */
  labels: EmulatorLabels;
  /** Rosseland optical depth of the deck's layers (grid-io's {@link rosselandTau} convention). */
  tauRosseland: number[];
  where: string;
}

/** A deck as the reference of a comparison ([alpha/Fe] = `afe`, 0 for the scaled-solar ATLAS9 grids). */
export function trueDeck(deck: KuruczDeck, afe = 0): TrueDeck {
  const col = (name: string) => deck.columns[columnIndex(deck, name)];
  return {
    atmosphere: deckAtmosphere(deck),
    labels: { teffK: deck.teffK, logg: deck.logg, feh: deckMh(deck), afe },
    tauRosseland: rosselandTau(col('RHOX'), col('ABROSS')),
    where: `${deck.source}:${deck.line}`,
  };
}

/**
 * An emulated atmosphere that no synthesis code can use: a non-finite or non-positive value, or
 * a column mass that does not increase inwards (and no opacity to rebuild it). An outcome of the comparison (the emulator
 * failed on this model), not an input error.
 */
export class UnphysicalAtmosphereError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnphysicalAtmosphereError';
  }
}

/** An emulated atmosphere ready for the engine, and the repair its column mass needed (null: none). */
export type EmulatedAtmosphere = EngineAtmosphere & { rhoxRepair: ColumnMassRepair | null };

/**
 * The emulator's atmosphere at the deck's labels on the deck's own tau grid, with everything
 * else of the deck (abundance mix, opacity switches, microturbulence): the two spectra then
 * differ only by the depth structure the emulator predicts. A column mass that does not
 * increase inwards is rebuilt from the tau scale where the emulator predicts ABROSS
 * ({@link monotoneColumnMass}; reported in `rhoxRepair`). Throws
 * {@link UnphysicalAtmosphereError} for a structure that cannot be synthesized.
 */
export function emulatedAtmosphere(
  t: TrueDeck,
  emulator: AtmosphereEmulator,
  source: string,
): EmulatedAtmosphere {
  const p = emulator(t.labels, t.tauRosseland);
  const s: DepthStructure = { rhox: p.rhox, temperature: p.temperature, pressure: p.pressure, xne: p.xne };
  const n = t.tauRosseland.length;
  const where = `${source} at ${t.where}`;
  const checked: [string, ArrayLike<number>][] = Object.entries(s);
  if (p.abross) checked.push(['abross', p.abross]);
  for (const [k, v] of checked) {
    if (v.length !== n) throw new Error(`${where}: ${k} has ${v.length} layers, the deck ${n}`);
    for (let i = 0; i < n; i++)
      if (!(v[i] > 0 && Number.isFinite(v[i])))
        throw new UnphysicalAtmosphereError(`${where}: ${k}[${i}] = ${v[i]} (must be finite and > 0)`);
  }
  let rhox: ArrayLike<number> = s.rhox;
  let rhoxRepair: ColumnMassRepair | null = null;
  if (p.abross) ({ rhox, repair: rhoxRepair } = monotoneColumnMass(s.rhox, t.tauRosseland, p.abross, where));
  else
    for (let i = 1; i < n; i++)
      if (!(rhox[i] > rhox[i - 1]))
        throw new UnphysicalAtmosphereError(
          `${where}: RHOX does not increase inwards (layer ${i}: ${rhox[i].toPrecision(4)} after ${rhox[i - 1].toPrecision(4)} g cm^-2)`,
        );
  return {
    ...t.atmosphere,
    rhox,
    temperature: s.temperature,
    pressure: s.pressure,
    xne: s.xne,
    source,
    rhoxRepair,
  };
}

/**
 * Spectra kept on disk by content: `<dir>/<key>.f32` (float32, little endian). A true deck's
 * spectrum is computed once for every emulator compared against it, an emulated atmosphere's
 * once for every evaluation that asks for it; a half-written file never
 * appears (atomic writes), a file of the wrong length is recomputed.
 */
export class SpectrumCache {
  constructor(
    readonly dir: string,
    /** Everything that shapes a spectrum besides the atmosphere (settings, line list hash, engine version). */
    private readonly context: string,
  ) {}

  /** The key of an atmosphere's spectrum: its arrays, mix and labels with the cache's context. */
  key(atmosphere: EngineAtmosphere, labels: { teffK: number; logg: number; mh: number }): string {
    const h = createHash('sha256').update('spectrum-cache1').update(this.context);
    for (const a of [
      atmosphere.rhox,
      atmosphere.temperature,
      atmosphere.pressure,
      atmosphere.xne,
      atmosphere.abundancePattern,
    ])
      h.update(Buffer.from(Float64Array.from(a).buffer));
    h.update(
      JSON.stringify([
        atmosphere.opacityIfop ? Array.from(atmosphere.opacityIfop) : null,
        atmosphere.vturbKms ?? null,
        labels,
      ]),
    );
    return h.digest('hex');
  }

  /** The cached spectrum of `key` with `n` pixels, or null. */
  async get(key: string, n: number): Promise<Float32Array | null> {
    const buf = await readFile(join(this.dir, `${key}.f32`)).catch(() => null);
    if (!buf || buf.length !== 4 * n) return null;
    const out = new Float32Array(n);
    Buffer.from(out.buffer).set(buf);
    return out;
  }

  async put(key: string, flux: Float32Array): Promise<void> {
    await writeFileAtomic(
      join(this.dir, `${key}.f32`),
      new Uint8Array(flux.buffer, flux.byteOffset, flux.byteLength),
    );
  }
}

/** One model of a spectral comparison: |ΔF| of the emulator (and baseline) against the true deck. */
export interface EmulatedSpectraResult {
  where: string;
  labels: EmulatorLabels;
  true: Float32Array;
  emulated: Record<string, Float32Array>;
  deltaF: Record<string, { median: number; p95: number; max: number }>;
  /** Emulators whose atmosphere could not be synthesized, with the reason (absent from `emulated`). */
  failed: Record<string, string>;
  /** Emulators whose column mass was rebuilt in some deep layers ({@link monotoneColumnMass}). */
  rhoxRepairs: Record<string, ColumnMassRepair>;
  /** Engine seconds spent by this call (0 for spectra found in the cache). */
  seconds: number;
  /** Spectra synthesized by this call (the others came from the cache). */
  calls: number;
  /** PySME's warnings per spectrum (e.g. its electron density against the deck's). */
  warnings: Record<string, string[]>;
}

/**
 * Synthesize a true deck and each emulator's atmosphere at its labels and tau grid with
 * identical settings; |ΔF| statistics over all pixels of all windows. Each spectrum comes from
 * `cache` when present (and is stored there otherwise).
 */
export async function compareEmulatedSpectra(opts: {
  engine: SmeEngine;
  deck: TrueDeck;
  emulators: Record<string, { emulator: AtmosphereEmulator; source: string }>;
  settings: WindowedSpectrumSettings;
  cache?: SpectrumCache;
}): Promise<EmulatedSpectraResult> {
  const { engine, deck, settings } = opts;
  const mhLabels = { teffK: deck.labels.teffK, logg: deck.labels.logg, mh: deck.labels.feh };
  const n = windowWavelengths(settings).length;
  let seconds = 0;
  let calls = 0;
  const warnings: Record<string, string[]> = {};
  // Every spectrum is cached by its atmosphere's content: the same deck or the same emulated
  // atmosphere (same weights, labels and tau grid) is synthesized once.
  const spectrum = async (name: string, atm: EngineAtmosphere, context: string): Promise<Float32Array> => {
    const key = opts.cache?.key(atm, mhLabels);
    const hit = key ? await opts.cache!.get(key, n) : null;
    if (hit) return hit;
    const r = await synthesizeWindows(engine, atm, mhLabels, settings, context);
    seconds += r.seconds;
    calls++;
    warnings[name] = r.warnings;
    if (key) await opts.cache!.put(key, r.flux);
    return r.flux;
  };
  const truth = await spectrum('true', deck.atmosphere, deck.where);
  const emulated: Record<string, Float32Array> = {};
  const deltaF: EmulatedSpectraResult['deltaF'] = {};
  const failed: Record<string, string> = {};
  const rhoxRepairs: Record<string, ColumnMassRepair> = {};
  for (const [name, e] of Object.entries(opts.emulators)) {
    try {
      const atm = emulatedAtmosphere(deck, e.emulator, e.source);
      if (atm.rhoxRepair) rhoxRepairs[name] = atm.rhoxRepair;
      emulated[name] = await spectrum(name, atm, `${e.source} at the labels of ${deck.where}`);
    } catch (err) {
      // The emulator's failure on this model is a result; anything else (engine died, bad
      // settings) is not.
      const refused = err instanceof SynthesisError && err.kind === 'input';
      if (!(err instanceof UnphysicalAtmosphereError) && !refused) throw err;
      failed[name] = (err as Error).message;
      continue;
    }
    deltaF[name] = absDifferenceStats(emulated[name], truth);
  }
  return {
    where: deck.where,
    labels: deck.labels,
    true: truth,
    emulated,
    deltaF,
    failed,
    rhoxRepairs,
    seconds,
    calls,
    warnings,
  };
}
