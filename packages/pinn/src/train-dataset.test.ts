import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticAtmospheres, writeAtmosphereDataset } from '@stellar-emu/grid-io';
import { assertBitwiseEqual, initBackend, latestCheckpoint, readCheckpoint, tf } from '@stellar-emu/nn-core';
import {
  CHECKPOINT_SUBDIR,
  loadPinnModel,
  MODEL_JSON,
  MODEL_WEIGHTS,
  writeModelDir,
  type PinnModelJson,
} from './model-dir.js';
import { trainPinnOnDataset, type TrainPinnOptions } from './train-dataset.js';
import { evaluatePinnModel } from './evaluate.js';

let datasetDir: string;
let trainedDir: string;
let otherDir: string;
const ranges = {
  teffK: { min: 4500, max: 7000 },
  logg: { min: 3.5, max: 4.8 },
  feh: { min: -1, max: 0.3 },
  afe: { min: 0, max: 0.3 },
};

beforeAll(async () => {
  // cpu: the chunked-resume comparison is bitwise.
  await initBackend({ force: 'cpu', quiet: true });
  datasetDir = mkdtempSync(join(tmpdir(), 'pinn-ds-'));
  // 48 models, every 6th for validation (8): the evaluation's 0.25-dex depth bins need 5 points each, so the
  // split is set here rather than drawn from the ids' hashes (which gave 4 validation models for these ids).
  const models = [...syntheticAtmospheres({ n: 48, seed: 3, nLayers: 20, ranges })].map((m, i) => ({
    ...m,
    split: i % 6 === 0 ? 'val' : 'train',
  }));
  await writeAtmosphereDataset(models, datasetDir);
});

const base = (outDir: string): TrainPinnOptions => ({
  datasetDir,
  outDir,
  preset: 'small',
  epochs: 4,
  seed: 7,
  batchSize: 128,
  learningRate: 2e-3,
  checkpointEverySteps: 3,
});

async function weights(dir: string): Promise<Map<string, Float32Array>> {
  const ck = await readCheckpoint(join(dir, MODEL_WEIGHTS));
  return new Map([...ck.tensors].map(([k, t]) => [k, t.data as Float32Array]));
}

test('chunked training (untilEpoch 2, then resume to 4) is bitwise equal to one call with epochs = 4', async () => {
  const whole = await trainPinnOnDataset(base(mkdtempSync(join(tmpdir(), 'pinn-whole-'))));
  expect(whole).toMatchObject({
    epochsDone: 4,
    done: true,
    aborted: false,
    stoppedEarly: false,
    resumedFromStep: 0,
    backend: 'cpu',
  });
  const chunkedDir = mkdtempSync(join(tmpdir(), 'pinn-chunk-'));
  const progress: number[] = [];
  const first = await trainPinnOnDataset({ ...base(chunkedDir), untilEpoch: 2, resume: true });
  expect(first).toMatchObject({ epochsDone: 2, done: false, resumedFromStep: 0 });
  const second = await trainPinnOnDataset({
    ...base(chunkedDir),
    untilEpoch: 4,
    resume: true,
    onProgress: (p) => {
      expect(p.epochs).toBe(4);
      expect(p.resumedFromStep).toBe(first.globalStep);
      progress.push(p.globalStep);
    },
  });
  expect(second).toMatchObject({
    epochsDone: 4,
    done: true,
    resumedFromStep: first.globalStep,
    globalStep: whole.globalStep,
  });
  expect(progress.length).toBeGreaterThan(0);
  expect(second.history).toEqual(whole.history);
  trainedDir = chunkedDir;
  otherDir = whole.modelDir;
  const a = await weights(whole.modelDir);
  const b = await weights(chunkedDir);
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [k, v] of a) assertBitwiseEqual(b.get(k)!, v, k);

  const model = JSON.parse(readFileSync(join(chunkedDir, MODEL_JSON), 'utf8'));
  expect(model.training).toMatchObject({ epochs: 4, epochsDone: 4, done: true });
  expect(model.dataset.hash).toMatch(/^[0-9a-f]{64}$/);
  expect(model.labelRanges.teffK.min).toBeGreaterThanOrEqual(4500);
  expect(model.tauConvention).toMatch(/ABROSS_0 \* RHOX_0/);
});

