// Kurucz-a1 end to end (`synth` queue): spectra of the PINN's atmospheres against the true decks' and the Sun.
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  openDataset,
  readDecks,
  sha256File,
  VAL_SPLIT,
  writeFileAtomic,
  type KuruczDeck,
} from '@stellar-emu/grid-io';
import { initBackend } from '@stellar-emu/nn-core';
import type { PinnSpectraSection } from '@stellar-emu/metrics';
import { absDifferenceStats, quantileWithFailures, Rng } from '@stellar-emu/numerics';
import { loadPinnModel, type PinnEmulator } from '@stellar-emu/pinn';
import {
  compareEmulatedSpectra,
  compareWithObserved,
  emulatedAtmosphere,
  SpectrumCache,
  synthesizeAtmosphere,
  trueDeck,
  UnphysicalAtmosphereError,
  windowWavelengths,
  type AtmosphereEmulator,
  type ColumnMassRepair,
  type WindowedSpectrumSettings,
} from '@stellar-emu/synthesis';
import type {
  MetricsRef,
  ModelRef,
  PinnSpectraInput,
  PinnSpectraPlan,
  StepOutcome,
  SynthBatchInput,
} from '@stellar-emu/workflows';
import { LocalArtifactStore, stepKey } from '../artifacts/store.js';
import { inputError } from './data.js';
import { heartbeatPump } from './heartbeat.js';
import { completeMetricsStep } from './metrics-step.js';
import { hashInputs, readSunInputs, sharedEngine, stopEngineOn } from './synth.js';

const STEP = 'pinn-spectra';

/** `<dir>/sun.json`: the section's `sun` (typed against the contract) and the PySME seconds it took. */
type SunFile = NonNullable<PinnSpectraSection['sun']> & { engineSeconds: number };

/** One chosen validation model: where its deck is and its labels. */
interface PlannedModel {
  id: string;
  /** Resolved deck file and 1-based line of its TEFF card. */
  file: string;
  line: number;
  teffK: number;
  logg: number;
  feh: number;
  afe: number;
}

/** `<dir>/plan.json`. */
interface PlanFile {
  input: PinnSpectraInput;
  key: string;
  pysme: string;
  models: PlannedModel[];
  candidates: number;
  /** The spectrum cache's context: everything besides the atmosphere that shapes a spectrum. */
  cacheContext: string;
}

/** What a batch writes per model: `<dir>/models/<index>.json` (+ `.f32`: true, pinn[, baseline] spectra). */
interface ModelResult {
  index: number;
  id: string;
  source: string;
  teffK: number;
  logg: number;
  feh: number;
  afe: number;
  /** null when the emulator's atmosphere could not be synthesized (the reason in `failed`). */
  pinn: { median: number; p95: number; max: number } | null;
  baseline: { median: number; p95: number; max: number } | null;
  /** Emulators whose atmosphere PySME could not use (e.g. RHOX not increasing), with the reason. */
  failed: Record<string, string>;
  /** Emulators whose column mass was rebuilt from the tau scale in some deep layers (absent in older results). */
  rhoxRepairs?: Record<string, ColumnMassRepair>;
  /** The spectra in the `.f32` file, in order. */
  spectra: string[];
  engineSeconds: number;
  warnings: Record<string, string[]>;
}

/** A rebuilt column mass as the metrics contract records it (the largest change to 4 digits). */
function repairEntry(emulator: 'pinn' | 'baseline', repair: ColumnMassRepair) {
  return { emulator, layers: repair.layers, maxRelativeChange: +repair.maxRelativeChange.toPrecision(4) };
}

function spectrumSettings(input: PinnSpectraInput): WindowedSpectrumSettings {
  const s = input.settings;
  return {
    windows: s.windows,
    stepAngstrom: s.stepAngstrom,
    resolution: s.resolution,
    vmicKms: s.vmicKms,
    vsiniKms: s.vsiniKms,
    vmacKms: s.vmacKms,
    linelist: resolve(s.linelist),
    medium: s.medium,
  };
}

