// Training a spectrum CVAE through nn-core's resumable loop, streaming the dataset, keeping the best weights.
import { mkdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  checkpointDirOf,
  createOptimizer,
  currentBackend,
  EarlyStopping,
  graphExecutionAvailable,
  ReduceOnPlateau,
  tf,
  trainLoop,
  type ModelTrainingRequest,
  type ModelTrainingResult,
  type TrainResult,
} from '@stellar-emu/nn-core';
import {
  log10Scale,
  minMaxScalesFromManifest,
  openDataset,
  TRAIN_SPLIT,
  VAL_SPLIT,
} from '@stellar-emu/grid-io';
import { saveCvaeModel, writeTrainingHistory, type ModelLabel } from './artifact.js';
import { parseTrainingOptions } from '@stellar-emu/nn-core/options';
import { makeCvaeConfig, type CvaeConfig, type CvaePresetName } from './config.js';
import { cvaeTrainingSchema, type CvaeTrainingInput } from './options.js';
import { CvaeLossGradients } from './train-graph.js';
import { openSpectrumSource, type SpectrumSourceStats } from './data.js';
import { SpectrumCvae } from './model.js';

/**
 * Options of {@link trainCvae}: the training options of {@link cvaeTrainingSchema} (preset,
 * epochs, seed, batch size, ..., with their defaults), nn-core's {@link ModelTrainingRequest}
 * (dataset, model directory, chunk end, resume, signal, progress) and the CVAE's own extras.
 */
export interface TrainCvaeOptions extends Omit<CvaeTrainingInput, 'preset'>, ModelTrainingRequest {
  /** A preset of {@link cvaeTrainingSchema}, or 'custom' (the small preset's widths, changed by `overrides`). */
  preset?: CvaePresetName | 'custom';
  /** Overrides of the config beyond the training options (architecture widths, logvarBound, plateau...). */
  overrides?: Partial<CvaeConfig>;
  /** Cap on decoded training flux held in memory (bytes, default 1 GiB). */
  cacheBytes?: number;
  /** Cap for the validation split (bytes, default a quarter of cacheBytes). */
  valCacheBytes?: number;
}

