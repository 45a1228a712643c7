// Spectrum synthesis activities (`synth` queue): plan a PySME grid, synthesize its batches, assemble the dataset.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { readManifest, sha256File, type SpectrumGrid } from '@stellar-emu/grid-io';
import {
  atlasGridSource,
  cvaeBoxFor,
  intrinsicKey,
  loadAtlasGrid,
  readSpectrumLabelTable,
  RowStore,
  rowKey,
  sampleSpectrumRows,
  SmeEngine,
  synthesisWindow,
  synthesizeRows,
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
  SmeSpectraSettings,
  SpectrumGridPlan,
  StepOutcome,
  SynthBatchInput,
  SynthBatchResult,
  SynthesizeGridInput,
} from '@stellar-emu/workflows';
import { hashPath, LocalArtifactStore, stepKey, writeFileAtomic } from '../artifacts/store.js';
import { heartbeatPump } from './heartbeat.js';
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

function sharedEngine(): Promise<SmeEngine> {
  if (!engine) {
    engine = SmeEngine.start();
    engine.catch(() => (engine = null));
  }
  return engine;
}

/** Stop this process's PySME engine (worker shutdown and tests). */
export async function closeSynthesisEngine(): Promise<void> {
  const e = engine;
  engine = null;
  if (e) await (await e).close().catch(() => undefined);
}

function gridSource(dir: string): Promise<AtmosphereSource> {
  const key = resolve(dir);
  const cached = grids.get(key);
  if (cached) return cached;
  const s = loadAtlasGrid(key).then(atlasGridSource);
  s.catch(() => grids.delete(key));
  grids.set(key, s);
  return s;
}

/** The output grid of a window [first, last) at `stepAngstrom`. */
export function windowGrid(window: [number, number], stepAngstrom: number): SpectrumGrid {
  const n = Math.round((window[1] - window[0]) / stepAngstrom);
  if (n < 16)
    throw inputError(
      `window ${window[0]}–${window[1]} Å at ${stepAngstrom} Å has ${n} pixels; at least 16 are needed`,
    );
  return { startAngstrom: window[0], stepAngstrom, n };
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
  const grid = windowGrid(source.window, source.stepAngstrom);
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
  const hb = heartbeatPump();
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
    hb.stop();
  }
}

/** Write the grid's dataset (70/15/15 hash split, provenance in the manifest) once every row is done. */
export async function assembleSpectrumGrid(input: {
  dir: string;
  artifacts: string;
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
    provenance: plan.provenance,
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