test('resume with a truncated newest checkpoint falls back to the older one, renames the bad file aside with a warning, and ends bitwise where the uninterrupted run ends', async () => {
  // The uninterrupted run of the first test.
  const wholeModel = JSON.parse(readFileSync(join(otherDir, MODEL_JSON), 'utf8'));
  const whole = {
    modelDir: otherDir,
    globalStep: wholeModel.training.globalStep as number,
    history: wholeModel.training.history as unknown[],
  };
  const dir = mkdtempSync(join(tmpdir(), 'pinn-corrupt-'));
  const first = await trainPinnOnDataset({ ...base(dir), untilEpoch: 2 });
  const ckptDir = join(dir, CHECKPOINT_SUBDIR);
  const newest = (await latestCheckpoint(ckptDir))!;
  expect(newest).toBe(first.lastCheckpoint);
  truncateSync(newest, Math.floor(statSync(newest).size / 3));
  writeFileSync(join(ckptDir, '.ckpt-0000000099.safetensors.tmp-77-1700000000000'), 'interrupted write');
  const warned: string[] = [];
  const reported: string[][] = [];
  const rest = await trainPinnOnDataset({
    ...base(dir),
    resume: true,
    onWarning: (w) => void warned.push(w),
    onProgress: (p) => void reported.push(p.checkpointWarnings ?? []),
  });
  expect(rest).toMatchObject({ epochsDone: 4, done: true, globalStep: whole.globalStep });
  // It resumed from the checkpoint before the lost one.
  expect(rest.resumedFromStep).toBeGreaterThan(0);
  expect(rest.resumedFromStep).toBeLessThan(first.globalStep);
  expect(rest.history).toEqual(whole.history);
  const a = await weights(whole.modelDir);
  const b = await weights(dir);
  for (const [k, v] of a) assertBitwiseEqual(b.get(k)!, v, k);
  expect(warned).toHaveLength(1);
  expect(warned[0]).toContain(newest);
  expect(rest.checkpointWarnings).toEqual(warned);
  expect(reported.length).toBeGreaterThan(0);
  for (const r of reported) expect(r).toEqual(warned);
  const names = readdirSync(ckptDir);
  expect(names.filter((n) => n.startsWith(`${newest.split('/').pop()}.corrupt-`))).toHaveLength(1);
  expect(names.filter((n) => n.includes('.tmp-'))).toEqual([]);
});

/** sha256 of every file under `dir`, by relative path. */
function fileHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    out[p.slice(dir.length + 1)] = createHash('sha256').update(readFileSync(p)).digest('hex');
  }
  return out;
}

test('a model write that fails after the weights are serialized leaves the previous model directory (weights, model.json, checkpoints) byte-identical and loadable', async () => {
  const before = fileHashes(trainedDir);
  expect(Object.keys(before)).toContain(MODEL_WEIGHTS);
  expect(Object.keys(before).some((k) => k.startsWith(`${CHECKPOINT_SUBDIR}/`))).toBe(true);
  const { emulator: other, model } = await loadPinnModel(otherDir);
  // model.json cannot be serialized: the failure comes after the new weights were written.
  const meta = {
    ...(model as Omit<PinnModelJson, 'kind'>),
    training: { ...model.training, durationS: 1n as unknown as number },
  };
  await expect(writeModelDir(trainedDir, other, meta)).rejects.toThrow(/BigInt/);
  other.dispose();
  expect(fileHashes(trainedDir)).toEqual(before);
  expect(
    readdirSync(join(trainedDir, '..')).filter((n) => n.startsWith(`.${trainedDir.split('/').pop()}.`)),
  ).toEqual([]);
  const { emulator } = await loadPinnModel(trainedDir);
  emulator.dispose();
});

