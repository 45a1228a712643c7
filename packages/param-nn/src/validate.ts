// Emulator validation by parameter recovery, the orchestration: PCA, noisy-copy training, evaluation of train/val/test and generated spectra, verdicts.
// (Metrics in recovery-metrics.ts, the metrics JSON in recovery-json.ts, the text table in recovery-table.ts.)
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SPLIT_NAMES, type RecoveryFactorSetting, type SplitName } from '@stellar-emu/grid-io';
import { initBackend } from '@stellar-emu/nn-core';
import type { LabelRange } from './labels.js';
import type { RecoveryNetwork } from './network.js';
import { augmentWithNoisyCopies, DEFAULT_SNR_RANGE } from './noise.js';
import { fitPca, type PcaFitReport, type PcaOptions } from './pca.js';
import { rmsePerLabel, verdicts, type EvaluationSet, type LabelVerdict } from './recovery-metrics.js';
import type { SpectrumSource } from './sources.js';
import { generatedSource, type SplitSources, type SpectrumGenerator } from './splits.js';
import { trainRecovery, type CoefficientSet, type TrainRecoveryOptions } from './train.js';

/** Options of {@link validateEmulator}; the recovery network's training options are {@link trainRecovery}'s. */
export interface ValidateEmulatorOptions extends Pick<
  TrainRecoveryOptions,
  | 'preset'
  | 'hidden'
  | 'epochs'
  | 'batchSize'
  | 'lr'
  | 'earlyStoppingPatience'
  | 'seed'
  | 'resume'
  | 'onProgress'
> {
  /** The 70/15/15 sets of the reference spectra (with labels). */
  data: SplitSources;
  /** The emulator under test, or a set of spectra it generated (with their labels). */
  generator: SpectrumGenerator | SpectrumSource;
  /** Label ranges of the emulator: generated labels are drawn uniformly in their intersection with the training ranges. */
  emulatorRanges?: Record<string, LabelRange>;
  /** Number of generated spectra with generatedAt 'uniform' (default: the size of the test set). */
  generatedCount?: number;
  /** Labels of the generated spectra: the test set's (default) or uniform draws. */
  generatedAt?: 'test' | 'uniform';
  /** Output directory (recovery model under recovery/, checkpoints, metrics.json). */
  outDir: string;
  /** Verdict factors: one for every label or per label (default: grid-io DEFAULT_RECOVERY_FACTORS). */
  factor?: RecoveryFactorSetting;
  pca?: PcaOptions;
  /** SNR range of the noisy copies (default 5..300). */
  snrRange?: { min: number; max: number };
  /** Noisy copies of each training and validation spectrum (default 1, the paper's). */
  noisyCopies?: number;
  /** Spectra per block in projection passes (default 1024). */
  blockRows?: number;
  /** Points per label and set in the predicted-vs-true data (default 5000, the first ones). */
  maxScatterPoints?: number;
  onStage?: (stage: string) => void;
}

/** Recovery results of one set. */
export interface SetResult {
  rows: number;
  /** RMSE per label on the clean spectra, physical units. */
  rmse: Record<string, number>;
  /** RMSE per label on clean + one noisy copy per spectrum (SNR 5..300). */
  rmseWithNoisyCopies: Record<string, number>;
  /** Clipped (out-of-training-range) predictions per label, clean spectra. */
  clipped: Record<string, number>;
  /** Truth and clipped predictions, row-major [rows, labels]. */
  truth: Float64Array;
  predicted: Float64Array;
}

/** Everything {@link validateEmulator} measured. */
export interface ValidationResult {
  labelNames: string[];
  sets: Record<EvaluationSet, SetResult>;
  verdicts: LabelVerdict[];
  pass: boolean;
  /** Verdict factor of each label. */
  factors: Record<string, number>;
  pca: PcaFitReport;
  training: {
    epochsDone: number;
    bestEpoch: number | null;
    bestValLoss: number | null;
    stoppedEarly: boolean;
    samplesPerSec: number;
    seconds: number;
    modelPath: string;
    hidden: number[];
  };
  generatedRanges: Record<string, LabelRange>;
  durationsSeconds: Record<string, number>;
}

async function evaluateSet(
  network: RecoveryNetwork,
  set: CoefficientSet,
  labelNames: readonly string[],
  noiseSeed: number,
  snrRange: { min: number; max: number },
): Promise<SetResult> {
  const k = network.arch.inputDim;
  const nl = labelNames.length;
  const clean = await network.predictFromCoefficients(set.coeffs, set.rows);
  const aug = augmentWithNoisyCopies(set, k, nl, { seed: noiseSeed, snrRange });
  const noisy = await network.predictFromCoefficients(aug.coeffs, aug.rows);
  return {
    rows: set.rows,
    rmse: rmsePerLabel(clean.values, set.labels, set.rows, labelNames),
    rmseWithNoisyCopies: rmsePerLabel(noisy.values, aug.labels, aug.rows, labelNames),
    clipped: clean.clippedCount,
    truth: set.labels,
    predicted: clean.values,
  };
}

