// Dataset-level training: a grid-io atmosphere dataset in, a model directory out; chunked and resumable.
import { mkdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  checkpointDirOf,
  CosineLr,
  createOptimizer,
  EarlyStopping,
  initBackend,
  trainLoop,
  type ModelTrainingRequest,
  type ModelTrainingResult,
  type Progress,
} from '@stellar-emu/nn-core';
import { parseTrainingOptions } from '@stellar-emu/nn-core/options';
import { DEFAULT_PHYSICS, PRESETS, type PhysicsOptions } from './config.js';
import { pinnTrainingSchema, type PinnTrainingInput } from './options.js';
import { pointSource } from './data.js';
import { readAtmosphereSplits } from './dataset.js';
import { TRAIN_SPLIT, VAL_SPLIT, type DeckDefaults } from '@stellar-emu/grid-io';
import { PinnEmulator } from './emulator.js';
import { MODEL_KIND } from './model-file.js';
import { writeModelDir } from './model-dir.js';
import { computeNormalization } from './normalization.js';

/** Progress of `trainPinnOnDataset`: the loop's report plus totals of the whole run. */
export type PinnTrainProgress = Progress & {
  /** Total epochs of the run (not of this chunk). */
  epochs: number;
  /** Seconds until `epochs` at this call's step rate (null before the first report). */
  etaSeconds: number | null;
};

/**
 * Options of `trainPinnOnDataset`: the training options of {@link pinnTrainingSchema} (preset,
 * epochs, seed, alpha, ..., with its defaults) and where and how far this call trains.
 */
export interface TrainPinnOptions extends PinnTrainingInput, ModelTrainingRequest<PinnTrainProgress> {}

/** Outcome of `trainPinnOnDataset`: nn-core's one result shape of every model's training. */
export type TrainPinnResult = ModelTrainingResult;

/**
 * Train (or continue) a Kurucz-a1 PINN on a grid-io atmosphere dataset.
 *
 * Data: the dataset is streamed once; the 'train' and 'val' models are turned into normalized
 * float32 point columns (12 floats = 48 B per depth point; ATLAS9: 470,792 points -> 23 MB,
 * plus <= 28 MB of float64 model arrays released after set-up). Normalization comes from the
 * training split (log10 of every quantity; the training label box is the extrapolation limit).
 *
 * Chunks: `untilEpoch` stops after that many epochs in total; calling again with a larger
 * `untilEpoch` and `resume: true` continues from the checkpoint, and the result is bitwise the
 * same as one uninterrupted call on the cpu backend (the schedule depends on `epochs` only).
 * A fresh run (no `resume`) deletes old `ckpt-*.safetensors` in outDir/checkpoints.
 * After every call the current weights and model.json are written to outDir.
 */
