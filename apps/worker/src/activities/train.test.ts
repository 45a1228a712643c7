// trainChunk resuming over a corrupt newest checkpoint. Backend: cpu (set before anything loads
// tfjs), so that the resumed run is bitwise comparable with an uninterrupted one.
process.env.STELLAR_EMU_BACKEND = 'cpu';

import { mkdtemp, readdir, readFile, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { assertBitwiseEqual, latestCheckpoint, readCheckpoint } from '@stellar-emu/nn-core';
import {
  trainSettings,
  type TrainChunkInput,
  type TrainChunkResult,
  type TrainProgress,
  type TrainSettings,
} from '@stellar-emu/workflows';
import { pipelineConfigSchema } from '@stellar-emu/workflows/config';
import { splitSyntheticAtmospheres } from '../../test/datasets.js';
import { trainChunk } from './train.js';

async function weights(modelDir: string): Promise<Map<string, Float32Array>> {
  const ck = await readCheckpoint(join(modelDir, 'model.safetensors'));
  return new Map([...ck.tensors].map(([k, t]) => [k, t.data as Float32Array]));
}

test('a retried trainChunk whose newest checkpoint is truncated resumes from the older one, names the bad file in its heartbeat and its result, and ends bitwise where an uninterrupted run ends', async () => {
  const settings: TrainSettings = {
    preset: 'small',
    epochs: 2,
    seed: 3,
    alpha: 0.03,
    epochsPerChunk: 1,
    checkpointEverySteps: 3,
    batchSize: 256,
  };
  const { artifacts, dataset } = await splitSyntheticAtmospheres('se-corrupt-');
  const refArtifacts = await mkdtemp(join(tmpdir(), 'se-corrupt-ref-'));

  // The uninterrupted reference in its own store, in the same two chunks.
  await trainChunk({ model: 'pinn', dataset, settings, artifacts: refArtifacts, untilEpoch: 1 });
  const ref = await trainChunk({ model: 'pinn', dataset, settings, artifacts: refArtifacts, untilEpoch: 2 });

  const first = await trainChunk({ model: 'pinn', dataset, settings, artifacts, untilEpoch: 1 });
  expect(first.progress.checkpointWarnings).toBeUndefined();
  const ckptDir = join(first.modelDir, 'checkpoints');
  const newest = (await latestCheckpoint(ckptDir))!;
  await truncate(newest, Math.floor((await stat(newest)).size / 2));

  const env = new MockActivityEnvironment();
  const heartbeats: TrainProgress[] = [];
  env.on('heartbeat', (d: TrainProgress) => heartbeats.push(d));
  const input: TrainChunkInput = { model: 'pinn', dataset, settings, artifacts, untilEpoch: 2 };
  const second = (await env.run(trainChunk, input)) as TrainChunkResult;
  expect(second.done).toBe(true);
  expect(second.progress.checkpointWarnings).toHaveLength(1);
  expect(second.progress.checkpointWarnings![0]).toContain(newest);
  expect(second.progress.checkpointWarnings![0]).toMatch(
    /corrupt .*renamed to ckpt-\d+\.safetensors\.corrupt-/,
  );
  // A heartbeat before the first step of the retried attempt already carries the warning.
  const early = heartbeats.find((h) => h?.checkpointWarnings);
  expect(early?.checkpointWarnings).toEqual(second.progress.checkpointWarnings);
  expect(early?.globalStep).toBe(second.progress.resumedFromStep);
  expect(second.progress.resumedFromStep).toBeLessThan(first.progress.globalStep);
  expect(second.progress.globalStep).toBe(ref.progress.globalStep);
  const a = await weights(ref.modelDir);
  const b = await weights(second.modelDir);
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [k, v] of a) assertBitwiseEqual(b.get(k)!, v, k);
  expect((await readdir(ckptDir)).filter((n) => n.includes('.corrupt-'))).toHaveLength(1);
});

test('a training option reaches the trainer unchanged from the pipeline config: pinn.paperPhysics (config file → workflow settings → trainChunk → model)', async () => {
  const { artifacts, dataset } = await splitSyntheticAtmospheres('se-option-', 24);
  const models: Record<string, { includeAccrad: boolean }> = {};
  for (const paperPhysics of [false, true]) {
    // The config a user writes; the pipeline's own parse and settings.
    const config = pipelineConfigSchema.parse({
      atmospheres: { synthetic: { n: 24, seed: 5 } },
      pinn: { epochs: 1, batchSize: 256, checkpointEverySteps: 0, paperPhysics },
    });
    const settings = trainSettings(config.pinn!);
    expect(settings).toMatchObject({ paperPhysics });
    const r = await trainChunk({ model: 'pinn', dataset, settings, artifacts, untilEpoch: 1 });
    const meta = JSON.parse(await readFile(join(r.modelDir, 'model.json'), 'utf8')) as {
      physics: { includeAccrad: boolean };
    };
    models[String(paperPhysics)] = meta.physics;
  }
  // The paper's physics: the hydrostatic term with g alone, without ACCRAD.
  expect(models.false.includeAccrad).toBe(true);
  expect(models.true.includeAccrad).toBe(false);
});

test('with a time budget the ETA is what is left of the budget once the epochs would outlast it, and the training ends on the budget', async () => {
  const { artifacts, dataset } = await splitSyntheticAtmospheres('se-eta-');
  const settings: TrainSettings = {
    preset: 'small',
    epochs: 100_000,
    seed: 3,
    alpha: 0,
    epochsPerChunk: 100_000,
    checkpointEverySteps: 0,
    batchSize: 256,
  };
  const maxSeconds = 6;
  const env = new MockActivityEnvironment();
  const heartbeats: TrainProgress[] = [];
  env.on('heartbeat', (d: TrainProgress) => heartbeats.push(d));
  const input: TrainChunkInput = {
    model: 'pinn',
    dataset,
    settings,
    artifacts,
    untilEpoch: 100_000,
    maxSeconds,
  };
  const r = (await env.run(trainChunk, input)) as TrainChunkResult;
  expect(r.budgetSpent).toBe(true);
  expect(r.epochsDone).toBeLessThan(100_000);
  const estimated = heartbeats.filter((h) => h?.etaSeconds !== null && h?.etaSeconds !== undefined);
  expect(estimated.length).toBeGreaterThan(0);
  for (const h of estimated) {
    // 100,000 epochs at any rate this machine reaches outlast 6 s.
    expect(h.etaBy).toBe('budget');
    expect(h.etaSeconds!).toBeLessThanOrEqual(maxSeconds);
  }
});
