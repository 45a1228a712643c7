// The emulator: network + normalization; training loss, batched prediction with a tau cache, label gradients, save/load.
import { CheckpointError, readCheckpoint, tf, writeCheckpoint, type Batch, type LossResult, type StoredTensor } from '@stellar-emu/nn-core';
import { QUANTITIES, type PhysicsOptions, type PinnArchitecture } from './config.js';
import { PinnNetwork } from './model.js';
import { checkLabelRange, labelFeatures, type Normalization } from './normalization.js';
import { hydrostaticResidual } from './physics.js';
import type { StellarLabels } from './atmosphere.js';

const LN10 = Math.LN10;

/** A predicted model atmosphere in physical units (cgs), surface first. */
export interface PredictedAtmosphere extends StellarLabels {
  nLayers: number;
  tauRosseland: number[];
  rhox: number[];
  temperature: number[];
  pressure: number[];
  xne: number[];
  abross: number[];
  accrad: number[];
}

/** Prediction options. */
export interface PredictOptions {
  /** Rosseland tau grid (default: the model's default grid, uniform in log10 tau). */
  tauGrid?: number[];
  /** Models per forward pass (default 256). */
  batchSize?: number;
  /** Compute the tau half of the first layer once per tau grid (default true). */
  useTauCache?: boolean;
  /** Predict outside the training label range instead of throwing (default false). */
  allowExtrapolation?: boolean;
}

/** Metadata stored in the model file besides the weights. */
export interface ModelFileState {
  arch: PinnArchitecture;
  normalization: Normalization;
  physics: PhysicsOptions;
  seed: number;
  /** Free-form provenance: backend, data, training history. */
  info: Record<string, unknown>;
}

/** The kind tag of model files. */
export const MODEL_KIND = 'kurucz-a1-pinn';

/** Kurucz-a1 emulator: a PinnNetwork with its normalization and physics options. */
export class PinnEmulator {
  readonly net: PinnNetwork;
  private tauCache: { key: string; tensor: tf.Tensor2D } | null = null;

  constructor(
    readonly arch: PinnArchitecture,
    readonly norm: Normalization,
    readonly physics: PhysicsOptions,
    readonly seed: number,
  ) {
    this.net = new PinnNetwork(arch, seed);
  }

  /**
   * Training loss of a batch {labels [B,4], logTau [B,1], y [B,6], pmask [B,1]} (normalized):
   * (1 - alpha) MSE + alpha mean(pmask r^2) / mean(pmask), r the hydrostatic residual.
   */
  loss(batch: Batch): LossResult {
    const labels = batch.labels as tf.Tensor2D;
    const logTau = batch.logTau as tf.Tensor2D;
    const { alpha, includeAccrad } = this.physics;
    if (alpha === 0) {
      const mse = tf.mean(tf.square(tf.sub(this.net.forward(labels, logTau), batch.y))) as tf.Scalar;
      return { total: mse, parts: { mse } };
    }
    const { y, dyDlogTauN } = this.net.forwardWithTauTangent(labels, logTau);
    const mse = tf.mean(tf.square(tf.sub(y, batch.y))) as tf.Scalar;
    const r = hydrostaticResidual(this.norm, labels, logTau, y, dyDlogTauN, includeAccrad);
    const physics = tf.div(tf.sum(tf.mul(tf.square(r), batch.pmask)), tf.maximum(tf.sum(batch.pmask), 1)) as tf.Scalar;
    const total = tf.add(tf.mul(mse, 1 - alpha), tf.mul(physics, alpha)) as tf.Scalar;
    return { total, parts: { mse, physics } };
  }

  /** Normalized label rows [n, 4]. */
  normalizeLabels(labels: StellarLabels[]): Float32Array {
    const out = new Float32Array(labels.length * 4);
    labels.forEach((l, j) => labelFeatures(l).forEach((v, i) => (out[j * 4 + i] = (v - this.norm.labelMean[i]) / this.norm.labelStd[i])));
    return out;
  }