// Emulators and deck files loaded once per worker process.
const emulators = new Map<string, Promise<PinnEmulator>>();
const deckFiles = new Map<string, Promise<Map<number, KuruczDeck>>>();

function emulatorOf(model: ModelRef): Promise<PinnEmulator> {
  let e = emulators.get(model.path);
  if (!e) {
    e = (async () => {
      await initBackend({ quiet: true });
      return (await loadPinnModel(model.path)).emulator;
    })();
    e.catch(() => emulators.delete(model.path));
    emulators.set(model.path, e);
  }
  return e;
}

/** The PINN as an atmosphere emulator: its prediction on the given tau grid (never extrapolated). */
function asEmulator(e: PinnEmulator): AtmosphereEmulator {
  return (labels, tau) => {
    const [p] = e.predictOnTauGrids([{ labels, tau }]);
    return p;
  };
}

function decksOf(file: string): Promise<Map<number, KuruczDeck>> {
  let d = deckFiles.get(file);
  if (!d) {
    d = (async () => {
      const byLine = new Map<number, KuruczDeck>();
      for await (const deck of readDecks(file)) byLine.set(deck.line, deck);
      return byLine;
    })();
    d.catch(() => deckFiles.delete(file));
    deckFiles.set(file, d);
  }
  return d;
}

async function deckAt(file: string, line: number): Promise<KuruczDeck> {
  let decks: Map<number, KuruczDeck>;
  try {
    decks = await decksOf(file);
  } catch (err) {
    throw inputError(`${file}: ${(err as Error).message}`);
  }
  const deck = decks.get(line);
  if (!deck)
    throw inputError(`${file}:${line}: no Kurucz deck starts on this line (the dataset row points here)`);
  return deck;
}

async function readPlan(dir: string): Promise<PlanFile> {
  return JSON.parse(await readFile(join(dir, 'plan.json'), 'utf8')) as PlanFile;
}

/**
 * Choose the validation models (Teff in range; a seeded sample of `models`), check that every
 * deck they came from is readable and unchanged, and write the plan. Skipped when an identical
 * evaluation (models, dataset, settings, line list, PySME version) completed.
 */