export async function trainPinnOnDataset(o: TrainPinnOptions): Promise<TrainPinnResult> {
  const t0 = performance.now();
  const backend = await initBackend({ quiet: true });
  const t = parseTrainingOptions(pinnTrainingSchema, o, 'train pinn');
  const untilEpoch = Math.min(o.untilEpoch ?? t.epochs, t.epochs);
  const arch = PRESETS[t.preset];
  const physics: PhysicsOptions = { ...DEFAULT_PHYSICS, alpha: t.alpha, includeAccrad: !t.paperPhysics };
  const { batchSize, learningRate: lr, patience } = t;

  const { manifest, hash, models } = await readAtmosphereSplits(o.datasetDir, [TRAIN_SPLIT, VAL_SPLIT]);
  const trainModels = models.get(TRAIN_SPLIT)!;
  const valModels = models.get(VAL_SPLIT)!;
  if (trainModels.length === 0) {
    throw new Error(
      `${o.datasetDir}: no models with split '${TRAIN_SPLIT}' (split counts ${JSON.stringify(manifest.splitCounts)}); assign a split with \`stellar-emu split\` or ingest with --split 90/10`,
    );
  }
  const norm = computeNormalization(trainModels);
  const train = pointSource(trainModels, norm, physics);
  const val = valModels.length ? pointSource(valModels, norm, physics) : undefined;
  const nTrain = trainModels.length;
  const nVal = valModels.length;
  models.clear();

  const stepsPerEpoch = Math.ceil(train.numExamples / batchSize);
  const scheduleSpec = {
    baseLr: lr,
    minLr: lr * 0.01,
    totalSteps: stepsPerEpoch * t.epochs,
    warmupSteps: Math.min(200, stepsPerEpoch),
  };
  const config = {
    model: MODEL_KIND,
    preset: t.preset,
    arch,
    physics,
    seed: t.seed,
    batchSize,
    lr,
    optimizer: 'adam',
    schedule: { kind: 'cosine', ...scheduleSpec },
    epochs: t.epochs,
    earlyStoppingPatience: patience ?? null,
    dataset: hash,
  };
  const ckptDir = checkpointDirOf(o.outDir);
  await mkdir(ckptDir, { recursive: true });

  const emulator = new PinnEmulator(arch, norm, physics, t.seed);
  const optimizer = createOptimizer('adam', emulator.net.params);
  const earlyStopping = patience ? new EarlyStopping({ patience: patience }) : undefined;
  const targetSteps = stepsPerEpoch * t.epochs;
  const onProgress = o.onProgress
    ? async (p: Progress) => {
        const elapsed = (performance.now() - t0) / 1000;
        const stepsDone = p.globalStep - p.resumedFromStep;
        const etaSeconds = stepsDone > 0 ? ((targetSteps - p.globalStep) * elapsed) / stepsDone : null;
        await o.onProgress!({ ...p, epochs: t.epochs, etaSeconds });
      }
    : undefined;
  try {
    // one TensorFlow graph call per step where it applies (alpha = 0 on tfjs-node), else autodiff
    const graphGradients = emulator.graphGradients();
    const result = await trainLoop({
      params: emulator.net.params,
      loss: (b) => emulator.loss(b),
      ...(graphGradients ? { gradients: graphGradients } : {}),
      train,
      validation: val,
      optimizer,
      schedule: new CosineLr(scheduleSpec),
      earlyStopping,
      epochs: untilEpoch,
      batchSize,
      seed: t.seed,
      checkpointDir: ckptDir,
      checkpointEverySteps: t.checkpointEverySteps,
      ...(t.maxMinutes !== undefined ? { maxSeconds: t.maxMinutes * 60 } : {}),
      reportEverySteps: o.reportEverySteps ?? 50,
      // A run that had stopped early only reloads its weights (the loop trains no further).
      resumeFrom: typeof o.resume === 'string' ? o.resume : o.resume ? 'latest-if-any' : undefined,
      config,
      normalization: norm as unknown as Record<string, unknown>,
      onProgress,
      onWarning: o.onWarning,
      signal: o.signal,
    });
    const stoppedEarly = result.stoppedEarly;
    const epochsDone = result.epochsDone;
    const done = stoppedEarly || epochsDone >= t.epochs;
    const durationS = (performance.now() - t0) / 1000;
    emulator.clearTauCache();
    await writeModelDir(o.outDir, emulator, {
      preset: t.preset,
      backend: backend.name,
      dataset: {
        dir: o.datasetDir,
        hash,
        rowCount: manifest.rowCount,
        splitCounts: manifest.splitCounts,
        trainModels: nTrain,
        valModels: nVal,
      },
      deckDefaults: (manifest.notes?.deckDefaults as DeckDefaults | undefined) ?? null,
      training: {
        config,
        epochs: t.epochs,
        epochsDone,
        done,
        stoppedEarly,
        globalStep: result.globalStep,
        durationS,
        gradients: graphGradients ? 'graph' : 'autodiff',
        history: result.history,
      },
    });
    return {
      modelDir: o.outDir,
      epochsDone,
      done,
      stoppedEarly,
      aborted: result.aborted,
      budgetSpent: result.budgetSpent,
      globalStep: result.globalStep,
      resumedFromStep: result.resumedFromStep,
      lastCheckpoint: result.finalCheckpoint,
      history: result.history,
      best: result.best,
      backend: backend.name,
      gradients: graphGradients ? 'graph' : 'autodiff',
      durationS,
      checkpointWarnings: result.checkpointWarnings,
    };
  } finally {
    optimizer.dispose();
    emulator.dispose();
  }
}
