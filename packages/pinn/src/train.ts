// Training the Kurucz-a1 emulator with nn-core's resumable loop.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CosineLr, createOptimizer, currentBackend, EarlyStopping, initBackend, trainLoop, type OptimizerKind, type Progress, type TrainResult } from '@stellar-emu/nn-core';
import { DEFAULT_PHYSICS, PRESETS, type PhysicsOptions, type PinnArchitecture } from './config.js';
import type { AtmosphereLike } from './atmosphere.js';
import { pointSource } from './data.js';
import { MODEL_KIND, PinnEmulator } from './emulator.js';
import { computeNormalization, type Normalization } from './normalization.js';

/** Options of `trainPinn`. */
export interface TrainPinnInMemoryOptions {
  train: AtmosphereLike[];
  val?: AtmosphereLike[];
  /** Output directory: checkpoints/, model.safetensors, run.json. */
  outDir: string;
  preset?: keyof typeof PRESETS;
  /** Overrides of the preset's sizes. */
  arch?: Partial<PinnArchitecture>;
  physics?: Partial<PhysicsOptions>;
  epochs: number;
  /** Points (model, layer) per step (default 1024). */
  batchSize?: number;
  /** Peak learning rate of the cosine schedule (default 1e-3). */
  lr?: number;
  optimizer?: OptimizerKind;
  seed?: number;
  /** Normalization (default: computed from `train`, or taken from a dataset manifest). */
  normalization?: Normalization;
  checkpointEverySteps?: number;
  reportEverySteps?: number;
  resume?: boolean;
  earlyStoppingPatience?: number;
  onProgress?: (p: Progress) => void | Promise<void>;
  signal?: AbortSignal;
}

/** Result of `trainPinn`: the trained emulator (caller disposes) and the loop result. */
export interface TrainPinnInMemoryResult {
  emulator: PinnEmulator;
  result: TrainResult;
  modelPath: string;
  seconds: number;
}

/** Train (or resume) a Kurucz-a1 emulator; writes checkpoints and the final model file. */
export async function trainPinn(opts: TrainPinnInMemoryOptions): Promise<TrainPinnInMemoryResult> {
  await initBackend({ quiet: true });
  const arch: PinnArchitecture = { ...PRESETS[opts.preset ?? 'small'], ...opts.arch };
  const physics: PhysicsOptions = { ...DEFAULT_PHYSICS, ...opts.physics };
  const seed = opts.seed ?? 1;
  const batchSize = opts.batchSize ?? 1024;
  const lr = opts.lr ?? 1e-3;
  const norm = opts.normalization ?? computeNormalization(opts.train);
  const emulator = new PinnEmulator(arch, norm, physics, seed);
  const train = pointSource(opts.train, norm, physics);
  const val = opts.val && opts.val.length ? pointSource(opts.val, norm, physics) : undefined;
  const optimizerKind = opts.optimizer ?? 'adam';
  const optimizer = createOptimizer(optimizerKind, emulator.net.params);
  const stepsPerEpoch = Math.ceil(train.numExamples / batchSize);
  const schedule = new CosineLr({ baseLr: lr, minLr: lr * 0.01, totalSteps: stepsPerEpoch * opts.epochs, warmupSteps: Math.min(200, stepsPerEpoch) });
  const config = { model: MODEL_KIND, arch, physics, seed, batchSize, lr, optimizer: optimizerKind, epochs: opts.epochs, nTrainModels: opts.train.length };
  const ckptDir = join(opts.outDir, 'checkpoints');
  await mkdir(ckptDir, { recursive: true });
  const t0 = performance.now();
  try {
    const result = await trainLoop({
      params: emulator.net.params,
      loss: (b) => emulator.loss(b),
      train,
      validation: val,
      optimizer,
      schedule,
      earlyStopping: opts.earlyStoppingPatience ? new EarlyStopping({ patience: opts.earlyStoppingPatience }) : undefined,
      epochs: opts.epochs,
      batchSize,
      seed,
      checkpointDir: ckptDir,
      checkpointEverySteps: opts.checkpointEverySteps ?? 2000,
      reportEverySteps: opts.reportEverySteps ?? 100,
      resumeFrom: opts.resume ? 'latest' : undefined,
      config,
      normalization: norm as unknown as Record<string, unknown>,
      onProgress: opts.onProgress,
      signal: opts.signal,
    });
    const seconds = (performance.now() - t0) / 1000;
    const modelPath = join(opts.outDir, 'model.safetensors');
    const info = { backend: currentBackend(), config, history: result.history, globalStep: result.globalStep, seconds, trainPoints: train.numExamples, valPoints: val?.numExamples ?? 0 };
    await emulator.save(modelPath, info);
    await writeFile(join(opts.outDir, 'run.json'), `${JSON.stringify({ ...info, result }, null, 2)}\n`);
    return { emulator, result, modelPath, seconds };
  } catch (err) {
    emulator.dispose();
    throw err;
  } finally {
    optimizer.dispose();
  }
}