/** Options of {@link prepareRecovery}: everything of {@link ValidateEmulatorOptions} but the emulator. */
export type PrepareRecoveryOptions = Omit<
  ValidateEmulatorOptions,
  'generator' | 'emulatorRanges' | 'generatedCount' | 'generatedAt' | 'factor'
>;

/** A trained recovery network with the projected reference sets, ready to judge emulators. */
export interface PreparedRecovery {
  network: RecoveryNetwork;
  labelNames: string[];
  numPixels: number;
  sets: Record<SplitName, CoefficientSet>;
  /** Results on the reference sets (clean and with noisy copies). */
  reference: Record<SplitName, SetResult>;
  pca: PcaFitReport;
  training: ValidationResult['training'];
  durationsSeconds: Record<string, number>;
  seed: number;
  snrRange: { min: number; max: number };
  blockRows: number;
  /** Frees the network (and its PCA). */
  dispose(): void;
}

async function timed<T>(
  durations: Record<string, number>,
  name: string,
  onStage: ((s: string) => void) | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  onStage?.(name);
  const t0 = performance.now();
  const r = await fn();
  durations[name] = (performance.now() - t0) / 1000;
  return r;
}

/**
 * Steps 1–3 of the validation: fit a streaming PCA on the training spectra; project
 * train/val/test; add one noisy copy per spectrum (SNR uniform in 5..300, σ = 1/SNR) to
 * the training and validation sets; train the recovery network (Adamax, MSE, batch 1024 by
 * default, early stopping on validation, best weights); evaluate it on the three sets.
 */
export async function prepareRecovery(opts: PrepareRecoveryOptions): Promise<PreparedRecovery> {
  await initBackend({ quiet: true });
  const durations: Record<string, number> = {};
  const seed = opts.seed ?? 1;
  const snrRange = opts.snrRange ?? DEFAULT_SNR_RANGE;
  const blockRows = opts.blockRows ?? 1024;
  const labelNames = [...opts.data.train.labelNames];
  const nl = labelNames.length;
  if (nl === 0) throw new Error('validateEmulator: the training spectra have no labels');
  for (const s of [opts.data.val, opts.data.test]) {
    if (s.labelNames.join() !== labelNames.join())
      throw new Error('validateEmulator: the sets have different labels');
    if (s.numPixels !== opts.data.train.numPixels)
      throw new Error('validateEmulator: the sets have different pixel counts');
  }
  if (opts.data.test.numSpectra === 0 || opts.data.val.numSpectra === 0)
    throw new Error('validateEmulator: the validation and test sets must not be empty');
  await mkdir(opts.outDir, { recursive: true });

  const { model: pca, report: pcaReport } = await timed(durations, 'pca', opts.onStage, () =>
    fitPca(opts.data.train, { seed, ...opts.pca }),
  );
  const sets = await timed(durations, 'project', opts.onStage, async () => {
    const out: Partial<Record<SplitName, CoefficientSet>> = {};
    for (const name of SPLIT_NAMES) out[name] = await pca.projectSource(opts.data[name], blockRows);
    return out as Record<SplitName, CoefficientSet>;
  });
  const k = pca.components;
  const copies = opts.noisyCopies ?? 1;
  const trainAug = augmentWithNoisyCopies(sets.train, k, nl, { seed: seed * 4 + 1, snrRange, copies });
  const valAug = augmentWithNoisyCopies(sets.val, k, nl, { seed: seed * 4 + 2, snrRange, copies });
  const trained = await timed(durations, 'train', opts.onStage, () =>
    trainRecovery({
      pca,
      labelNames,
      train: trainAug,
      validation: valAug,
      outDir: join(opts.outDir, 'recovery'),
      preset: opts.preset,
      hidden: opts.hidden,
      epochs: opts.epochs,
      batchSize: opts.batchSize,
      lr: opts.lr,
      earlyStoppingPatience: opts.earlyStoppingPatience,
      seed,
      resume: opts.resume,
      onProgress: opts.onProgress,
    }),
  );
  const network = trained.network;
  try {
    const reference = await timed(durations, 'evaluate-reference', opts.onStage, async () => ({
      train: await evaluateSet(network, sets.train, labelNames, seed * 4 + 1, snrRange),
      val: await evaluateSet(network, sets.val, labelNames, seed * 4 + 2, snrRange),
      test: await evaluateSet(network, sets.test, labelNames, seed * 4 + 5, snrRange),
    }));
    return {
      network,
      labelNames,
      numPixels: opts.data.train.numPixels,
      sets,
      reference,
      pca: pcaReport,
      training: {
        epochsDone: trained.result.epochsDone,
        bestEpoch: trained.bestEpoch,
        bestValLoss: trained.bestValLoss,
        stoppedEarly: trained.result.stoppedEarly,
        samplesPerSec: trained.samplesPerSec,
        seconds: trained.seconds,
        modelPath: trained.modelPath,
        hidden: network.arch.hidden,
      },
      durationsSeconds: durations,
      seed,
      snrRange,
      blockRows,
      dispose: () => network.dispose(),
    };
  } catch (err) {
    network.dispose();
    throw err;
  }
}

