// Training a spectrum CVAE through nn-core's resumable loop, streaming the dataset, keeping the best weights.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createOptimizer, currentBackend, EarlyStopping, ReduceOnPlateau, tf, trainLoop, type Progress, type TrainResult } from '@stellar-emu/nn-core';
import { openDataset } from '@stellar-emu/grid-io';
import { saveCvaeModel, writeTrainingHistory, type ModelLabel } from './artifact.js';
import { makeCvaeConfig, type CvaeConfig, type CvaePresetName } from './config.js';
import { labelScalesFromManifest, openSpectrumSource, type SpectrumSourceStats } from './data.js';
import { SpectrumCvae } from './model.js';

/** Options of {@link trainCvae}. */
export interface TrainCvaeOptions {
  /** grid-io spectrum dataset directory (train/val split from its `split` column, else 90/10 by id). */
  dataset: string;
  /** Model directory: model.json, weights.safetensors (best validation epoch), checkpoints/. */
  outDir: string;
  preset?: CvaePresetName | 'custom';
  /** Overrides of the preset and training defaults (architecture, beta, lr, batch, epochs, seed...). */
  overrides?: Partial<CvaeConfig>;
  /** Cap on decoded training flux held in memory (bytes, default 1 GiB). */
  cacheBytes?: number;
  /** Cap for the validation split (bytes, default a quarter of cacheBytes). */
  valCacheBytes?: number;
  /** Resume from the newest checkpoint in `<outDir>/checkpoints`. */
  resume?: boolean;
  /** Resume from this checkpoint file instead. */
  resumeFrom?: string;
  /**
   * Time budget in seconds: training stops at the first epoch end after it is spent (with the
   * final checkpoint written; a later call with `resume` continues).
   */
  maxSeconds?: number;
  /**
   * Train only until this many epochs are done in total (a chunk of a longer run: a later call
   * with `resume` continues to `config.epochs`; the epoch count is not part of the checkpoint config).
   */
  untilEpoch?: number;
  /** Stop at the next step with a checkpoint (see nn-core `trainLoop`). */
  signal?: AbortSignal;
  checkpointEverySteps?: number;
  reportEverySteps?: number;
  onProgress?: (p: Progress) => void | Promise<void>;
}

/** Outcome of {@link trainCvae}. */
export interface TrainCvaeResult {
  modelDir: string;
  config: CvaeConfig;
  /** True when the time budget (`maxSeconds`) ended training. */
  budgetSpent: boolean;
  /** Global step of the checkpoint this call resumed from, or null for a fresh start. */
  resumedFromStep: number | null;
  loop: TrainResult;
  /** Epoch (0-based) whose weights are in weights.safetensors, and its validation reconstruction MSE (scaled flux²). */
  bestEpoch: number;
  bestValRecon: number | null;
  trainSeconds: number;
  trainExamples: number;
  valExamples: number;
  /** Training spectra served per wall-clock second over this call (includes validation and decoding). */
  spectraPerSecond: number;
  trainSourceStats: SpectrumSourceStats;
}

/**
 * Train a CVAE on a spectrum dataset. N and the label set come from the manifest; labels are
 * scaled to [-1, 1] with the manifest's statistics. Adam with reduce-on-plateau on the
 * validation reconstruction loss, early stopping on the same (patience from the config),
 * checkpoints and exact resume from nn-core. Whenever the validation loss improves, the weights
 * and model.json are written, so the model directory always holds the best epoch so far.
 */
