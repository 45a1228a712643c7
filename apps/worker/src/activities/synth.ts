// Spectrum synthesis activities (`synth` queue): plan a PySME grid, synthesize its batches, assemble the dataset.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { SynthesisSection } from '@stellar-emu/metrics';
import { initBackend } from '@stellar-emu/nn-core';
import { loadPinnModel, predictedDeck } from '@stellar-emu/pinn';
import {
  readDecks,
  readManifest,
  readSpectrum,
  sha256File,
  writeFileAtomic,
  type KuruczDeck,
  type Spectrum1D,
  type SpectrumGrid,
} from '@stellar-emu/grid-io';
import {
  atlasGridSource,
  compareWithObserved,
  cvaeBoxFor,
  deckAtmosphere,
  intrinsicKey,
  loadAtlasGrid,
  readSpectrumLabelTable,
  RowStore,
  rowKey,
  sampleSpectrumRows,
  SmeEngine,
  synthesisWindow,
  synthesizeDeck,
  synthesizeRows,
  windowGrid,
  writeSmeDataset,
  type AtmosphereSource,
  type RowKeyContext,
  type SmeGridSettings,
  type SmeProvenance,
  type SpectrumLabelBox,
  type SpectrumRowLabels,
} from '@stellar-emu/synthesis';
import type {
  DatasetRef,
  MetricsRef,
  SunCheckSettings,
  SmeSpectraSettings,
  SpectrumGridPlan,
  StepOutcome,
  SynthBatchInput,
  SynthBatchResult,
  SynthesisCost,
  SynthesizeGridInput,
} from '@stellar-emu/workflows';
import { hashPath, LocalArtifactStore, stepKey } from '../artifacts/store.js';
import { heartbeatPump } from './heartbeat.js';
import { completeMetricsStep } from './metrics-step.js';
import { inputError } from './data.js';

const STEP = 'synth-sme';

/** What planSpectrumGrid writes to `<dir>/plan.json` for the batches and the assembly. */
interface PlanFile {
  source: SmeSpectraSettings;
  rows: SpectrumRowLabels[];
  ctx: RowKeyContext;
  provenance: SmeProvenance;
  key: string;
}

// One PySME process and one loaded grid per worker process, reused by every batch it runs.
let engine: Promise<SmeEngine> | null = null;
const grids = new Map<string, Promise<AtmosphereSource>>();

/** This process's PySME engine (started on first use, restarted after a failed start). */
export function sharedEngine(): Promise<SmeEngine> {
  if (!engine) {
    engine = SmeEngine.start();
    engine.catch(() => (engine = null));
  }
  return engine;
}

/**
 * Stop the engine when the activity is cancelled (its workflow was cancelled or terminated, or the
 * worker drains): a PySME call cannot be interrupted otherwise, and a synth worker runs one
 * activity at a time, so killing its engine stops only this activity's work.
 */
