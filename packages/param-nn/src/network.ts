// The parameter-recovery network: PCA coefficients -> dense ReLU stack -> labels, with its scalers, PCA and file format.
import {
  CheckpointError,
  DenseStack,
  ParamStore,
  readModelFile,
  tf,
  writeModelFile,
  type Batch,
  type LossResult,
  type ModelFileFormat,
  type StoredTensor,
} from '@stellar-emu/nn-core';
import { minMaxScale, minMaxUnscale, standardize, UNIT_INTERVAL } from '@stellar-emu/grid-io';
import { Rng } from '@stellar-emu/numerics';
import { z } from 'zod';
import { clipToRanges, type ClippedLabels, type LabelRange } from './labels.js';
import { PcaModel } from './pca.js';

/** Hidden widths of the presets; the output layer (one unit per label, linear) follows. */
export const RECOVERY_PRESETS = {
  /** The paper's network: k -> 5000 -> 2000 -> 1000 -> 64 -> 6. */
  paper: [5000, 2000, 1000, 64],
  /** A small network for tests and quick checks: k -> 256 -> 128 -> 64 -> 32 -> 6. */
  small: [256, 128, 64, 32],
} as const satisfies Record<string, readonly number[]>;
export type RecoveryPreset = keyof typeof RECOVERY_PRESETS;

/** Kind string of recovery model files. */
export const RECOVERY_MODEL_KIND = 'param-nn/recovery';

/** Architecture of a recovery network. */
export interface RecoveryArchitecture {
  /** Number of PCA coefficients in. */
  inputDim: number;
  /** Hidden widths (ReLU). */
  hidden: number[];
  /** Label names out (linear units), in order. */
  labelNames: string[];
}

/**
 * Scalers: inputs are standardized per coefficient, (c − mean) / std with std floored at 1e-3 of
 * the largest coefficient std; labels are scaled to
 * [0, 1] over the training range, (y − min) / (max − min), and converted back with the same
 * numbers (grid-io's `standardize` and `minMaxScale` / `minMaxUnscale` onto `UNIT_INTERVAL`; a
 * label constant over the training set scales to 0.5 and always converts back to its value).
 */
export interface RecoveryScalers {
  inputMean: number[];
  inputStd: number[];
  /** Training range of each label, physical units; predictions are clipped to it. */
  labelRanges: Record<string, LabelRange>;
}

/** Compute the scalers from (augmented) training coefficients and labels. */
export function computeScalers(
  coeffs: Float32Array,
  labels: Float64Array,
  rows: number,
  k: number,
  labelNames: readonly string[],
): RecoveryScalers {
  const mean = new Float64Array(k);
  const sq = new Float64Array(k);
  for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) mean[j] += coeffs[i * k + j];
  for (let j = 0; j < k; j++) mean[j] /= rows;
  for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) sq[j] += (coeffs[i * k + j] - mean[j]) ** 2;
  const raw = Array.from(sq, (s) => Math.sqrt(s / Math.max(1, rows - 1)));
  // Floor at 1e-3 of the largest: a component without variance (data of lower rank than k) must
  // not be blown up to unit variance from float32 round-off.
  const floor = Math.max(...raw) * 1e-3 || 1;
  const std = raw.map((s) => Math.max(s, floor));
  const ranges: Record<string, LabelRange> = {};
  labelNames.forEach((name, j) => {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < rows; i++) {
      const v = labels[i * labelNames.length + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (!(Number.isFinite(min) && Number.isFinite(max)))
      throw new Error(`computeScalers: label ${name} has no finite training values`);
    ranges[name] = { min, max };
  });
  return { inputMean: Array.from(mean), inputStd: std, labelRanges: ranges };
}

/** The PCA + network + scalers, i.e. everything needed to recover labels from a spectrum. */
export class RecoveryNetwork {
  readonly params = new ParamStore();
  readonly stack: DenseStack;
  private readonly inMean: tf.Tensor1D;
  private readonly inStd: tf.Tensor1D;