  /** Normalized log tau column [n, 1]. */
  normalizeLogTau(tau: ArrayLike<number>): Float32Array {
    return Float32Array.from(tau, (t) => (Math.log10(t) - this.norm.logTauMean) / this.norm.logTauStd);
  }

  private gridTauPart(tauGrid: number[]): tf.Tensor2D {
    const key = tauGrid.join(',');
    if (this.tauCache?.key === key) return this.tauCache.tensor;
    this.tauCache?.tensor.dispose();
    const t = tf.tidy(() => this.net.tauPart(tf.tensor2d(this.normalizeLogTau(tauGrid), [tauGrid.length, 1])));
    this.tauCache = { key, tensor: t };
    return t;
  }

  /** Drop the cached tau half (e.g. after the weights changed). */
  clearTauCache(): void {
    this.tauCache?.tensor.dispose();
    this.tauCache = null;
  }

  /** The default prediction tau grid. */
  defaultTauGrid(): number[] {
    return this.norm.defaultLogTauGrid.map((x) => 10 ** x);
  }

  /**
   * Predict atmospheres in physical units for many label sets on one tau grid, in batches.
   * Throws ExtrapolationError outside the training range unless `allowExtrapolation`.
   */
  predictAtmosphere(labels: StellarLabels[], opts: PredictOptions = {}): PredictedAtmosphere[] {
    const tauGrid = opts.tauGrid ?? this.defaultTauGrid();
    if (!opts.allowExtrapolation) checkLabelRange(this.norm, labels, tauGrid.map(Math.log10));
    const raw = this.predictNormalized(labels, tauGrid, opts);
    const D = tauGrid.length;
    return labels.map((l, j) => {
      const out: PredictedAtmosphere = { ...l, nLayers: D, tauRosseland: [...tauGrid], rhox: [], temperature: [], pressure: [], xne: [], abross: [], accrad: [] };
      QUANTITIES.forEach((q, k) => {
        const arr = new Array<number>(D);
        for (let d = 0; d < D; d++) arr[d] = 10 ** (this.norm.outMean[k] + this.norm.outStd[k] * raw[(j * D + d) * 6 + k]);
        out[q] = arr;
      });
      return out;
    });
  }

  /** Normalized outputs [n * D * 6] (model-major, then depth, then quantity). */
  predictNormalized(labels: StellarLabels[], tauGrid: number[], opts: PredictOptions = {}): Float32Array {
    const D = tauGrid.length;
    const bs = opts.batchSize ?? 256;
    const useCache = opts.useTauCache ?? true;
    const out = new Float32Array(labels.length * D * 6);
    const labelsN = this.normalizeLabels(labels);
    const tauN = this.normalizeLogTau(tauGrid);
    const tauPart = useCache ? this.gridTauPart(tauGrid) : null;
    for (let s = 0; s < labels.length; s += bs) {
      const n = Math.min(bs, labels.length - s);
      const y = tf.tidy(() => {
        const l = tf.tensor2d(labelsN.subarray(s * 4, (s + n) * 4), [n, 4]);
        if (tauPart) {
          const lp = this.net.labelPart(l); // [n, H1]
          const h1 = lp.shape[1];
          const z1 = tf.reshape(tf.add(tf.expandDims(lp, 1), tf.expandDims(tauPart, 0)), [n * D, h1]) as tf.Tensor2D;
          return this.net.fromPreActivation(z1);
        }
        const lRep = tf.reshape(tf.tile(tf.expandDims(l, 1), [1, D, 1]), [n * D, 4]) as tf.Tensor2D;
        const tRep = tf.tile(tf.tensor2d(tauN, [D, 1]), [n, 1]) as tf.Tensor2D;
        return this.net.forward(lRep, tRep);
      });
      out.set(y.dataSync() as Float32Array, s * D * 6);
      y.dispose();
    }
    return out;
  }