export function stopEngineOn(signal: AbortSignal | undefined): () => void {
  if (!signal) return () => undefined;
  const onAbort = () => void closeSynthesisEngine();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/** Stop this process's PySME engine (worker shutdown and tests). */
export async function closeSynthesisEngine(): Promise<void> {
  const e = engine;
  engine = null;
  if (e) await (await e).close().catch(() => undefined);
}

/**
 * The PINN emulator as an atmosphere source (`pinn:<model-dir>`): its atmosphere at the labels
 * ([Fe/H] = [M/H], [alpha/Fe] = 0) on its default tau grid, with the abundance mix of the
 * Kurucz 1993 grid it was trained on; it covers its training box (a rectangle: the corners of a
 * grid that is not a full box are extrapolation for the network). Hash: its weights' sha256.
 */
async function pinnSource(dir: string): Promise<AtmosphereSource> {
  await initBackend({ quiet: true });
  const { emulator, model } = await loadPinnModel(dir);
  const r = model.labelRanges;
  const box = {
    teffK: { min: r.teffK.min, max: r.teffK.max },
    logg: { min: r.logg.min, max: r.logg.max },
    mh: { min: r.feh.min, max: r.feh.max },
  };
  const inside = (l: { teffK: number; logg: number; mh: number }) =>
    l.teffK >= box.teffK.min &&
    l.teffK <= box.teffK.max &&
    l.logg >= box.logg.min &&
    l.logg <= box.logg.max &&
    l.mh >= box.mh.min &&
    l.mh <= box.mh.max &&
    r.afe.min <= 0 &&
    r.afe.max >= 0;
  return {
    kind: 'pinn',
    description: `pinn:${resolve(dir)}`,
    sha256: model.weights.sha256,
    box,
    covers: inside,
    atmosphere(l) {
      if (!inside(l))
        throw inputError(
          `pinn:${dir}: Teff ${l.teffK} K, log g ${l.logg}, [M/H] ${l.mh} lies outside the emulator's training box`,
        );
      const [a] = emulator.predictAtmosphere([{ teffK: l.teffK, logg: l.logg, feh: l.mh, afe: 0 }]);
      return deckAtmosphere(predictedDeck(a, { source: `pinn:${resolve(dir)}` }));
    },
  };
}

/** The atmosphere source of a grid: `pinn:<model-dir>` or a folder of ATLAS decks (loaded once per process). */
function gridSource(dir: string): Promise<AtmosphereSource> {
  if (dir.startsWith('pinn:')) return pinnSource(dir.slice('pinn:'.length));
  const key = resolve(dir);
  const cached = grids.get(key);
  if (cached) return cached;
  const s = loadAtlasGrid(key).then(atlasGridSource);
  s.catch(() => grids.delete(key));
  grids.set(key, s);
  return s;
}

/** The output grid of a window, as an input error when it is too small. */
function inputGrid(window: [number, number], stepAngstrom: number): SpectrumGrid {
  try {
    return windowGrid(window, stepAngstrom);
  } catch (err) {
    throw inputError((err as Error).message);
  }
}

async function rowsOf(
  source: SmeSpectraSettings,
  atm: AtmosphereSource,
): Promise<{ rows: SpectrumRowLabels[]; cut: string[]; where: (i: number) => string }> {
  if (source.labels) {
    let table;
    try {
      table = await readSpectrumLabelTable(source.labels);
    } catch (err) {
      throw inputError((err as Error).message);
    }
    const where = (i: number) => `${source.labels}:${table.lines[i]}`;
    table.rows.forEach((r, i) => {
      if (!atm.covers(r)) {
        throw inputError(
          `${where(i)}: Teff ${r.teffK} K, log g ${r.logg}, [M/H] ${r.mh} lies outside the atmosphere grid ${atm.description} (covers Teff ${atm.box.teffK.min}–${atm.box.teffK.max} K, log g ${atm.box.logg.min}–${atm.box.logg.max}, [M/H] ${atm.box.mh.min}…${atm.box.mh.max}, not every corner): no extrapolation`,
        );
      }
    });
    return { rows: table.rows, cut: [], where };
  }
  const { box, cut } = cvaeBoxFor(atm, undefined);
  const narrowed = { ...box } as SpectrumLabelBox;
  for (const [k, r] of Object.entries(source.box ?? {})) {
    const key = k as keyof SpectrumLabelBox;
    narrowed[key] = { min: Math.max(box[key].min, r.min), max: Math.min(box[key].max, r.max) };
    if (!(narrowed[key].min < narrowed[key].max))
      throw inputError(
        `sme.box.${k} ${r.min}…${r.max} lies outside what the atmosphere grid covers (${box[key].min}…${box[key].max})`,
      );
  }
  const { rows, redraws } = sampleSpectrumRows({
    n: source.n!,
    seed: source.seed,
    perAtmosphere: source.perAtmosphere,
    box: narrowed,
    covers: (l) => atm.covers(l),
  });
  if (redraws > 0) cut.push(`${redraws} intrinsic draws outside the grid's models were redrawn`);
  return { rows, cut, where: (i) => `row ${i}` };
}

/**
 * Check the line list (a VALD file covering the window), the atmosphere grid and every label
 * row before any synthesis; write the plan. A finished identical grid is returned as `done`.
 */
export async function planSpectrumGrid(input: SynthesizeGridInput): Promise<SpectrumGridPlan> {
  const source = input.source;
  const linelist = resolve(source.linelist);
  let linelistSha256: string;
  try {
    linelistSha256 = await sha256File(linelist);
  } catch {
    throw inputError(`${source.linelist}: no such line list`);
  }
  let atm: AtmosphereSource;
  try {
    atm = await gridSource(source.grid);
  } catch (err) {
    throw inputError(`${source.grid}: not a usable ATLAS grid: ${(err as Error).message}`);
  }
  const grid = inputGrid(source.window, source.stepAngstrom);
  const { rows, cut } = await rowsOf(source, atm);
  const maxVsiniKms = Math.max(0, ...rows.map((r) => r.vsiniKms));
  const minResolution = Math.min(...rows.map((r) => r.resolution));
  const settings: SmeGridSettings = {
    grid,
    linelist,
    medium: source.medium,
    vmacKms: source.vmacKms,
    maxVsiniKms,
    minResolution,
  };
  const window = synthesisWindow(settings);
  const e = await sharedEngine();
  let info;
  try {
    info = await e.linelist(linelist, window.wminAngstrom, window.wmaxAngstrom, source.medium);
  } catch (err) {
    throw inputError((err as Error).message);
  }
  // Air wavelengths are shorter than vacuum ones by ~2.8e-4: compare the window in the file's medium.
  const toNative = info.native === source.medium ? 1 : source.medium === 'air' ? 1.00028 : 1 / 1.00028;
  if (window.wminAngstrom * toNative < info.range[0] || window.wmaxAngstrom * toNative > info.range[1]) {
    throw inputError(
      `${source.linelist}: the line list covers ${info.range[0]}–${info.range[1]} Å (${info.native}); the synthesis needs ${window.wminAngstrom.toFixed(2)}–${window.wmaxAngstrom.toFixed(2)} Å (${source.medium}, window plus broadening margin)`,
    );
  }
  if (info.lines === 0)
    throw inputError(
      `${source.linelist}: no lines in ${window.wminAngstrom.toFixed(1)}–${window.wmaxAngstrom.toFixed(1)} Å`,
    );
  const ctx: RowKeyContext = {
    settings,
    linelistSha256,
    atmosphereSha256: atm.sha256,
    pysmeVersion: e.versions!.pysme,
  };
  const keys = rows.map((r) => rowKey(r, ctx));
  const key = stepKey(STEP, { keys }, {});
  const store = new LocalArtifactStore(input.artifacts);
  const dir = await store.stepDir(STEP, key);
  const intrinsic = new Set(rows.map((r) => intrinsicKey(r, ctx))).size;
  const batchSize = source.batchSize;
  const batches: { start: number; end: number }[] = [];
  for (let s = 0; s < rows.length; s += batchSize)
    batches.push({ start: s, end: Math.min(rows.length, s + batchSize) });
  const done = await store.findCompleted(STEP, key);
  if (done)
    return { dir, key, rows: rows.length, intrinsic, batches, cut, done: done.summary.dataset as DatasetRef };
  const provenance: SmeProvenance = {
    engine: 'pysme',
    pysmeVersion: e.versions!.pysme,
    linelist: { path: linelist, sha256: linelistSha256, lines: info.lines, native: info.native },
    atmospheres: { kind: atm.kind, description: atm.description, sha256: atm.sha256 },
    settings: { ...settings, window },
    medium: source.medium,
  };
  const plan: PlanFile = { source, rows, ctx, provenance, key };
  await writeFileAtomic(join(dir, 'plan.json'), `${JSON.stringify(plan)}\n`);
  return { dir, key, rows: rows.length, intrinsic, batches, cut, done: null };
}

async function readPlan(dir: string): Promise<PlanFile> {
  return JSON.parse(await readFile(join(dir, 'plan.json'), 'utf8')) as PlanFile;
}

/** Synthesize rows [start, end) of a plan; rows already in the store (any attempt, any worker) are kept. */
export async function synthesizeSpectrumBatch(input: SynthBatchInput): Promise<SynthBatchResult> {
  const plan = await readPlan(input.dir);
  const store = new RowStore(input.dir);
  await store.cleanTemporary();
  const hb = heartbeatPump();
  const release = stopEngineOn(hb.signal);
  try {
    const atm = await gridSource(plan.source.grid);
    if (atm.sha256 !== plan.ctx.atmosphereSha256)
      throw inputError(`${plan.source.grid}: the grid's files changed since the plan was made`);
    const e = await sharedEngine();
    const p = await synthesizeRows({
      engine: e,
      source: atm,
      rows: plan.rows.slice(input.start, input.end),
      firstIndex: input.start,
      ctx: plan.ctx,
      store,
      who: `${hostname()}:${process.pid}`,
      signal: hb.signal,
      onProgress: (q) =>
        hb.update({
          step: 'synthesize',
          done: q.done,
          total: q.total,
          reused: q.reused,
          intrinsicCalls: q.intrinsicCalls,
          rows: [input.start, input.end],
        }),
    });
    return {
      done: p.done,
      reused: p.reused,
      intrinsicCalls: p.intrinsicCalls,
      engineSeconds: p.engineSeconds,
      broadenSeconds: p.broadenSeconds,
    };
  } finally {
    release();
    hb.stop();
  }
}

/** Write the grid's dataset (70/15/15 hash split, provenance in the manifest) once every row is done. */
export async function assembleSpectrumGrid(input: {
  dir: string;
  artifacts: string;
  /** What the batches cost (summed by the workflow), for the manifest. */
  cost?: SynthesisCost;
}): Promise<StepOutcome<DatasetRef>> {
  const plan = await readPlan(input.dir);
  const store = new LocalArtifactStore(input.artifacts);
  const done = await store.findCompleted(STEP, plan.key);
  if (done) return { skipped: true, key: plan.key, result: done.summary.dataset as DatasetRef };
  const out = join(input.dir, 'dataset');
  const manifest = await writeSmeDataset({
    store: new RowStore(input.dir),
    rows: plan.rows,
    ctx: plan.ctx,
    out,
    provenance: { ...plan.provenance, ...(input.cost ? { cost: input.cost } : {}) },
  });
  const ref: DatasetRef = {
    path: out,
    sha256: await hashPath(out),
    rows: manifest.rowCount,
    kind: 'spectra',
    synthetic: manifest.synthetic,
  };
  await store.recordCompleted({
    step: STEP,
    key: plan.key,
    outputs: { dataset: { path: out, sha256: ref.sha256 } },
    summary: { dataset: ref },
    completedAt: new Date().toISOString(),
  });
  await readManifest(out);
  return { skipped: false, key: plan.key, result: ref };
}

/** The sha256 of each named input file; a missing one is an input error with `missing`'s message. */
export async function hashInputs(
  files: Record<string, string>,
  missing: (name: string, path: string) => string,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, p] of Object.entries(files)) {
    try {
      out[k] = await sha256File(resolve(p));
    } catch {
      throw inputError(missing(k, p));
    }
  }
  return out;
}

