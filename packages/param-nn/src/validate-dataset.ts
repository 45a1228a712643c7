// Validating an emulator against a reference spectrum dataset, end to end: the 70/15/15 sets, the emulator's box, recovery, verdicts and the metrics file (for the CLI and the worker alike).
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '@stellar-emu/grid-io';
import { parseTrainingOptions } from '@stellar-emu/nn-core/options';
import type { LabelRange } from './labels.js';
import { recoveryValidationSchema, type RecoveryValidationInput } from './options.js';
import type { PcaOptions } from './pca.js';
import type { SpectrumSource } from './sources.js';
import { datasetSource, datasetSplits, type SpectrumGenerator } from './splits.js';
import { metricsJson, type RecoveryMetricsJson, type RunInfo } from './recovery-json.js';
import { validateEmulator, type ValidateEmulatorOptions, type ValidationResult } from './validate.js';

/**
 * The emulator under test: a generator with its training label box (and, when known, its pixel
 * count), e.g. cvae's `cvaeEmulator(loaded)`, or a spectrum dataset of spectra it already generated.
 */
export type EmulatorUnderTest =
  | {
      /** Name in error messages (default 'emulator'). */
      name?: string;
      generator: SpectrumGenerator;
      /** Label box by record key: generated labels are drawn in its intersection with the training ranges. */
      labelRanges: Record<string, LabelRange>;
      numPixels?: number;
    }
  | {
      /** grid-io spectrum dataset with the same labels and wavelength grid as the reference. */
      generatedDataset: string;
    };

/** The options of `validateEmulator` that {@link recoveryValidationSchema} names (and so replaces). */
type SchemaOptions =
  | 'preset'
  | 'epochs'
  | 'batchSize'
  | 'lr'
  | 'earlyStoppingPatience'
  | 'seed'
  | 'pca'
  | 'noisyCopies'
  | 'generatedAt'
  | 'generatedCount';

/**
 * Options of {@link validateEmulatorOnDataset}: the recovery-validation options of
 * {@link recoveryValidationSchema} (with its defaults; the pipeline's `validation` section and the
 * CLI's flags are these keys), the rest of `validateEmulator`'s, the data and the emulator.
 */
export interface ValidateOnDatasetOptions
  extends
    Omit<ValidateEmulatorOptions, 'data' | 'generator' | 'emulatorRanges' | SchemaOptions>,
    RecoveryValidationInput {
  /** Called after each PCA pass. */
  onPcaPass?: PcaOptions['onPass'];
  /** Reference spectra: a grid-io spectrum dataset (its 70/15/15 split column, else a seeded split; see `datasetSplits`). */
  dataset: string;
  /** Labels to recover (record keys); the emulator must cover every one. */
  labelNames: readonly string[];
  emulator: EmulatorUnderTest;
  /** Run metadata of the metrics file; the split scheme and the NaN-filled pixel count are added to its `config`. */
  run: RunInfo;
  /** Where the metrics JSON goes (default `<outDir>/metrics.json`). */
  metricsPath?: string;
}

/** Outcome of {@link validateEmulatorOnDataset}. */
export interface ValidateOnDatasetResult {
  result: ValidationResult;
  /** The metrics JSON written (`metricsJson`: the report contract's `RunMetrics` with the recovery section, and param-nn's details). */
  metrics: RecoveryMetricsJson;
  metricsPath: string;
  /** Where the sets came from: the dataset's own 70/15/15 column, or the seeded split. */
  splitScheme: 'dataset' | 'seeded';
  /** NaN reference pixels read as the continuum, over every pass. */
  nanFilled: number;
}

/**
 * Validate an emulator by parameter recovery on a reference dataset: its train/val/test sets
 * (`datasetSplits` with `seed`), the emulator checked against them (pixel count, every label in
 * its box), then `validateEmulator` (PCA, recovery network with noisy copies, RMSE table,
 * verdicts), and the metrics JSON (`metricsJson`) written atomically to `metricsPath`.
 */
export async function validateEmulatorOnDataset(
  opts: ValidateOnDatasetOptions,
): Promise<ValidateOnDatasetResult> {
  const t = parseTrainingOptions(recoveryValidationSchema, opts, 'validate');
  const { dataset, labelNames, emulator, run, metricsPath: path, onPcaPass, ...rest } = opts;
  const data = await datasetSplits(dataset, labelNames, t.seed);
  let generator: SpectrumGenerator | SpectrumSource;
  let emulatorRanges: Record<string, LabelRange> | undefined;
  if ('generatedDataset' in emulator) {
    generator = await datasetSource(emulator.generatedDataset, labelNames);
  } else {
    const name = emulator.name ?? 'emulator';
    if (emulator.numPixels !== undefined && emulator.numPixels !== data.train.numPixels)
      throw new Error(
        `the ${name} generates ${emulator.numPixels} pixels, the dataset has ${data.train.numPixels}`,
      );
    for (const k of labelNames)
      if (!emulator.labelRanges[k])
        throw new Error(
          `the ${name} has no label ${k} (labels: ${Object.keys(emulator.labelRanges).join(', ')})`,
        );
    generator = emulator.generator;
    emulatorRanges = emulator.labelRanges;
  }
  const result = await validateEmulator({
    ...rest,
    preset: t.preset,
    epochs: t.epochs,
    batchSize: t.batchSize,
    lr: t.learningRate,
    earlyStoppingPatience: t.patience,
    seed: t.seed,
    noisyCopies: t.noisyCopies,
    generatedAt: t.generatedAt,
    ...(t.generatedCount !== undefined ? { generatedCount: t.generatedCount } : {}),
    pca: {
      ...(t.maxPcaError !== undefined
        ? { maxRelativeError: t.maxPcaError }
        : { components: t.pcaComponents }),
      memoryCapBytes: t.pcaMemoryMib * 2 ** 20,
      ...(onPcaPass ? { onPass: onPcaPass } : {}),
    },
    data,
    generator,
    emulatorRanges,
  });
  const metrics = metricsJson(
    result,
    { ...run, config: { ...run.config, splitScheme: data.scheme, nanFilled: data.stats.nanFilled } },
    opts.maxScatterPoints,
  );
  const metricsPath = path ?? join(opts.outDir, 'metrics.json');
  await mkdir(dirname(metricsPath), { recursive: true });
  // Atomic: a failed write leaves the previous file whole.
  await writeFileAtomic(metricsPath, `${JSON.stringify(metrics, null, 2)}\n`);
  return { result, metrics, metricsPath, splitScheme: data.scheme, nanFilled: data.stats.nanFilled };
}