/**
 * Step 4–5: judge an emulator with a prepared recovery network. The emulator is a generator
 * function, or an already generated set of labelled spectra (a source). Labels are drawn uniformly in the
 * emulator's ranges intersected with the network's training ranges (so the verdict measures the
 * emulator, not extrapolation of the network); the generated spectra are projected and their
 * labels recovered; RMSE per label (physical units, clean spectra) for train, val, test
 * and generated; verdict per label: generated RMSE ≤ factor × test RMSE.
 */
export async function judgeEmulator(
  prepared: PreparedRecovery,
  generator: SpectrumGenerator | SpectrumSource,
  opts: {
    emulatorRanges?: Record<string, LabelRange>;
    generatedCount?: number;
    /**
     * Labels of the generated spectra: 'test' (default; the paper's Table 3: the emulator at the
     * test spectra's labels, so generated and test RMSE measure the same label distribution) or
     * 'uniform' (`generatedCount` draws in the ranges).
     */
    generatedAt?: 'test' | 'uniform';
    factor?: RecoveryFactorSetting;
    seed?: number;
    onStage?: (s: string) => void;
  } = {},
): Promise<ValidationResult> {
  const { network, labelNames, seed, snrRange, blockRows } = prepared;
  const durations = { ...prepared.durationsSeconds };
  const ranges: Record<string, LabelRange> = {};
  for (const n of labelNames) {
    const t = network.scalers.labelRanges[n];
    const e = opts.emulatorRanges?.[n];
    const r = e ? { min: Math.max(t.min, e.min), max: Math.min(t.max, e.max) } : { ...t };
    if (!(r.max >= r.min))
      throw new Error(
        `judgeEmulator: the emulator's range of ${n} [${e?.min}, ${e?.max}] does not overlap the training range [${t.min}, ${t.max}]`,
      );
    ranges[n] = r;
  }
  const genSeed = opts.seed ?? seed * 4 + 3;
  const atTest = (opts.generatedAt ?? 'test') === 'test';
  const gen =
    typeof generator === 'function'
      ? generatedSource(generator, {
          count: atTest ? prepared.sets.test.rows : (opts.generatedCount ?? prepared.sets.test.rows),
          numPixels: prepared.numPixels,
          labelNames,
          ranges,
          seed: genSeed,
          // The test labels, clamped into the emulator's ranges (its training box: no extrapolation).
          ...(atTest
            ? {
                at: prepared.sets.test.labels.map((v, i) => {
                  const r = ranges[labelNames[i % labelNames.length]];
                  return Math.min(r.max, Math.max(r.min, v));
                }),
              }
            : {}),
        })
      : generator;
  if (gen.numPixels !== prepared.numPixels)
    throw new Error(
      `judgeEmulator: generated spectra have ${gen.numPixels} pixels, the reference ${prepared.numPixels}`,
    );
  if (gen.labelNames.join() !== labelNames.join())
    throw new Error(
      `judgeEmulator: generated spectra have labels ${gen.labelNames.join(', ')}, expected ${labelNames.join(', ')}`,
    );
  const generated = await timed(durations, 'generate', opts.onStage, () =>
    network.pca.projectSource(gen, blockRows),
  );
  const genResult = await timed(durations, 'evaluate-generated', opts.onStage, () =>
    evaluateSet(network, generated, labelNames, genSeed + 3, snrRange),
  );
  const sets = { ...prepared.reference, generated: genResult };
  const v = verdicts(sets.test.rmse, sets.generated.rmse, labelNames, opts.factor);
  return {
    labelNames,
    sets,
    verdicts: v,
    pass: v.every((x) => x.pass),
    factors: Object.fromEntries(v.map((x) => [x.label, x.factor])),
    pca: prepared.pca,
    training: prepared.training,
    generatedRanges: ranges,
    durationsSeconds: durations,
  };
}

/** The whole validation: {@link prepareRecovery} then {@link judgeEmulator}. */
export async function validateEmulator(opts: ValidateEmulatorOptions): Promise<ValidationResult> {
  const prepared = await prepareRecovery(opts);
  try {
    return await judgeEmulator(prepared, opts.generator, {
      emulatorRanges: opts.emulatorRanges,
      generatedCount: opts.generatedCount,
      generatedAt: opts.generatedAt,
      factor: opts.factor,
      onStage: opts.onStage,
    });
  } finally {
    prepared.dispose();
  }
}
