// Dataset-level training: a grid-io atmosphere dataset in, a model directory out; chunked and resumable.
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  CosineLr,
  createOptimizer,
  EarlyStopping,
  findResumableCheckpoint,
  initBackend,
  readCheckpoint,
  trainLoop,
  type Progress,
  type TrainResult,
  warnOnStderr,
} from '@stellar-emu/nn-core';
import { DEFAULT_PHYSICS, PRESETS, type PhysicsOptions } from './config.js';
import { pointSource } from './data.js';
import { readAtmosphereSplits, TRAIN_SPLIT, VAL_SPLIT } from './dataset.js';
import type { DeckDefaults } from '@stellar-emu/grid-io';
import { MODEL_KIND, PinnEmulator } from './emulator.js';
import { CHECKPOINT_SUBDIR, writeModelDir } from './model-dir.js';
import { computeNormalization } from './normalization.js';

/** Progress of `trainPinnOnDataset`: the loop's report plus totals of the whole run. */
export type PinnTrainProgress = Progress & {
  /** Total epochs of the run (not of this chunk). */
  epochs: number;
  /** Global step this call started from (0 for a fresh run). */
  resumedFromStep: number;
  /** Seconds until `epochs` at this call's step rate (null before the first report). */
  etaSeconds: number | null;
};

/** Options of `trainPinnOnDataset`. */
export interface TrainPinnOptions {
  /** grid-io atmosphere dataset with a split column (train = 'train', validation = 'val'). */
  datasetDir: string;
  /** Model directory: checkpoints/, model.json and model.safetensors. */
  outDir: string;
  preset: 'small' | 'paper';
  /** Total epochs of the run (fixes the cosine schedule). */
  epochs: number;
  seed: number;
  /** Weight of the hydrostatic term (default 0.03; 0 is the MLP baseline). */
  alpha?: number;
  /** Depth points per step (default 1024). */
  batchSize?: number;
  /** Peak learning rate of Adam's cosine schedule (default 1e-3; 1 % of it at the end). */
  learningRate?: number;
  /** Hydrostatic term with g alone instead of g - ACCRAD (the paper's form). */
  paperPhysics?: boolean;
  /** Stop after this many epochs in total (chunked training; default `epochs`). */
  untilEpoch?: number;
  /** Checkpoint every this many steps (default 500; checkpoints are also written at epoch ends). */
  checkpointEverySteps?: number;
  /**
   * true: resume from the newest checkpoint in outDir/checkpoints that verifies, if any (newer
   * corrupt ones are renamed aside and named in `checkpointWarnings`); a string: from that file.
   */
  resume?: boolean | string;
  /** Stop early when the validation loss has not improved for this many epochs (default: off). */
  earlyStoppingPatience?: number;
  /** Read losses back every this many steps (default 50). */
  reportEverySteps?: number;
  /** Aborting writes a checkpoint and returns `{ aborted: true }`. */
  signal?: AbortSignal;
  onProgress?: (p: PinnTrainProgress) => void | Promise<void>;
  /** Receives warnings (corrupt checkpoints renamed aside on resume); default: a line on stderr. */
  onWarning?: (message: string) => void;
}

/** Outcome of `trainPinnOnDataset`. */
export interface TrainPinnResult {
  modelDir: string;
  /** Epochs completed in total. */
  epochsDone: number;
  /** `epochs` reached or early stopping fired. */
  done: boolean;
  stoppedEarly: boolean;
  aborted: boolean;
  globalStep: number;
  resumedFromStep: number;
  lastCheckpoint: string | null;
  history: TrainResult['history'];
  /** nn-core backend name (tensorflow, cpu, ...). */
  backend: string;
  /** Corrupt checkpoints renamed aside when this call resumed (empty when none). */
  checkpointWarnings: string[];
  /** Wall time of this call in seconds. */
  durationS: number;
}