/** Outcome of {@link trainCvae}: nn-core's one result shape of every model's training, and the CVAE's details. */
export interface TrainCvaeResult extends ModelTrainingResult {
  config: CvaeConfig;
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
  const t0 = performance.now();
  const t = parseTrainingOptions(
    cvaeTrainingSchema,
    { ...opts, preset: opts.preset === 'custom' ? undefined : opts.preset },
    'train cvae',
  );
  const ds = await openDataset(opts.datasetDir);
  const m = ds.manifest;
  if (m.kind !== 'spectra')
    throw new Error(`${opts.datasetDir}: is a '${m.kind}' dataset, the CVAE needs spectra`);
  const nPixels = m.pixels?.min ?? 0;
  const config = makeCvaeConfig(
    opts.preset ?? t.preset,
    { nPixels, labelColumns: m.labels },
    {
      epochs: t.epochs,
      seed: t.seed,
      batchSize: t.batchSize,
      learningRate: t.learningRate,
      beta: t.beta,
      klWarmupSteps: t.klWarmupSteps,
      earlyStoppingPatience: t.patience,
      validationLatent: t.validationLatent,
      ...opts.overrides,
    },
  );
  const keyOf = Object.fromEntries(Object.entries(m.labelKeys ?? {}).map(([k, c]) => [c, k]));
  // Linear scales from the manifest's ranges; the configured labels (by key or column) in log10(v + offset).
  const scales = minMaxScalesFromManifest(m, config.labelColumns).map((s) => {
    const offset =
      config.labelLog10Offsets[keyOf[s.column] ?? s.column] ?? config.labelLog10Offsets[s.column];
    return offset === undefined ? s : log10Scale(s, offset);
  });
  const cacheBytes = opts.cacheBytes ?? 2 ** 30;
  const train = await openSpectrumSource({
    dir: opts.datasetDir,
    split: TRAIN_SPLIT,
    splitSeed: config.seed,
    cacheBytes,
    labelScales: scales,
    noise: { latentDim: config.latentDim, seed: config.seed },
  });
  const val = await openSpectrumSource({
    dir: opts.datasetDir,
    split: VAL_SPLIT,
    splitSeed: config.seed,
    cacheBytes: opts.valCacheBytes ?? Math.floor(cacheBytes / 4),
    labelScales: scales,
    noise: { latentDim: config.latentDim, seed: config.seed ^ 0x5eed, key: 'epsVal' },
  });
  const model = new SpectrumCvae(config);
  const optimizer = createOptimizer('adam', model.params);
  const schedule = new ReduceOnPlateau({
    lr: config.learningRate,
    factor: config.plateau.factor,
    patience: config.plateau.patience,
    minLr: config.plateau.minLr,
  });
  const earlyStopping = new EarlyStopping({ patience: config.earlyStoppingPatience });
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
  const ckDir = checkpointDirOf(opts.outDir);
  await mkdir(ckDir, { recursive: true });
  const { epochs, ...loopConfig } = config;
  const tLoop = performance.now();
  let samples = 0;
  const meta = (extra: Record<string, unknown>) => ({
    config,
    labels,
    wavelength: {
      startAngstrom: train.wavelength.startAngstrom,
      stepAngstrom: train.wavelength.stepAngstrom,
      nPixels,
    },
    training: {
      dataset: opts.datasetDir,
      datasetRows: m.rowCount,
      ...spectrumMedium(m.notes),
      trainExamples: train.numExamples,
      valExamples: val.numExamples,
      backend: currentBackend()?.name ?? tf.getBackend(),
      ...extra,
    },
  });
  let loop: TrainResult;
  // one TensorFlow graph call per training step where the backend runs graphs, else autodiff
  const lossGraph = graphExecutionAvailable() ? new CvaeLossGradients(model) : null;
  try {
    loop = await trainLoop({
      params: model.params,
      loss: (b) => model.loss(b, optimizer.step),
      ...(lossGraph ? { gradients: (b) => lossGraph.run(b, model.betaAt(optimizer.step)) } : {}),
      train,
      validation: val,
      optimizer,
      schedule,
      earlyStopping,
      epochs: Math.min(epochs, opts.untilEpoch ?? Infinity),
      batchSize: config.batchSize,
      // three decodes per validation spectrum (z = μ, 0 and a draw): the training batch bounds its memory
      validationBatchSize: config.batchSize,
      seed: config.seed,
      reportEverySteps: opts.reportEverySteps ?? 20,
      checkpointDir: ckDir,
      checkpointEverySteps: t.checkpointEverySteps,
      resumeFrom: typeof opts.resume === 'string' ? opts.resume : opts.resume ? 'latest-if-any' : undefined,
      ...(t.maxMinutes !== undefined ? { maxSeconds: t.maxMinutes * 60 } : {}),
      onWarning: opts.onWarning,
      config: loopConfig as unknown as Record<string, unknown>,
      normalization: { labels: scales, fluxRange: config.fluxRange },
      signal: opts.signal,
      onBest: (best) =>
        saveCvaeModel(
          opts.outDir,
          model,
          meta({ bestEpoch: best.epoch, bestValRecon: best.loss, lr: schedule.lr() }),
        ),
      onProgress: opts.onProgress,
    });
  } finally {
    lossGraph?.dispose();
    train.close();
    val.close();
  }
  const trainSeconds = (performance.now() - tLoop) / 1000;
  const best = loop.best;
  if (best === null) {
    // No finished epoch in this call and none before: keep the current weights so the directory is usable.
    await saveCvaeModel(
      opts.outDir,
      model,
      meta({
        bestEpoch: null,
        bestValRecon: null,
        note: 'no finished epoch; weights are the last training state',
      }),
    );
  }
  samples = train.stats.examplesServed;
  model.dispose();
  optimizer.dispose();
  // The loss curves of every epoch so far (restored from the checkpoint on resume): the report's training figure.
  await writeTrainingHistory(opts.outDir, {
    preset: config.preset,
    epochsDone: loop.epochsDone,
    bestEpoch: best?.epoch ?? null,
    budgetSpent: loop.budgetSpent,
    trainExamples: train.numExamples,
    valExamples: val.numExamples,
    history: loop.history,
  });
  return {
    modelDir: opts.outDir,
    epochsDone: loop.epochsDone,
    done: loop.stoppedEarly || loop.epochsDone >= config.epochs,
    stoppedEarly: loop.stoppedEarly,
    budgetSpent: loop.budgetSpent,
    aborted: loop.aborted,
    globalStep: loop.globalStep,
    resumedFromStep: loop.resumedFromStep,
    lastCheckpoint: loop.finalCheckpoint,
    history: loop.history,
    best,
    checkpointWarnings: loop.checkpointWarnings,
    durationS: (performance.now() - t0) / 1000,
    backend: currentBackend()?.name ?? tf.getBackend(),
    gradients: lossGraph ? 'graph' : 'autodiff',
    config,
    loop,
    bestEpoch: best?.epoch ?? -1,
    bestValRecon: best?.loss ?? null,
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
