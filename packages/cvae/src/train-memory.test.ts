// Memory of a long training run on the production backend: after warm-up the resident memory
// stays in a stated band — no growth per step (a tensor or buffer kept per step) and none per
// epoch (validation pass, checkpoint and best-model writes, the out-of-core cache).
import { initBackend, requireProductionBackendInCi, type Progress } from '@stellar-emu/nn-core';
import { theilSenSlope } from '@stellar-emu/numerics';
import { tempDir, writeToyDataset } from '../test/fixtures.js';
import { trainCvae } from './train.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
  requireProductionBackendInCi();
});

// A mid-size CVAE: 4,000 px, encoder 1024/512, latent 32 — 9.3 M parameters, 37 MB per copy
// (weights, gradients, Adam m and v: 150 MB of training state), batch 32, 17 steps per epoch,
// 18 epochs = 306 steps; a checkpoint every 50 steps and at every epoch end, the best model
// written whenever validation improves. Warm-up: the first 3 epochs (allocator pools, oneDNN
// primitives, the row-group cache filling).
const N_PIXELS = 4000;
const EPOCHS = 18;
const WARMUP_EPOCHS = 3;
/**
 * The band: after warm-up, RSS never exceeds the warm-up's maximum by more than 64 MiB (less
 * than half of the training state; V8 collects the JS copies of written tensors lazily), and
 * its trend over the remaining ~255 steps is below 0.1 MiB per step (25 MiB over the run; one
 * leaked batch of flux per step alone would be 0.5 MiB per step) and below 2 MiB per epoch
 * between epoch ends. The trend is the Theil–Sen slope (median of pairwise slopes): RSS here
 * switches between two levels ~30 MiB apart as the allocator takes and returns blocks, and a
 * least-squares line through such a series is set by where the last few switches fall (seen:
 * -0.007 to 0.108 MiB/step over runs of the same code), while a steady per-step growth gives
 * the same slope in both.
 */
const BAND_MIB = 64;
const MAX_SLOPE_MIB_PER_STEP = 0.1;
const MAX_SLOPE_MIB_PER_EPOCH = 2;

test(`a ${EPOCHS}-epoch run of a mid-size CVAE keeps its resident memory in a band after warm-up`, async () => {
  const dataset = await writeToyDataset({ n: 600, nPixels: N_PIXELS, rowGroupSize: 60 });
  const steps: { step: number; rss: number; epoch: number }[] = [];
  const epochEnds: { epoch: number; rss: number }[] = [];
  const r = await trainCvae({
    datasetDir: dataset,
    outDir: tempDir('cvae-mem-'),
    preset: 'custom',
    overrides: {
      encoderWidths: [1024, 512],
      latentDim: 32,
      decoderWidths: [512, 1024],
      batchSize: 32,
      epochs: EPOCHS,
      earlyStoppingPatience: EPOCHS,
    },
    // the cache holds a third of the training split: row groups are evicted and decoded again every epoch
    cacheBytes: 200 * N_PIXELS * 4,
    checkpointEverySteps: 50,
    reportEverySteps: 1,
    onProgress: (p: Progress) => {
      if (p.phase === 'step') steps.push({ step: p.globalStep, rss: p.rssMiB, epoch: p.epoch });
      if (p.phase === 'epoch') epochEnds.push({ epoch: p.epoch, rss: p.rssMiB });
    },
  });
  expect(r.epochsDone).toBe(EPOCHS);
  expect(r.trainSourceStats.decodes).toBeGreaterThan(EPOCHS * 5); // the cache really evicted
  const warm = steps.filter((s) => s.epoch < WARMUP_EPOCHS);
  const after = steps.filter((s) => s.epoch >= WARMUP_EPOCHS);
  expect(after.length).toBeGreaterThan(250);
  const warmMax = Math.max(...warm.map((s) => s.rss));
  const afterMax = Math.max(...after.map((s) => s.rss));
  const perStep = theilSenSlope(
    after.map((s) => s.step),
    after.map((s) => s.rss),
  );
  const ends = epochEnds.filter((e) => e.epoch >= WARMUP_EPOCHS);
  const perEpoch = theilSenSlope(
    ends.map((e) => e.epoch),
    ends.map((e) => e.rss),
  );
  const summary = `warm-up max ${warmMax} MiB, after ${Math.min(...after.map((s) => s.rss))}..${afterMax} MiB, trend ${perStep.toFixed(3)} MiB/step, ${perEpoch.toFixed(2)} MiB/epoch`;
  console.log(`train-memory: ${summary}`);
  expect(afterMax, summary).toBeLessThanOrEqual(warmMax + BAND_MIB);
  expect(perStep, summary).toBeLessThan(MAX_SLOPE_MIB_PER_STEP);
  expect(perEpoch, summary).toBeLessThan(MAX_SLOPE_MIB_PER_EPOCH);
});