export async function trainCvae(opts: TrainCvaeOptions): Promise<TrainCvaeResult> {
  const ds = await openDataset(opts.dataset);
  const m = ds.manifest;
  if (m.kind !== 'spectra') throw new Error(`${opts.dataset}: is a '${m.kind}' dataset, the CVAE needs spectra`);
  const nPixels = m.pixels?.min ?? 0;
  const config = makeCvaeConfig(opts.preset ?? 'small', { nPixels, labelColumns: m.labels }, opts.overrides);
  const scales = labelScalesFromManifest(m, config.labelColumns);
  const cacheBytes = opts.cacheBytes ?? 2 ** 30;
  const train = await openSpectrumSource({ dir: opts.dataset, split: 'train', splitSeed: config.seed, cacheBytes, labelScales: scales, noise: { latentDim: config.latentDim, seed: config.seed } });
  const val = await openSpectrumSource({ dir: opts.dataset, split: 'val', splitSeed: config.seed, cacheBytes: opts.valCacheBytes ?? Math.floor(cacheBytes / 4),
    labelScales: scales,
    noise: { latentDim: config.latentDim, seed: config.seed ^ 0x5eed, key: 'epsVal' },
  });
  const model = new SpectrumCvae(config);
  const optimizer = createOptimizer('adam', model.params);
  const schedule = new ReduceOnPlateau({ lr: config.learningRate, factor: config.plateau.factor, patience: config.plateau.patience, minLr: config.plateau.minLr });
  const deadline = opts.maxSeconds ? performance.now() + opts.maxSeconds * 1000 : Infinity;
  let budgetSpent = false;
  const earlyStopping = new (class extends EarlyStopping {
    override update(metric: number, epoch: number): boolean {
      const stop = super.update(metric, epoch);
      budgetSpent = performance.now() > deadline;
      return stop || budgetSpent;
    }
  })({ patience: config.earlyStoppingPatience });
  const keyOf = Object.fromEntries(Object.entries(m.labelKeys ?? {}).map(([k, c]) => [c, k]));
  const labels: ModelLabel[] = scales.map((s, i) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let e = 0; e < train.numExamples; e++) {
      const v = train.physicalLabels[e * scales.length + i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return { ...s, key: keyOf[s.column] ?? s.column, rangeMin: lo, rangeMax: hi };
  });
  const ckDir = join(opts.outDir, 'checkpoints');
  await mkdir(ckDir, { recursive: true });
  const { epochs, ...loopConfig } = config;
  const t0 = performance.now();
  let bestEpoch = -1;
  let bestValRecon: number | null = null;
  let samples = 0;
  const meta = (extra: Record<string, unknown>) => ({
    config,
    labels,
    wavelength: { startAngstrom: train.wavelength.startAngstrom, stepAngstrom: train.wavelength.stepAngstrom, nPixels },
    training: { dataset: opts.dataset, datasetRows: m.rowCount, ...spectrumMedium(m.notes), trainExamples: train.numExamples, valExamples: val.numExamples, backend: currentBackend()?.name ?? tf.getBackend(), ...extra },
  });
  let loop: TrainResult;
  try {
    loop = await trainLoop({
      params: model.params,
      loss: (b) => model.loss(b, optimizer.step),
      train,
      validation: val,
      optimizer,
      schedule,
      earlyStopping,
      epochs: Math.min(epochs, opts.untilEpoch ?? Infinity),
      batchSize: config.batchSize,
      seed: config.seed,
      reportEverySteps: opts.reportEverySteps ?? 20,
      checkpointDir: ckDir,
      checkpointEverySteps: opts.checkpointEverySteps ?? 0,
      resumeFrom: opts.resumeFrom ?? (opts.resume ? 'latest' : undefined),
      config: loopConfig as unknown as Record<string, unknown>,
      normalization: { labels: scales, fluxRange: config.fluxRange },
      signal: opts.signal,
      onProgress: async (p) => {
        if (p.phase === 'epoch' && earlyStopping.bestEpoch === p.epoch) {
          bestEpoch = p.epoch;
          bestValRecon = p.valLoss ?? null;
          await saveCvaeModel(opts.outDir, model, meta({ bestEpoch, bestValRecon, lr: p.lr }));
        }
        await opts.onProgress?.(p);
      },
    });
  } finally {
    train.close();
    val.close();
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  if (bestEpoch < 0 && earlyStopping.bestEpoch < 0) {
    // No finished epoch in this call and none before: keep the current weights so the directory is usable.
    await saveCvaeModel(opts.outDir, model, meta({ bestEpoch: null, bestValRecon: null, note: 'no finished epoch; weights are the last training state' }));
  }
  samples = train.stats.examplesServed;
  model.dispose();
  optimizer.dispose();
  const resumed = opts.resumeFrom !== undefined || opts.resume === true;
  const bestOut = bestEpoch >= 0 ? bestEpoch : earlyStopping.bestEpoch;
  // The loss curves of every epoch so far (restored from the checkpoint on resume): the report's training figure.
  await writeTrainingHistory(opts.outDir, {
    preset: config.preset,
    epochsDone: loop.epochsDone,
    bestEpoch: bestOut >= 0 ? bestOut : null,
    budgetSpent,
    trainExamples: train.numExamples,
    valExamples: val.numExamples,
    history: loop.history,
  });
  return {
    modelDir: opts.outDir,
    config,
    budgetSpent,
    resumedFromStep: resumed ? loop.globalStep - train.stats.batchesServed : null,
    // a stop for the time budget is not an early stop (the run is not finished)
    loop: { ...loop, stoppedEarly: loop.stoppedEarly && !(budgetSpent && earlyStopping.badEpochs < config.earlyStoppingPatience) },
    bestEpoch: bestEpoch >= 0 ? bestEpoch : earlyStopping.bestEpoch,
    bestValRecon: bestValRecon ?? (earlyStopping.best === Infinity ? null : earlyStopping.best),
    trainSeconds,
    trainExamples: train.numExamples,
    valExamples: val.numExamples,
    spectraPerSecond: samples > 0 ? samples / trainSeconds : 0,
    trainSourceStats: { ...train.stats },
  };
}

/**
 * The wavelength medium of a spectrum dataset when its manifest records it (PySME grids:
 * `notes.synthesis.medium` 'air' | 'vac'), as `{ medium: 'air' | 'vacuum' }`; else `{}`.
 */
export function spectrumMedium(notes: Record<string, unknown> | undefined): { medium?: 'air' | 'vacuum' } {
  const syn = notes?.synthesis as { medium?: unknown } | undefined;
  const m = syn?.medium ?? notes?.medium;
  if (m === 'air') return { medium: 'air' };
  if (m === 'vac' || m === 'vacuum') return { medium: 'vacuum' };
  return {};
}