export async function planPinnSpectra(input: PinnSpectraInput): Promise<PinnSpectraPlan> {
  const s = input.settings;
  const linelist = resolve(s.linelist);
  const { linelist: linelistHash } = await hashInputs({ linelist }, () => `${s.linelist}: no such line list`);
  const hashes: Record<string, string> = {
    model: input.model.sha256,
    dataset: input.dataset.sha256,
    linelist: linelistHash,
    ...(input.baseline ? { baseline: input.baseline.sha256 } : {}),
    ...(s.sun
      ? await hashInputs(
          { sunDeck: s.sun.deck, sunObserved: s.sun.observed },
          (k, p) =>
            `${p}: no such file (the ${k === 'sunDeck' ? 'solar deck' : 'observed Sun'} of the spectral evaluation)`,
        )
      : {}),
  };
  const e = await sharedEngine();
  const pysme = e.versions!.pysme;
  const { artifacts: _a, heartbeatTimeoutSeconds: _h, ...keyed } = input;
  const key = stepKey(STEP, { settings: { ...keyed.settings, linelist } }, { ...hashes, pysme });
  const store = new LocalArtifactStore(input.artifacts);
  const done = await store.findCompleted(STEP, key);
  const dir = await store.stepDir(STEP, key);
  const batches = (n: number) => {
    const out: { start: number; end: number }[] = [];
    for (let i = 0; i < n; i += s.batchSize) out.push({ start: i, end: Math.min(n, i + s.batchSize) });
    return out;
  };
  if (done) {
    const plan = await readPlan(dir);
    return {
      dir,
      key,
      models: plan.models.length,
      candidates: plan.candidates,
      batches: batches(plan.models.length),
      done: done.summary.metrics as MetricsRef,
    };
  }
  // Candidates: the validation split, in id order (independent of the file's row order).
  const ds = await openDataset(input.dataset.path);
  const sources = new Map<string, string>();
  for (const f of ds.manifest.inputs) sources.set(f.path, f.sha256);
  const candidates: (PlannedModel & { source: string })[] = [];
  for await (const rows of ds.iterateRows({
    columns: ['id', 'source', 'line', 'teff_k', 'logg', 'feh', 'afe', 'split'],
    split: [VAL_SPLIT],
  })) {
    for (const r of rows) {
      const teffK = r.teff_k as number;
      if (teffK < s.teffRangeK[0] || teffK > s.teffRangeK[1]) continue;
      candidates.push({
        id: r.id as string,
        source: r.source as string,
        file: resolve(r.source as string),
        line: r.line as number,
        teffK,
        logg: r.logg as number,
        feh: r.feh as number,
        afe: r.afe as number,
      });
    }
  }
  if (candidates.length === 0)
    throw inputError(
      `${input.dataset.path}: no validation model with Teff in ${s.teffRangeK[0]}–${s.teffRangeK[1]} K to compare spectra of`,
    );
  candidates.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const take = Math.min(s.models, candidates.length);
  const chosen = Array.from(new Rng(s.seed).permutation(candidates.length).subarray(0, take))
    .sort((a, b) => a - b)
    .map((i) => candidates[i]);
  // Every deck file must be the one the dataset was ingested from.
  const checked = new Set<string>();
  for (const m of chosen) {
    if (checked.has(m.file)) continue;
    checked.add(m.file);
    let h: string;
    try {
      h = await sha256File(m.file);
    } catch {
      throw inputError(
        `${m.source}: the deck file of validation model ${m.id} (dataset ${input.dataset.path}) is not readable from ${process.cwd()}`,
      );
    }
    const recorded = sources.get(m.source);
    if (recorded && recorded !== h)
      throw inputError(
        `${m.file}: changed since the dataset ${input.dataset.path} was ingested from it (sha256 differs)`,
      );
  }
  const plan: PlanFile = {
    input,
    key,
    pysme,
    candidates: candidates.length,
    models: chosen.map(({ source: _s, ...m }) => m),
    cacheContext: JSON.stringify({
      settings: spectrumSettings(input),
      linelistHash,
      pysme,
      recipe: 'synthesizeWindows1',
    }),
  };
  await writeFileAtomic(join(dir, 'plan.json'), `${JSON.stringify(plan)}\n`);
  return { dir, key, models: take, candidates: candidates.length, batches: batches(take), done: null };
}

const modelFile = (dir: string, i: number, ext: 'json' | 'f32') =>
  join(dir, 'models', `${String(i).padStart(5, '0')}.${ext}`);

/** Models [start, end) of a plan: true deck, PINN and baseline spectra; a finished model is never recomputed. */
export async function pinnSpectraBatch(
  input: SynthBatchInput,
): Promise<{ done: number; reused: number; engineSeconds: number }> {
  const plan = await readPlan(input.dir);
  const settings = spectrumSettings(plan.input);
  const cache = new SpectrumCache(join(resolve(plan.input.artifacts), 'spectrum-cache'), plan.cacheContext);
  const hb = heartbeatPump();
  const release = stopEngineOn(hb.signal);
  let reused = 0;
  let engineSeconds = 0;
  let calls = 0;
  try {
    const engine = await sharedEngine();
    const pinn = asEmulator(await emulatorOf(plan.input.model));
    const baseline = plan.input.baseline ? asEmulator(await emulatorOf(plan.input.baseline)) : null;
    for (let i = input.start; i < input.end; i++) {
      const m = plan.models[i];
      hb.update({
        step: STEP,
        done: i - input.start,
        total: input.end - input.start,
        intrinsicCalls: calls,
        model: `${m.file}:${m.line}`,
      });
      if (
        await readFile(modelFile(input.dir, i, 'json')).then(
          () => true,
          () => false,
        )
      ) {
        reused++;
        continue;
      }
      const deck = await deckAt(m.file, m.line);
      const r = await compareEmulatedSpectra({
        engine,
        deck: trueDeck(deck, m.afe),
        emulators: {
          pinn: { emulator: pinn, source: `pinn:${plan.input.model.path}` },
          ...(baseline && plan.input.baseline
            ? { baseline: { emulator: baseline, source: `pinn:${plan.input.baseline.path}` } }
            : {}),
        },
        settings,
        cache,
      });
      engineSeconds += r.seconds;
      calls += r.calls;
      const names = ['true', ...Object.keys(r.emulated)];
      const parts = [r.true, ...Object.values(r.emulated)];
      const flat = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      parts.forEach((p, k) => flat.set(p, k * r.true.length));
      await writeFileAtomic(modelFile(input.dir, i, 'f32'), new Uint8Array(flat.buffer));
      const result: ModelResult = {
        index: i,
        id: m.id,
        source: `${m.file}:${m.line}`,
        teffK: m.teffK,
        logg: m.logg,
        feh: m.feh,
        afe: m.afe,
        pinn: r.deltaF.pinn ?? null,
        baseline: r.deltaF.baseline ?? null,
        failed: r.failed,
        rhoxRepairs: r.rhoxRepairs,
        spectra: names,
        engineSeconds: r.seconds,
        warnings: r.warnings,
      };
      // The JSON last: its presence says the model is finished.
      await writeFileAtomic(modelFile(input.dir, i, 'json'), `${JSON.stringify(result)}\n`);
    }
    hb.update({
      step: STEP,
      done: input.end - input.start,
      total: input.end - input.start,
      intrinsicCalls: calls,
    });
  } finally {
    release();
    hb.stop();
  }
  return { done: input.end - input.start - reused, reused, engineSeconds };
}