/** The solar deck, the observed Sun and the 0.05 Å grid of a Sun comparison (input errors name the file). */
export async function readSunInputs(sun: Pick<SunCheckSettings, 'deck' | 'observed' | 'window'>): Promise<{
  deck: KuruczDeck;
  observed: Spectrum1D;
  grid: SpectrumGrid;
}> {
  let deck: KuruczDeck | undefined;
  try {
    for await (const d of readDecks(resolve(sun.deck))) {
      deck = d;
      break;
    }
  } catch (err) {
    throw inputError((err as Error).message);
  }
  if (!deck) throw inputError(`${sun.deck}: no Kurucz deck in the file`);
  const observed = await readSpectrum(resolve(sun.observed));
  return { deck, observed, grid: inputGrid(sun.window, 0.05) };
}

/**
 * The synthesis engine checked on the Sun: the solar deck through PySME and the project's
 * kernels against the observed spectrum, with the metrics the report's synthesis section takes.
 * Skipped when the same deck, observation, line list, settings and PySME version were checked.
 */
export async function checkSynthesisStep(input: {
  sun: SunCheckSettings;
  linelist: string;
  medium: 'air' | 'vac';
  artifacts: string;
}): Promise<StepOutcome<MetricsRef>> {
  const { sun } = input;
  const hashes = await hashInputs(
    { deck: sun.deck, observed: sun.observed, linelist: input.linelist },
    (k, p) => `${p}: no such file (the ${k} of the Sun check)`,
  );
  const e = await sharedEngine();
  const step = 'sun-check';
  const key = stepKey(step, { sun, medium: input.medium }, { ...hashes, pysme: e.versions!.pysme });
  const store = new LocalArtifactStore(input.artifacts);
  const done = await store.findCompleted(step, key);
  if (done) return { skipped: true, key, result: done.summary.metrics as MetricsRef };
  const { deck, observed, grid } = await readSunInputs(sun);
  const hb = heartbeatPump();
  const release = stopEngineOn(hb.signal);
  let flux: Float64Array;
  let seconds: number;
  try {
    hb.update({ step, stage: 'synthesizing the Sun' });
    ({ flux, seconds } = await synthesizeDeck(e, deck, {
      grid,
      linelist: resolve(input.linelist),
      medium: input.medium,
      vmicKms: sun.vmicKms,
      vsiniKms: sun.vsiniKms,
      vmacKms: sun.vmacKms,
      resolution: sun.resolution,
    }));
  } finally {
    release();
    hb.stop();
  }
  const c = compareWithObserved(observed, flux, grid);
  // The report's synthesis section (typed against the contract).
  const metrics: SynthesisSection = {
    engine: { name: 'pysme', version: e.versions!.pysme },
    sun: {
      deck: sun.deck,
      observedFile: sun.observed,
      linelist: input.linelist,
      settings: {
        vmicKms: sun.vmicKms,
        vsiniKms: sun.vsiniKms,
        vmacKms: sun.vmacKms,
        resolution: sun.resolution,
        medium: input.medium,
      },
      wavelengthStartAngstrom: grid.startAngstrom,
      wavelengthStepAngstrom: grid.stepAngstrom,
      observed: Array.from(c.observed, (v) => (Number.isFinite(v) ? +v.toFixed(5) : null)),
      synthesized: Array.from(c.synthesized, (v) => +v.toFixed(5)),
      medianAbsResidual: c.medianAbsResidual,
      p95AbsResidual: c.p95AbsResidual,
      pixels: c.pixels,
      excluded: c.excluded,
      method: c.method,
      engineSeconds: seconds,
    },
  };
  const dir = await store.stepDir(step, key);
  const path = join(dir, 'metrics.json');
  await writeFileAtomic(path, `${JSON.stringify(metrics)}\n`);
  return completeMetricsStep(store, step, key, path, {
    sunMedianAbsResidual: +c.medianAbsResidual.toFixed(4),
    sunP95AbsResidual: +c.p95AbsResidual.toFixed(4),
    pixels: c.pixels,
  });
}