async function removeStaleCheckpoints(dir: string): Promise<void> {
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) if (/^ckpt-\d+\.safetensors$/.test(n)) await unlink(join(dir, n));
}

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
  if (!PRESETS[o.preset]) throw new Error(`unknown preset '${o.preset}' (small or paper)`);
  if (!(Number.isInteger(o.epochs) && o.epochs > 0)) throw new Error(`epochs must be a positive integer, got ${o.epochs}`);
  const untilEpoch = Math.min(o.untilEpoch ?? o.epochs, o.epochs);
  const arch = PRESETS[o.preset];
  const physics: PhysicsOptions = { ...DEFAULT_PHYSICS, alpha: o.alpha ?? DEFAULT_PHYSICS.alpha, includeAccrad: !o.paperPhysics };
  const batchSize = o.batchSize ?? 1024;
  const lr = o.learningRate ?? 1e-3;

  const { manifest, hash, models } = await readAtmosphereSplits(o.datasetDir, [TRAIN_SPLIT, VAL_SPLIT]);
  const trainModels = models.get(TRAIN_SPLIT)!;
  const valModels = models.get(VAL_SPLIT)!;
  if (trainModels.length === 0) {
    throw new Error(`${o.datasetDir}: no models with split '${TRAIN_SPLIT}' (split counts ${JSON.stringify(manifest.splitCounts)}); assign a split with \`stellar-emu split\` or ingest with --split 90/10`);
  }
  const norm = computeNormalization(trainModels);
  const train = pointSource(trainModels, norm, physics);
  const val = valModels.length ? pointSource(valModels, norm, physics) : undefined;
  const nTrain = trainModels.length;
  const nVal = valModels.length;
  models.clear();

  const stepsPerEpoch = Math.ceil(train.numExamples / batchSize);
  const scheduleSpec = { baseLr: lr, minLr: lr * 0.01, totalSteps: stepsPerEpoch * o.epochs, warmupSteps: Math.min(200, stepsPerEpoch) };
  const config = {
    model: MODEL_KIND,
    preset: o.preset,
    arch,
    physics,
    seed: o.seed,
    batchSize,
    lr,
    optimizer: 'adam',
    schedule: { kind: 'cosine', ...scheduleSpec },
    epochs: o.epochs,
    earlyStoppingPatience: o.earlyStoppingPatience ?? null,
    dataset: hash,
  };
  const ckptDir = join(o.outDir, CHECKPOINT_SUBDIR);
  await mkdir(ckptDir, { recursive: true });

  let resumeFrom: string | undefined;
  let state: { globalStep?: number; earlyStopping?: unknown } | null = null;
  const checkpointWarnings: string[] = [];
  if (typeof o.resume === 'string') {
    resumeFrom = o.resume;
    state = (await readCheckpoint(resumeFrom)).state;
  } else if (o.resume) {
    const found = await findResumableCheckpoint(ckptDir, { onWarning: o.onWarning ?? warnOnStderr });
    resumeFrom = found.path ?? undefined;
    state = found.state;
    checkpointWarnings.push(...found.warnings);
  } else await removeStaleCheckpoints(ckptDir);

  let resumedFromStep = 0;
  let alreadyStopped = false;
  if (state) {
    const st = state;
    resumedFromStep = st.globalStep ?? 0;
    const es = st.earlyStopping as { badEpochs?: number } | null;
    alreadyStopped = !!(o.earlyStoppingPatience && es && (es.badEpochs ?? 0) >= o.earlyStoppingPatience);
  }

  const emulator = new PinnEmulator(arch, norm, physics, o.seed);
  const optimizer = createOptimizer('adam', emulator.net.params);
  const earlyStopping = o.earlyStoppingPatience ? new EarlyStopping({ patience: o.earlyStoppingPatience }) : undefined;
  const targetSteps = stepsPerEpoch * o.epochs;
  const onProgress = o.onProgress
    ? async (p: Progress) => {
        const elapsed = (performance.now() - t0) / 1000;
        const stepsDone = p.globalStep - resumedFromStep;
        const etaSeconds = stepsDone > 0 ? ((targetSteps - p.globalStep) * elapsed) / stepsDone : null;
        const warnings = [...checkpointWarnings, ...(p.checkpointWarnings ?? [])];
        await o.onProgress!({ ...p, epochs: o.epochs, resumedFromStep, etaSeconds, ...(warnings.length ? { checkpointWarnings: warnings } : {}) });
      }
    : undefined;
  try {
    const result = await trainLoop({
      params: emulator.net.params,
      loss: (b) => emulator.loss(b),
      train,
      validation: val,
      optimizer,
      schedule: new CosineLr(scheduleSpec),
      earlyStopping,
      // A run that already stopped early only reloads its weights.
      epochs: alreadyStopped ? 0 : untilEpoch,
      batchSize,
      seed: o.seed,
      checkpointDir: ckptDir,
      checkpointEverySteps: o.checkpointEverySteps ?? 500,
      reportEverySteps: o.reportEverySteps ?? 50,
      resumeFrom,
      config,
      normalization: norm as unknown as Record<string, unknown>,
      onProgress,
      onWarning: o.onWarning,
      signal: o.signal,
    });
    const stoppedEarly = result.stoppedEarly || alreadyStopped;
    const epochsDone = result.epochsDone;
    const done = stoppedEarly || epochsDone >= o.epochs;
    const durationS = (performance.now() - t0) / 1000;
    emulator.clearTauCache();
    await writeModelDir(o.outDir, emulator, {
      preset: o.preset,
      backend: backend.name,
      dataset: { dir: o.datasetDir, hash, rowCount: manifest.rowCount, splitCounts: manifest.splitCounts, trainModels: nTrain, valModels: nVal },
      deckDefaults: (manifest.notes?.deckDefaults as DeckDefaults | undefined) ?? null,
      training: { config, epochs: o.epochs, epochsDone, done, stoppedEarly, globalStep: result.globalStep, durationS, history: result.history },
    });
    return {
      modelDir: o.outDir,
      epochsDone,
      done,
      stoppedEarly,
      aborted: result.aborted,
      globalStep: result.globalStep,
      resumedFromStep,
      lastCheckpoint: result.finalCheckpoint,
      history: result.history,
      backend: backend.name,
      durationS,
      checkpointWarnings: [...checkpointWarnings, ...result.checkpointWarnings],
    };
  } finally {
    optimizer.dispose();
    emulator.dispose();
  }
}