/** Paper Fig. 5: the observed Sun against the true solar deck's spectrum and the PINN's at its labels. */
export async function pinnSunSpectra(input: { dir: string }): Promise<{ engineSeconds: number }> {
  const plan = await readPlan(input.dir);
  const sun = plan.input.settings.sun;
  if (!sun) return { engineSeconds: 0 };
  const out = join(input.dir, 'sun.json');
  if (
    await readFile(out).then(
      () => true,
      () => false,
    )
  )
    return { engineSeconds: 0 };
  const { deck, observed, grid } = await readSunInputs(sun);
  const settings = {
    grid,
    linelist: resolve(plan.input.settings.linelist),
    medium: plan.input.settings.medium,
    vmicKms: sun.vmicKms,
    vsiniKms: sun.vsiniKms,
    vmacKms: sun.vmacKms,
    resolution: sun.resolution,
  };
  const hb = heartbeatPump();
  const release = stopEngineOn(hb.signal);
  try {
    const engine = await sharedEngine();
    const t = trueDeck(deck, 0);
    const labels = { teffK: t.labels.teffK, logg: t.labels.logg, mh: t.labels.feh };
    let seconds = 0;
    const spectrum = async (name: string, atm: Parameters<typeof synthesizeAtmosphere>[1]) => {
      hb.update({ step: `${STEP}-sun`, stage: `synthesizing the Sun (${name})` });
      const r = await synthesizeAtmosphere(engine, atm, labels, settings, `${sun.deck} (${name})`);
      seconds += r.seconds;
      return r.flux;
    };
    const truth = await spectrum('true deck', t.atmosphere);
    const emulated = async (m: ModelRef) => {
      try {
        return emulatedAtmosphere(t, asEmulator(await emulatorOf(m)), `pinn:${m.path}`);
      } catch (err) {
        // Retrying cannot fix an emulator's unusable solar atmosphere: say so at once.
        if (err instanceof UnphysicalAtmosphereError)
          throw inputError(`the Sun (${sun.deck}): ${err.message}`);
        throw err;
      }
    };
    const rhoxRepairs: SunFile['rhoxRepairs'] = [];
    const synthesized = async (emulator: 'pinn' | 'baseline', m: ModelRef) => {
      const atm = await emulated(m);
      if (atm.rhoxRepair) rhoxRepairs.push(repairEntry(emulator, atm.rhoxRepair));
      return spectrum(emulator === 'pinn' ? 'PINN' : 'baseline', atm);
    };
    const pinn = await synthesized('pinn', plan.input.model);
    const baseline = plan.input.baseline ? await synthesized('baseline', plan.input.baseline) : null;
    // One continuum placement (the true deck's) for every spectrum, so residuals differ only by the atmospheres.
    const c = compareWithObserved(observed, truth, grid);
    const vsObserved = (f: Float64Array) => absDifferenceStats(c.observed, f);
    // Observed: null where the detector has a gap; synthesized: numbers (the contract wants finite flux there).
    const round = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? +v.toFixed(5) : null));
    const roundFlux = (a: ArrayLike<number>) => Array.from(a, (v) => +v.toFixed(5));
    const result: SunFile = {
      deck: sun.deck,
      observedFile: sun.observed,
      labels: t.labels,
      settings: {
        vmicKms: sun.vmicKms,
        vsiniKms: sun.vsiniKms,
        vmacKms: sun.vmacKms,
        resolution: sun.resolution,
      },
      wavelengthStartAngstrom: grid.startAngstrom,
      wavelengthStepAngstrom: grid.stepAngstrom,
      observed: round(c.observed),
      true: roundFlux(truth),
      pinn: roundFlux(pinn),
      baseline: baseline ? roundFlux(baseline) : null,
      residuals: {
        trueVsObserved: vsObserved(truth),
        pinnVsObserved: vsObserved(pinn),
        baselineVsObserved: baseline ? vsObserved(baseline) : null,
        pinnVsTrue: absDifferenceStats(pinn, truth),
        baselineVsTrue: baseline ? absDifferenceStats(baseline, truth) : null,
      },
      zooms: sun.zooms,
      method: `${c.method}; the continuum placed once, with the true deck's spectrum, and used for every spectrum`,
      rhoxRepairs,
      engineSeconds: seconds,
    };
    await writeFileAtomic(out, `${JSON.stringify(result)}\n`);
    return { engineSeconds: seconds };
  } finally {
    release();
    hb.stop();
  }
}