  /**
   * Jacobian of the physical outputs with respect to the physical labels on a tau grid:
   * entry [((j * D + d) * 6 + k) * 4 + i] = d Q_k(tau_d) / d label_i for model j, with labels
   * (teffK in K, logg, feh, afe in dex) and Q in cgs. Forward mode, one pass per label.
   */
  labelGradients(labels: StellarLabels[], opts: { tauGrid?: number[]; allowExtrapolation?: boolean } = {}): { values: PredictedAtmosphere[]; jacobian: Float64Array } {
    const tauGrid = opts.tauGrid ?? this.defaultTauGrid();
    if (!opts.allowExtrapolation) checkLabelRange(this.norm, labels, tauGrid.map(Math.log10));
    const values = this.predictAtmosphere(labels, { tauGrid, useTauCache: false, allowExtrapolation: true });
    const D = tauGrid.length;
    const n = labels.length;
    const jac = new Float64Array(n * D * 6 * 4);
    const labelsN = this.normalizeLabels(labels);
    const tauN = this.normalizeLogTau(tauGrid);
    for (let i = 0; i < 4; i++) {
      const dy = tf.tidy(() => {
        const l = tf.reshape(tf.tile(tf.expandDims(tf.tensor2d(labelsN, [n, 4]), 1), [1, D, 1]), [n * D, 4]) as tf.Tensor2D;
        const t = tf.tile(tf.tensor2d(tauN, [D, 1]), [n, 1]) as tf.Tensor2D;
        const dir = new Float32Array(n * D * 4);
        for (let p = 0; p < n * D; p++) dir[p * 4 + i] = 1;
        return this.net.forwardWithLabelTangent(l, t, tf.tensor2d(dir, [n * D, 4])).dy;
      });
      const d = dy.dataSync();
      dy.dispose();
      for (let j = 0; j < n; j++) {
        // d(normalized label i)/d(physical label i)
        const dlN = i === 0 ? 1 / (LN10 * labels[j].teffK * this.norm.labelStd[0]) : 1 / this.norm.labelStd[i];
        for (let dd = 0; dd < D; dd++) {
          QUANTITIES.forEach((q, k) => {
            const Q = values[j][q][dd];
            jac[((j * D + dd) * 6 + k) * 4 + i] = Q * LN10 * this.norm.outStd[k] * d[(j * D + dd) * 6 + k] * dlN;
          });
        }
      }
    }
    return { values, jacobian: jac };
  }

  /** Save weights, architecture, normalization and provenance atomically to one file. */
  async save(path: string, info: Record<string, unknown> = {}): Promise<void> {
    const tensors = new Map<string, StoredTensor>();
    for (const [k, v] of this.net.params.snapshot()) tensors.set(`param/${k}`, v);
    const state: ModelFileState = { arch: this.arch, normalization: this.norm, physics: this.physics, seed: this.seed, info };
    await writeCheckpoint(path, tensors, MODEL_KIND, state);
  }

  /**
   * Load a model file, or the final weights of a training checkpoint. A missing, corrupt or
   * foreign file gives a CheckpointError.
   */
  static async load(path: string): Promise<{ emulator: PinnEmulator; info: Record<string, unknown> }> {
    const ck = await readCheckpoint(path);
    let state: ModelFileState;
    if (ck.kind === MODEL_KIND) state = ck.state as ModelFileState;
    else if (ck.kind === 'training' && ck.state?.config?.model === MODEL_KIND) {
      const c = ck.state.config;
      state = { arch: c.arch, normalization: ck.state.normalization, physics: c.physics, seed: c.seed, info: { fromCheckpoint: true } };
    } else throw new CheckpointError(path, `is a '${ck.kind}' file, not a ${MODEL_KIND} model`);
    const emu = new PinnEmulator(state.arch, state.normalization, state.physics, state.seed);
    const values = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, t] of ck.tensors) if (k.startsWith('param/')) values.set(k.slice(6), { shape: t.shape, data: t.data as Float32Array });
    try {
      emu.net.params.restore(values);
    } catch (err) {
      emu.dispose();
      throw new CheckpointError(path, `weights do not fit the stored architecture: ${(err as Error).message}`);
    }
    return { emulator: emu, info: state.info };
  }

  dispose(): void {
    this.clearTauCache();
    this.net.dispose();
  }
}