  constructor(
    readonly arch: RecoveryArchitecture,
    readonly scalers: RecoveryScalers,
    readonly pca: PcaModel,
    readonly seed = 1,
  ) {
    if (pca.components !== arch.inputDim)
      throw new Error(
        `RecoveryNetwork: PCA has ${pca.components} components, the network takes ${arch.inputDim}`,
      );
    this.stack = new DenseStack(
      this.params,
      'recovery',
      arch.inputDim,
      { widths: [...arch.hidden, arch.labelNames.length], activation: 'relu', lastActivation: 'linear' },
      new Rng(seed),
    );
    this.inMean = tf.tensor1d(scalers.inputMean, 'float32');
    this.inStd = tf.tensor1d(scalers.inputStd, 'float32');
  }

  /** Standardize coefficients on the host (for the training source). */
  standardize(coeffs: Float32Array, rows: number): Float32Array {
    const k = this.arch.inputDim;
    const out = new Float32Array(rows * k);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < k; j++)
        out[i * k + j] = standardize(coeffs[i * k + j], this.scalers.inputMean[j], this.scalers.inputStd[j]);
    return out;
  }

  /** Labels (physical) to the network's [0, 1] scale, row-major. */
  scaleLabels(labels: Float64Array, rows: number): Float32Array {
    const names = this.arch.labelNames;
    const out = new Float32Array(rows * names.length);
    names.forEach((n, j) => {
      const { min, max } = this.scalers.labelRanges[n];
      for (let i = 0; i < rows; i++)
        out[i * names.length + j] = minMaxScale(labels[i * names.length + j], min, max, UNIT_INTERVAL);
    });
    return out;
  }

  /** Forward pass on standardized inputs [n, k] -> scaled labels [n, labels]. */
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return this.stack.apply(x);
  }

  /** MSE over labels and batch on the [0, 1] label scale; batch has `x` (standardized) and `y` (scaled). */
  loss(batch: Batch): LossResult {
    const pred = this.forward(batch.x as tf.Tensor2D);
    return { total: tf.losses.meanSquaredError(batch.y, pred) as tf.Scalar };
  }

  /**
   * Labels in physical units from PCA coefficients [rows, k], clipped to the training ranges
   * with out-of-range flags (see `clipToRanges`).
   */
  async predictFromCoefficients(
    coeffs: Float32Array,
    rows: number,
    batchSize = 4096,
  ): Promise<ClippedLabels> {
    const names = this.arch.labelNames;
    const nl = names.length;
    const k = this.arch.inputDim;
    const raw = new Float64Array(rows * nl);
    for (let start = 0; start < rows; start += batchSize) {
      const n = Math.min(batchSize, rows - start);
      const t = tf.tidy(() => {
        const x = tf.div(
          tf.sub(tf.tensor2d(coeffs.subarray(start * k, (start + n) * k), [n, k]), this.inMean),
          this.inStd,
        ) as tf.Tensor2D;
        return this.forward(x);
      });
      const y = await t.data();
      t.dispose();
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < nl; j++) {
          const { min, max } = this.scalers.labelRanges[names[j]];
          raw[(start + i) * nl + j] = minMaxUnscale(y[i * nl + j], min, max, UNIT_INTERVAL);
        }
      }
    }
    return clipToRanges(raw, rows, names, this.scalers.labelRanges);
  }

  /** Labels from spectra [rows, numPixels] (PCA projection, then the network). */
  async predict(flux: Float32Array, rows: number): Promise<ClippedLabels> {
    return this.predictFromCoefficients(await this.pca.project(flux, rows), rows);
  }

  /** Save weights, PCA (mean, basis, variances), scalers and architecture atomically in one file. */
  async save(path: string, info: Record<string, unknown> = {}): Promise<void> {
    const tensors: Map<string, StoredTensor> = this.params.toStoredTensors('param/');
    tensors.set('pca/mean', { shape: [this.pca.numPixels], data: this.pca.mean });
    tensors.set('pca/basis', { shape: [this.pca.numPixels, this.pca.components], data: this.pca.basis });
    tensors.set('pca/explained_variance', { shape: [this.pca.components], data: this.pca.explainedVariance });
    const state: RecoveryFileState = {
      arch: this.arch,
      scalers: this.scalers,
      seed: this.seed,
      pcaTotalVariance: this.pca.totalVariance,
      info,
    };
    await writeModelFile(path, RECOVERY_MODEL_FILE, tensors, state);
  }

  /**
   * Load a model written by `save`; a missing, corrupt or foreign file, or a state that does not
   * fit {@link RECOVERY_FILE_STATE_SCHEMA} (naming the field), gives a CheckpointError.
   */
  static async load(path: string): Promise<{ network: RecoveryNetwork; info: Record<string, unknown> }> {
    const { state, tensors } = await readModelFile(path, RECOVERY_MODEL_FILE);
    const mean = tensors.get('pca/mean');
    const basis = tensors.get('pca/basis');
    const ev = tensors.get('pca/explained_variance');
    if (!mean || !basis || !ev)
      throw new CheckpointError(path, 'has no PCA (pca/mean, pca/basis, pca/explained_variance)');
    const pca = new PcaModel(
      mean.data as Float32Array,
      basis.data as Float32Array,
      basis.shape[0],
      basis.shape[1],
      ev.data as Float64Array,
      state.pcaTotalVariance,
    );
    const net = new RecoveryNetwork(state.arch, state.scalers, pca, state.seed);
    const values = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, t] of tensors)
      if (k.startsWith('param/')) values.set(k.slice(6), { shape: t.shape, data: t.data as Float32Array });
    try {
      net.params.restore(values);
    } catch (err) {
      net.dispose();
      throw new CheckpointError(
        path,
        `weights do not fit the stored architecture: ${(err as Error).message}`,
      );
    }
    return { network: net, info: state.info };
  }

  dispose(): void {
    this.params.dispose();
    this.inMean.dispose();
    this.inStd.dispose();
    this.pca.dispose();
  }
}