/** A model's id, deck location and labels, as the report's section names them. */
const identity = (r: ModelResult) => ({
  id: r.id,
  source: r.source,
  teffK: r.teffK,
  logg: r.logg,
  feh: r.feh,
  afe: r.afe,
});

/** Gather every model's result (and the Sun) into the report's `pinnSpectra` section. */
export async function assemblePinnSpectra(input: {
  dir: string;
  artifacts: string;
}): Promise<StepOutcome<MetricsRef>> {
  const plan = await readPlan(input.dir);
  const store = new LocalArtifactStore(input.artifacts);
  const done = await store.findCompleted(STEP, plan.key);
  if (done) return { skipped: true, key: plan.key, result: done.summary.metrics as MetricsRef };
  const names = new Set(await readdir(join(input.dir, 'models')).catch(() => [] as string[]));
  const results: ModelResult[] = [];
  for (let i = 0; i < plan.models.length; i++) {
    if (!names.has(`${String(i).padStart(5, '0')}.json`))
      throw new Error(
        `${input.dir}: model ${i} (${plan.models[i].file}:${plan.models[i].line}) has no result; its batch did not finish`,
      );
    results.push(JSON.parse(await readFile(modelFile(input.dir, i, 'json'), 'utf8')) as ModelResult);
  }
  // Every model counts: one an emulator failed on ranks as its worst (never dropped).
  const failures = results.flatMap((r) =>
    Object.entries(r.failed ?? {}).map(([emulator, reason]) => ({
      ...identity(r),
      emulator: emulator as 'pinn' | 'baseline',
      reason,
    })),
  );
  const rhoxRepairs = results.flatMap((r) =>
    Object.entries(r.rhoxRepairs ?? {}).map(([emulator, repair]) => ({
      ...identity(r),
      ...repairEntry(emulator as 'pinn' | 'baseline', repair),
    })),
  );
  const summaryOf = (pick: (r: ModelResult) => { median: number; p95: number } | null) => {
    const xs = results.map(pick);
    const p95 = xs.map((x) => x?.p95 ?? null);
    return {
      medianOfMedians: quantileWithFailures(
        xs.map((x) => x?.median ?? null),
        0.5,
      ),
      medianOfP95: quantileWithFailures(p95, 0.5),
      p95OfP95: quantileWithFailures(p95, 0.95),
      failed: xs.filter((x) => x === null).length,
    };
  };
  const summary = {
    pinn: summaryOf((r) => r.pinn),
    baseline: plan.input.baseline ? summaryOf((r) => r.baseline) : null,
  };
  // The example: among the models every emulator could be synthesized for, the one whose PINN
  // median |ΔF| is the median one.
  const complete = results.filter((r) => r.pinn !== null && (!plan.input.baseline || r.baseline !== null));
  if (complete.length === 0)
    throw new Error(
      `${input.dir}: no model has every emulated spectrum (first failure: ${failures[0]?.reason})`,
    );
  const order = complete.map((r, i) => [r.pinn!.median, i] as const).sort((a, b) => a[0] - b[0]);
  const ex = complete[order[Math.floor((order.length - 1) / 2)][1]];
  const settings = spectrumSettings(plan.input);
  const wave = windowWavelengths(settings);
  const buf = await readFile(modelFile(input.dir, ex.index, 'f32'));
  const flat = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const n = wave.length;
  const part = (name: string) => {
    const k = ex.spectra.indexOf(name);
    return Array.from(flat.subarray(k * n, (k + 1) * n), (v) => +v.toFixed(5));
  };
  const sunFile = join(input.dir, 'sun.json');
  const sun = plan.input.settings.sun ? (JSON.parse(await readFile(sunFile, 'utf8')) as SunFile) : null;
  const pinnAlpha = (await emulatorOf(plan.input.model)).physics.alpha;
  const baselineAlpha = plan.input.baseline ? (await emulatorOf(plan.input.baseline)).physics.alpha : null;
  const sunSeconds = sun?.engineSeconds ?? 0;
  const sunSection = sun ? (({ engineSeconds: _seconds, ...rest }: SunFile) => rest)(sun) : null;
  // The contract's section (typed: a field drifting from it is a compile error).
  const section: PinnSpectraSection = {
    engine: { name: 'pysme', version: plan.pysme },
    settings: { ...settings, windows: settings.windows, linelist: plan.input.settings.linelist },
    sample: {
      split: VAL_SPLIT,
      candidates: plan.candidates,
      seed: plan.input.settings.seed,
      teffRangeK: plan.input.settings.teffRangeK,
    },
    alpha: pinnAlpha,
    baselineAlpha,
    models: results.map((r) => ({ ...identity(r), pinn: r.pinn, baseline: r.baseline })),
    failures,
    rhoxRepairs,
    summary,
    example: {
      id: ex.id,
      teffK: ex.teffK,
      logg: ex.logg,
      feh: ex.feh,
      wavelengthAngstrom: Array.from(wave, (w) => +w.toFixed(3)),
      true: part('true'),
      pinn: part('pinn'),
      baseline: plan.input.baseline ? part('baseline') : null,
    },
    ...(sunSection ? { sun: sunSection } : {}),
    engineSeconds: results.reduce((s, r) => s + r.engineSeconds, 0) + sunSeconds,
  };
  const path = join(input.dir, 'metrics.json');
  await writeFileAtomic(path, `${JSON.stringify(section)}\n`);
  const r4 = (x: number | null) => (x === null ? 'failed' : +x.toPrecision(4));
  const sunRes = sun?.residuals;
  return completeMetricsStep(store, STEP, plan.key, path, {
    models: results.length,
    pinnFailed: summary.pinn.failed,
    pinnRhoxRepaired: rhoxRepairs.filter((x) => x.emulator === 'pinn').length,
    pinnMedianAbsDeltaF: r4(summary.pinn.medianOfMedians),
    pinnMedianP95AbsDeltaF: r4(summary.pinn.medianOfP95),
    ...(summary.baseline
      ? {
          baselineFailed: summary.baseline.failed,
          baselineMedianAbsDeltaF: r4(summary.baseline.medianOfMedians),
          baselineMedianP95AbsDeltaF: r4(summary.baseline.medianOfP95),
        }
      : {}),
    ...(sunRes ? { sunResidualRatio: r4(sunRes.pinnVsObserved.median / sunRes.trueVsObserved.median) } : {}),
  });
}
