import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertBitwiseEqual,
  createOptimizer,
  initBackend,
  latestCheckpoint,
  readCheckpoint,
  tf,
} from '@stellar-emu/nn-core';
import { openDataset, scaleValue } from '@stellar-emu/grid-io';
import { tempDir, writeToyDataset } from '../test/fixtures.js';
import { loadCvaeModel, saveCvaeModel } from './artifact.js';
import { makeCvaeConfig, type CvaeConfig } from './config.js';
import { SpectrumCvae } from './model.js';
import { trainCvae, type TrainCvaeOptions } from './train.js';

beforeAll(async () => {
  await initBackend({ force: 'cpu', quiet: true });
});

const tiny: Partial<CvaeConfig> = {
  encoderWidths: [32, 16],
  latentDim: 4,
  decoderWidths: [16, 32],
  batchSize: 32,
  epochs: 3,
  learningRate: 3e-3,
  klWarmupSteps: 10,
};
let dataset: string;
beforeAll(async () => {
  dataset = await writeToyDataset({ n: 240, nPixels: 120, rowGroupSize: 40 });
});

async function finalParams(dir: string): Promise<Map<string, Float32Array>> {
  const ck = await readCheckpoint((await latestCheckpoint(join(dir, 'checkpoints')))!);
  const out = new Map<string, Float32Array>();
  for (const [k, t] of ck.tensors)
    if (k.startsWith('param/') || k.startsWith('opt/')) out.set(k, t.data as Float32Array);
  return out;
}

test('training writes a loadable model directory, and an interrupted run resumed from its checkpoint is bitwise identical', async () => {
  // cache smaller than the training split (~216 x 120 x 4 = 104 kB): out-of-core path
  const base: Omit<TrainCvaeOptions, 'outDir'> = {
    datasetDir: dataset,
    preset: 'custom',
    overrides: tiny,
    cacheBytes: 40_000,
    reportEverySteps: 2,
    checkpointEverySteps: 3,
  };
  const full = tempDir();
  const numTensors: number[] = [];
  // nn-core's ParamStore.add and AdamFamily keep the initial tensor of every variable registered
  // after dispose (reported to nn-core); measure that construction residue separately.
  const before0 = tf.memory().numTensors;
  const probe = new SpectrumCvae(
    makeCvaeConfig('custom', { nPixels: 120, labelColumns: ['a', 'b', 'c', 'd', 'e', 'f'] }, tiny),
  );
  createOptimizer('adam', probe.params).dispose();
  probe.dispose();
  const constructionResidue = tf.memory().numTensors - before0;
  const before = tf.memory().numTensors;
  const a = await trainCvae({
    ...base,
    outDir: full,
    onProgress: (p) => void (p.phase === 'step' && numTensors.push(tf.memory().numTensors)),
  });
  expect(a.loop.epochsDone).toBe(3);
  expect(a.trainExamples + a.valExamples).toBe(240);
  expect(a.trainSourceStats.peakCachedBytes).toBeLessThanOrEqual(40_000);
  // leak test: the tensor count is flat from the first report on, and everything is released at the end
  expect(new Set(numTensors.slice(1)).size).toBe(1);
  expect(tf.memory().numTensors - before).toBe(constructionResidue);
  expect(a.loop.history.map((h) => h.valLoss! > 0)).toEqual([true, true, true]);

  // resume a fresh process-state from a mid-epoch checkpoint of the same run (step 15 of 21: epoch 2, step 1)
  const interrupted = tempDir();
  await mkdir(join(interrupted, 'checkpoints'));
  const mid = join(interrupted, 'checkpoints', 'ckpt-0000000015.safetensors');
  await copyFile(join(full, 'checkpoints', 'ckpt-0000000015.safetensors'), mid);
  const b2 = await trainCvae({ ...base, outDir: interrupted, resume: mid });
  expect(b2.loop.globalStep).toBe(a.loop.globalStep);
  expect(b2.resumedFromStep).toBe(15);
  expect(a.resumedFromStep).toBe(0);
  const pa = await finalParams(full);
  const pb = await finalParams(interrupted);
  expect([...pb.keys()]).toEqual([...pa.keys()]);
  for (const [k, v] of pa) assertBitwiseEqual(pb.get(k)!, v, k);
  expect(b2.loop.history).toEqual(a.loop.history);
  expect(a.loop.globalStep).toBe(21);

  const loaded = await loadCvaeModel(full);
  expect(loaded.meta.labels.map((l) => l.key)).toEqual([
    'teffK',
    'logg',
    'vsiniKms',
    'mh',
    'vmicKms',
    'resolution',
  ]);
  // The broadening labels are scaled in log10(v + offset) (DEFAULT_LABEL_LOG10_OFFSETS), the others
  // linearly; each scale's ends are its transformed training range, inside which the training box lies.
  const manifest = (await openDataset(dataset)).manifest;
  for (const l of loaded.meta.labels) {
    const r = manifest.labelRanges[l.column];
    const offset = { vsiniKms: 3, resolution: 0 }[l.key];
    expect(l.log10Offset).toBe(offset);
    const f = (v: number) => (offset === undefined ? v : Math.log10(v + offset));
    expect(l.min).toBeCloseTo(f(r.min), 12);
    expect(l.max).toBeCloseTo(f(r.max), 12);
    expect(scaleValue(l.rangeMin, l)).toBeGreaterThanOrEqual(-1 - 1e-12);
    expect(scaleValue(l.rangeMax, l)).toBeLessThanOrEqual(1 + 1e-12);
  }
  expect(loaded.meta.wavelength).toEqual({ startAngstrom: 5000, stepAngstrom: 0.05, nPixels: 120 });
  expect(loaded.meta.training.bestEpoch).toBe(a.bestEpoch);
  loaded.model.dispose();
});

