// Training the recovery network with nn-core's resumable loop: Adamax, MSE, batch 1024, early stopping, best weights kept.
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  checkpointDirOf,
  createOptimizer,
  EarlyStopping,
  initBackend,
  MemoryBatchSource,
  ReduceOnPlateau,
  trainLoop,
  type Progress,
  type TrainResult,
} from '@stellar-emu/nn-core';
import {
  computeScalers,
  RECOVERY_MODEL_KIND,
  RECOVERY_PRESETS,
  RecoveryNetwork,
  type RecoveryPreset,
} from './network.js';
import type { PcaModel } from './pca.js';

/** Coefficients and labels of a set of spectra, row-major. */
export interface CoefficientSet {
  /** PCA coefficients [rows, k]. */
  coeffs: Float32Array;
  /** Labels [rows, labelNames.length], physical units. */
  labels: Float64Array;
  rows: number;
}

/** Options of {@link trainRecovery}. */
export interface TrainRecoveryOptions {
  /** The fitted PCA; the returned network owns it from then on (disposing the network disposes it). */
  pca: PcaModel;
  labelNames: readonly string[];
  /** Training set (already augmented with noisy copies). */
  train: CoefficientSet;
  /** Validation set for early stopping, plateau schedule and best weights. */
  validation?: CoefficientSet;
  /** Output directory: checkpoints/, best.safetensors, recovery.safetensors. */
  outDir: string;
  /** Network size (default 'paper'); `hidden` overrides it. */
  preset?: RecoveryPreset;
  hidden?: number[];
  /** Maximum number of epochs. */
  epochs: number;
  /** Default 1024 (the paper's). */
  batchSize?: number;
  /** Adamax learning rate (default 1e-3), halved after `plateauPatience` epochs without improvement. */
  lr?: number;
  plateauPatience?: number;
  /** Stop after this many epochs without validation improvement (default 10; 0 disables). */
  earlyStoppingPatience?: number;
  seed?: number;
  /** Resume from the latest checkpoint in outDir/checkpoints. */
  resume?: boolean;
  checkpointEverySteps?: number;
  onProgress?: (p: Progress) => void | Promise<void>;
  signal?: AbortSignal;
}

/** Result of {@link trainRecovery}; the caller disposes `network`. */
export interface TrainRecoveryResult {
  network: RecoveryNetwork;
  result: TrainResult;
  /** The final model file (best validation weights when a validation set was given). */
  modelPath: string;
  /** Epoch (0-based) of the weights in the model file, or null without validation. */
  bestEpoch: number | null;
  bestValLoss: number | null;
  seconds: number;
  /** Training examples per second, averaged over the step reports. */
  samplesPerSec: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Train (or resume) the recovery network on PCA coefficients. */
export async function trainRecovery(opts: TrainRecoveryOptions): Promise<TrainRecoveryResult> {
  await initBackend({ quiet: true });
  const labelNames = [...opts.labelNames];
  const k = opts.pca.components;
  const hidden = opts.hidden ?? [...RECOVERY_PRESETS[opts.preset ?? 'paper']];
  const seed = opts.seed ?? 1;
  const batchSize = opts.batchSize ?? 1024;
  const lr = opts.lr ?? 1e-3;
  const scalers = computeScalers(opts.train.coeffs, opts.train.labels, opts.train.rows, k, labelNames);
  const network = new RecoveryNetwork({ inputDim: k, hidden, labelNames }, scalers, opts.pca, seed);
  const source = (set: CoefficientSet) =>
    new MemoryBatchSource({
      x: { width: k, data: network.standardize(set.coeffs, set.rows) },
      y: { width: labelNames.length, data: network.scaleLabels(set.labels, set.rows) },
    });
  const train = source(opts.train);
  const validation = opts.validation && opts.validation.rows > 0 ? source(opts.validation) : undefined;
  const optimizer = createOptimizer('adamax', network.params);
  const schedule = new ReduceOnPlateau({
    lr,
    factor: 0.5,
    patience: opts.plateauPatience ?? 5,
    minLr: lr / 64,
  });
  const patience = opts.earlyStoppingPatience ?? 10;
  const earlyStopping = patience > 0 ? new EarlyStopping({ patience }) : undefined;
  const config = {
    model: RECOVERY_MODEL_KIND,
    inputDim: k,
    hidden,
    labelNames,
    batchSize,
    lr,
    seed,
    nTrain: opts.train.rows,
    nValidation: opts.validation?.rows ?? 0,
  };
  await mkdir(opts.outDir, { recursive: true });
  const ckptDir = checkpointDirOf(opts.outDir);
  const bestPath = join(opts.outDir, 'best.safetensors');
  const modelPath = join(opts.outDir, 'recovery.safetensors');
  let spsSum = 0;
  let spsCount = 0;
  const t0 = performance.now();
  try {
    const result = await trainLoop({
      params: network.params,
      loss: (b) => network.loss(b),
      train,
      validation,
      optimizer,
      schedule,
      earlyStopping,
      epochs: opts.epochs,
      batchSize,
      seed,
      checkpointDir: ckptDir,
      checkpointEverySteps: opts.checkpointEverySteps ?? 0,
      resumeFrom: opts.resume ? 'latest-if-any' : undefined,
      config,
      normalization: { scalers },
      signal: opts.signal,
      reportEverySteps: 20,
      onProgress: async (p) => {
        if (p.phase === 'step' && p.samplesPerSec > 0) {
          spsSum += p.samplesPerSec;
          spsCount++;
        }
        await opts.onProgress?.(p);
      },
      // The best validation epoch's weights, restored at the end.
      onBest: validation
        ? (best) => network.save(bestPath, { epoch: best.epoch, valLoss: best.loss, best: true })
        : undefined,
    });
    const bestEpoch = validation ? (result.best?.epoch ?? null) : null;
    const bestVal = validation ? (result.best?.loss ?? Infinity) : Infinity;
    if (bestEpoch !== null && (await exists(bestPath))) {
      const { network: best } = await RecoveryNetwork.load(bestPath);
      network.params.restore(best.params.snapshot());
      best.dispose();
    }
    await network.save(modelPath, {
      bestEpoch,
      bestValLoss: Number.isFinite(bestVal) ? bestVal : null,
      epochsDone: result.epochsDone,
      stoppedEarly: result.stoppedEarly,
    });
    return {
      network,
      result,
      modelPath,
      bestEpoch,
      bestValLoss: Number.isFinite(bestVal) ? bestVal : null,
      seconds: (performance.now() - t0) / 1000,
      samplesPerSec: spsCount ? spsSum / spsCount : 0,
    };
  } catch (err) {
    network.dispose();
    throw err;
  } finally {
    optimizer.dispose();
  }
}