test('abort writes a checkpoint; resuming a finished run does not train again; model dir errors are clear', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pinn-abort-'));
  const ac = new AbortController();
  const r = await trainPinnOnDataset({
    ...base(dir),
    reportEverySteps: 1,
    onProgress: (p) => (p.globalStep >= 2 ? ac.abort() : undefined),
    signal: ac.signal,
  });
  expect(r).toMatchObject({ aborted: true, done: false });
  expect(r.lastCheckpoint).toMatch(/ckpt-0+2\.safetensors$/);
  const rest = await trainPinnOnDataset({ ...base(dir), resume: true });
  expect(rest).toMatchObject({ epochsDone: 4, done: true, resumedFromStep: 2 });
  const again = await trainPinnOnDataset({ ...base(dir), resume: true });
  expect(again).toMatchObject({
    epochsDone: 4,
    done: true,
    resumedFromStep: rest.globalStep,
    globalStep: rest.globalStep,
  });

  const before = tf.memory().numTensors;
  const { emulator, model } = await loadPinnModel(dir);
  expect(model.preset).toBe('small');
  const [p] = emulator.predictAtmosphere([{ teffK: 5500, logg: 4.2, feh: -0.2, afe: 0.1 }]);
  expect(p.temperature.every((t) => t > 1000 && t < 30000)).toBe(true);
  emulator.dispose();
  expect(tf.memory().numTensors).toBe(before);

  await expect(loadPinnModel(join(dir, 'nope'))).rejects.toThrow(/does not exist/);
  await expect(loadPinnModel(datasetDir)).rejects.toThrow(/has no model\.json/);
  const w = readFileSync(join(dir, MODEL_WEIGHTS));
  w[w.length - 10] ^= 1;
  writeFileSync(join(dir, MODEL_WEIGHTS), w);
  await expect(loadPinnModel(dir)).rejects.toThrow(/does not match model\.json.*corrupt/);
  writeFileSync(join(dir, MODEL_JSON), '{"kind": "kurucz-a1');
  await expect(loadPinnModel(dir)).rejects.toThrow(/not valid JSON.*corrupt/);
});

test("evaluatePinnModel writes the report's pinn section (depth errors, hydrostatic curves and residuals, label errors, summary)", async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'pinn-eval-')), 'metrics.json');
  const { summary } = await evaluatePinnModel({
    modelDir: trainedDir,
    datasetDir,
    baselineModelDir: otherDir,
    out,
  });
  const m = JSON.parse(readFileSync(out, 'utf8'));
  expect(m.nModels).toBeGreaterThan(0);
  expect(m.depthError.map((d: { quantity: string }) => d.quantity)).toEqual([
    'rhox',
    'temperature',
    'pressure',
    'xne',
    'abross',
    'accrad',
  ]);
  for (const d of m.depthError) {
    expect(d.logTau.length).toBeGreaterThan(3);
    for (const k of ['medianPercent', 'p16Percent', 'p84Percent']) {
      expect(d[k]).toHaveLength(d.logTau.length);
      expect(d[k].every(Number.isFinite)).toBe(true);
    }
    d.logTau.forEach((_: number, i: number) => expect(d.p16Percent[i]).toBeLessThanOrEqual(d.p84Percent[i]));
  }
  expect(m.hydrostatic.curves.map((c: { model: string }) => c.model)).toEqual(['grid', 'pinn', 'baseline']);
  for (const c of m.hydrostatic.curves) expect(c.dPdTau).toHaveLength(c.tau.length);
  // The grid is in hydrostatic equilibrium: its residual is small (synthetic models are exact to FD error).
  expect(summary.medianHydrostaticResidualGrid).toBeLessThan(0.01);
  expect(m.hydrostaticResiduals.map((r: { model: string }) => r.model)).toEqual(['grid', 'pinn', 'baseline']);
  expect(m.labelError.medianPercent).toHaveLength(m.nModels);
  expect(m.labelError.labels.teffK).toHaveLength(m.nModels);
  expect(Number.isFinite(m.summary.medianHydrostaticResidual)).toBe(true);
  expect(summary['medianPercent.temperature']).toBe(m.summary.medianPercent.temperature);
  expect(summary.medianHydrostaticResidual).toBe(m.summary.medianHydrostaticResidual);
});