test('a changed config refuses to resume', async () => {
  const out = tempDir();
  await trainCvae({ datasetDir: dataset, outDir: out, preset: 'custom', overrides: { ...tiny, epochs: 1 } });
  await expect(
    trainCvae({
      datasetDir: dataset,
      outDir: out,
      preset: 'custom',
      overrides: { ...tiny, epochs: 2, beta: 0.5 },
      resume: true,
    }),
  ).rejects.toThrow(/different config/);
  // more epochs with the same config is a legitimate continuation, also in chunks (untilEpoch)
  const r = await trainCvae({
    datasetDir: dataset,
    outDir: out,
    preset: 'custom',
    overrides: { ...tiny, epochs: 4 },
    resume: true,
    untilEpoch: 2,
  });
  expect(r.loop.epochsDone).toBe(2);
  expect(r.resumedFromStep).toBe(7);
  const r2 = await trainCvae({
    datasetDir: dataset,
    outDir: out,
    preset: 'custom',
    overrides: { ...tiny, epochs: 4 },
    resume: true,
  });
  expect(r2.loop.epochsDone).toBe(4);
});

test('resume with a truncated newest checkpoint falls back to the older one with a warning and ends bitwise where the uninterrupted run ends', async () => {
  const base: Omit<TrainCvaeOptions, 'outDir'> = {
    datasetDir: dataset,
    preset: 'custom',
    overrides: tiny,
    cacheBytes: 40_000,
    reportEverySteps: 2,
    checkpointEverySteps: 3,
  };
  const full = tempDir();
  const a = await trainCvae({ ...base, outDir: full });
  const dir = tempDir();
  const first = await trainCvae({ ...base, outDir: dir, untilEpoch: 2 });
  const newest = (await latestCheckpoint(join(dir, 'checkpoints')))!;
  expect(newest).toBe(first.loop.finalCheckpoint);
  await truncate(newest, Math.floor((await stat(newest)).size / 2));
  const warned: string[] = [];
  const b = await trainCvae({
    ...base,
    outDir: dir,
    resume: true,
    onProgress: (p) => void (p.checkpointWarnings && warned.push(...p.checkpointWarnings)),
  });
  expect(b.resumedFromStep).toBeLessThan(first.loop.globalStep);
  expect(b.loop.checkpointWarnings).toHaveLength(1);
  expect(b.loop.checkpointWarnings[0]).toContain(newest);
  expect(new Set(warned)).toEqual(new Set(b.loop.checkpointWarnings));
  expect(b.loop.globalStep).toBe(a.loop.globalStep);
  expect(b.loop.history).toEqual(a.loop.history);
  const pa = await finalParams(full);
  const pb = await finalParams(dir);
  for (const [k, v] of pa) assertBitwiseEqual(pb.get(k)!, v, k);
  expect((await readdir(join(dir, 'checkpoints'))).filter((n) => n.includes('.corrupt-'))).toHaveLength(1);
});

test('a model save that fails after the weights are serialized leaves the previous model directory (weights, model.json, checkpoints) byte-identical', async () => {
  const dir = tempDir();
  await trainCvae({
    datasetDir: dataset,
    outDir: dir,
    preset: 'custom',
    overrides: { ...tiny, epochs: 1 },
    checkpointEverySteps: 3,
  });
  const hashes = async () => {
    const out: Record<string, string> = {};
    for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (e.isFile())
        out[join(e.parentPath, e.name).slice(dir.length + 1)] = createHash('sha256')
          .update(await readFile(join(e.parentPath, e.name)))
          .digest('hex');
    }
    return out;
  };
  const before = await hashes();
  expect(Object.keys(before)).toEqual(expect.arrayContaining(['model.json', 'weights.safetensors']));
  const loaded = await loadCvaeModel(dir);
  const other = new SpectrumCvae(loaded.meta.config); // different (fresh) weights
  const { format: _f, weightsFile: _w, createdAt: _c, ...meta } = loaded.meta;
  await expect(
    saveCvaeModel(dir, other, { ...meta, training: { ...meta.training, seconds: 1n } }),
  ).rejects.toThrow(/BigInt/);
  expect(await hashes()).toEqual(before);
  other.dispose();
  loaded.model.dispose();
  const again = await loadCvaeModel(dir);
  again.model.dispose();
});