/** The JSON state stored in a recovery model file. */
export interface RecoveryFileState {
  arch: RecoveryArchitecture;
  scalers: RecoveryScalers;
  seed: number;
  pcaTotalVariance: number;
  info: Record<string, unknown>;
}

/** zod schema of the state of a recovery model file (fields unknown to it are kept). */
export const RECOVERY_FILE_STATE_SCHEMA: z.ZodType<RecoveryFileState> = z
  .looseObject({
    arch: z.looseObject({
      inputDim: z.number().int().positive(),
      hidden: z.array(z.number().int().positive()),
      labelNames: z.array(z.string()).min(1),
    }),
    scalers: z.looseObject({
      inputMean: z.array(z.number()),
      inputStd: z.array(z.number()),
      labelRanges: z.record(z.string(), z.looseObject({ min: z.number(), max: z.number() })),
    }),
    seed: z.number(),
    pcaTotalVariance: z.number(),
    info: z.record(z.string(), z.unknown()),
  })
  .superRefine(({ arch, scalers }, ctx) => {
    for (const k of ['inputMean', 'inputStd'] as const)
      if (scalers[k].length !== arch.inputDim)
        ctx.addIssue({
          code: 'custom',
          path: ['scalers', k],
          message: `has ${scalers[k].length} values, arch.inputDim is ${arch.inputDim}`,
        });
    for (const name of arch.labelNames)
      if (!scalers.labelRanges[name])
        ctx.addIssue({
          code: 'custom',
          path: ['scalers', 'labelRanges'],
          message: `has no range for label ${name}`,
        });
  });

/** The recovery model file: its kind and the schema of its state (nn-core `writeModelFile` / `readModelFile`). */
export const RECOVERY_MODEL_FILE: ModelFileFormat<RecoveryFileState> = {
  kind: RECOVERY_MODEL_KIND,
  schema: RECOVERY_FILE_STATE_SCHEMA,
};
