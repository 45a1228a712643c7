// The emulator: a PinnNetwork with its normalization and physics options — the training loss,
// predictions and derivatives in physical units. Batched inference and the tau cache are in
// inference.ts, the model file in model-file.ts, predictions as grid-io records in predicted-records.ts.
import {
  CheckpointError,
  graphExecutionAvailable,
  tf,
  type Batch,
  type GradientsResult,
  type LossResult,
} from '@stellar-emu/nn-core';
import {
  ATMOSPHERE_QUANTITIES,
  standardize,
  unstandardize,
  type AtmosphereQuantity,
} from '@stellar-emu/grid-io';
import { Q_PRESSURE, type PhysicsOptions, type PinnArchitecture } from './config.js';
import { BatchedInference, type InferenceEngine, type PredictOptions } from './inference.js';
import { PinnNetwork } from './model.js';
import { readModelFile, writeModelFile } from './model-file.js';
import { checkLabelRange, labelFeatures, type Normalization } from './normalization.js';
import { hydrostaticResidualTensor } from './physics.js';
import { LossGradients, lossGraphApplies } from './train-graph.js';
import type { PredictedAtmosphere, StellarLabels } from './atmosphere.js';

const LN10 = Math.LN10;

/** Empty depth arrays of every quantity, in ATMOSPHERE_QUANTITIES order. */
function emptyQuantities(): Record<AtmosphereQuantity, number[]> {
  return Object.fromEntries(ATMOSPHERE_QUANTITIES.map((q) => [q, [] as number[]])) as Record<
    AtmosphereQuantity,
    number[]
  >;
}

/** Kurucz-a1 emulator: a PinnNetwork with its normalization and physics options. */
export class PinnEmulator {
  readonly net: PinnNetwork;
  /** Batched inference: the inference copy of the weights and the tau cache. */
  private readonly batched: BatchedInference;
  private lossGraph: LossGradients | null = null;

  constructor(
    readonly arch: PinnArchitecture,
    readonly norm: Normalization,
    readonly physics: PhysicsOptions,
    readonly seed: number,
  ) {
    this.net = new PinnNetwork(arch, seed);
    this.batched = new BatchedInference(this.net, (tau) => this.normalizeLogTau(tau));
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
    const r = hydrostaticResidualTensor(this.norm, labels, logTau, y, dyDlogTauN, includeAccrad);
    const physics = tf.div(
      tf.sum(tf.mul(tf.square(r), batch.pmask)),
      tf.maximum(tf.sum(batch.pmask), 1),
    ) as tf.Scalar;
    const total = tf.add(tf.mul(mse, 1 - alpha), tf.mul(physics, alpha)) as tf.Scalar;
    return { total, parts: { mse, physics } };
  }

  /**
   * The training loss and its gradients as one TensorFlow graph call per batch (nn-core
   * `TrainOptions.gradients`; pinn train-graph.ts), where that applies: a GELU network without
   * LayerNorm and a backend with graph execution; otherwise null (train by autodiff of `loss`).
   */
  graphGradients(): ((batch: Batch) => GradientsResult) | null {
    if (!lossGraphApplies(this.net) || !graphExecutionAvailable()) return null;
    const graph = (this.lossGraph ??= new LossGradients(this.net, this.norm, this.physics));
    return (batch) => graph.run(batch);
  }

  /** Normalized label rows [n, 4]. */
  normalizeLabels(labels: StellarLabels[]): Float32Array {
    const out = new Float32Array(labels.length * 4);
    labels.forEach((l, j) =>
      labelFeatures(l).forEach(
        (v, i) => (out[j * 4 + i] = standardize(v, this.norm.labelMean[i], this.norm.labelStd[i])),
      ),
    );
    return out;
  }

  /** Normalized log tau column [n, 1]. */
  normalizeLogTau(tau: ArrayLike<number>): Float32Array {
    return Float32Array.from(tau, (t) =>
      standardize(Math.log10(t), this.norm.logTauMean, this.norm.logTauStd),
    );
  }

  /**
   * Drop every tensor derived from the weights (the tau cache and the inference copies); call
   * after the weights changed (training, restore).
   */
  clearTauCache(): void {
    this.batched.clear();
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
      const out: PredictedAtmosphere = { ...l, nLayers: D, tauRosseland: [...tauGrid], ...emptyQuantities() };
      ATMOSPHERE_QUANTITIES.forEach((q, k) => {
        const arr = new Array<number>(D);
        for (let d = 0; d < D; d++)
          arr[d] = 10 ** unstandardize(raw[(j * D + d) * 6 + k], this.norm.outMean[k], this.norm.outStd[k]);
        out[q] = arr;
      });
      return out;
    });
  }

  /**
   * Normalized outputs [n * D * 6] (model-major, then depth, then quantity). Inference only: no
   * tangents; per pass one fused matMul per layer over all [models x depths] rows. With the tau
   * cache the tau encoder and its share of the first layer are computed once per tau grid and
   * kept on the device; without it every depth point runs the whole network.
   */
  predictNormalized(labels: StellarLabels[], tauGrid: number[], opts: PredictOptions = {}): Float32Array {
    return this.batched.onGrid(this.normalizeLabels(labels), tauGrid, opts);
  }

  /** The engine (`graph` or `eager`) that predictions on a tau grid use with these options. */
  inferenceEngine(opts: Pick<PredictOptions, 'engine' | 'useTauCache'> = {}): InferenceEngine {
    return this.batched.engine(opts);
  }

  /**
   * Predict on each model's own tau grid (e.g. a dataset's layers): physical outputs per model.
   * All depth points of all models go through the network in passes of POINTS_PER_PASS points.
   */
  predictOnTauGrids(
    items: { labels: StellarLabels; tau: ArrayLike<number> }[],
    opts: { allowExtrapolation?: boolean } = {},
  ): PredictedAtmosphere[] {
    if (!opts.allowExtrapolation)
      for (const it of items) checkLabelRange(this.norm, [it.labels], Array.from(it.tau, Math.log10));
    let P = 0;
    for (const it of items) P += it.tau.length;
    const lab = new Float32Array(P * 4);
    const tau = new Float32Array(P);
    let p = 0;
    for (const it of items) {
      const f = this.normalizeLabels([it.labels]);
      const t = this.normalizeLogTau(it.tau);
      for (let d = 0; d < t.length; d++, p++) {
        lab.set(f, p * 4);
        tau[p] = t[d];
      }
    }
    const raw = this.batched.pointwise(lab, tau);
    p = 0;
    return items.map((it) => {
      const D = it.tau.length;
      const out: PredictedAtmosphere = {
        ...it.labels,
        nLayers: D,
        tauRosseland: Array.from(it.tau),
        ...emptyQuantities(),
      };
      ATMOSPHERE_QUANTITIES.forEach((q, k) => {
        const arr = new Array<number>(D);
        for (let d = 0; d < D; d++)
          arr[d] = 10 ** unstandardize(raw[(p + d) * 6 + k], this.norm.outMean[k], this.norm.outStd[k]);
        out[q] = arr;
      });
      p += D;
      return out;
    });
  }

  /**
   * d ln P / d ln tau of the network itself (forward-mode tangent, as in the physics loss) on a
   * tau grid, for one label set; also returns P (dyn cm^-2). dP/dtau = (d ln P / d ln tau) P / tau.
   */
  pressureLogSlope(
    labels: StellarLabels,
    tauGrid: ArrayLike<number>,
  ): { pressure: Float64Array; dlnPdlnTau: Float64Array } {
    const D = tauGrid.length;
    const y = tf.tidy(() => {
      const l = tf.tile(tf.tensor2d(this.normalizeLabels([labels]), [1, 4]), [D, 1]) as tf.Tensor2D;
      const t = tf.tensor2d(this.normalizeLogTau(tauGrid), [D, 1]);
      const { y, dyDlogTauN } = this.net.forwardWithTauTangent(l, t);
      return tf.concat(
        [tf.slice(y, [0, Q_PRESSURE], [-1, 1]), tf.slice(dyDlogTauN, [0, Q_PRESSURE], [-1, 1])],
        1,
      );
    });
    const v = y.dataSync();
    y.dispose();
    const pressure = new Float64Array(D);
    const slope = new Float64Array(D);
    const k = Q_PRESSURE;
    for (let d = 0; d < D; d++) {
      pressure[d] = 10 ** unstandardize(v[d * 2], this.norm.outMean[k], this.norm.outStd[k]);
      slope[d] = (v[d * 2 + 1] * this.norm.outStd[k]) / this.norm.logTauStd;
    }
    return { pressure, dlnPdlnTau: slope };
  }

  /**
   * Jacobian of the physical outputs with respect to the physical labels on a tau grid:
   * entry [((j * D + d) * 6 + k) * 4 + i] = d Q_k(tau_d) / d label_i for model j, with labels
   * (teffK in K, logg, feh, afe in dex) and Q in cgs. Forward mode, one pass per label.
   */
  labelGradients(
    labels: StellarLabels[],
    opts: { tauGrid?: number[]; allowExtrapolation?: boolean } = {},
  ): { values: PredictedAtmosphere[]; jacobian: Float64Array } {
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
        const l = tf.reshape(tf.tile(tf.expandDims(tf.tensor2d(labelsN, [n, 4]), 1), [1, D, 1]), [
          n * D,
          4,
        ]) as tf.Tensor2D;
        const t = tf.tile(tf.tensor2d(tauN, [D, 1]), [n, 1]) as tf.Tensor2D;
        const dir = new Float32Array(n * D * 4);
        for (let p = 0; p < n * D; p++) dir[p * 4 + i] = 1;
        return this.net.forwardWithLabelTangent(l, t, tf.tensor2d(dir, [n * D, 4])).dy;
      });
      const d = dy.dataSync();
      dy.dispose();
      for (let j = 0; j < n; j++) {
        // d(normalized label i)/d(physical label i)
        const dlN =
          i === 0 ? 1 / (LN10 * labels[j].teffK * this.norm.labelStd[0]) : 1 / this.norm.labelStd[i];
        for (let dd = 0; dd < D; dd++) {
          ATMOSPHERE_QUANTITIES.forEach((q, k) => {
            const Q = values[j][q][dd];
            jac[((j * D + dd) * 6 + k) * 4 + i] =
              Q * LN10 * this.norm.outStd[k] * d[(j * D + dd) * 6 + k] * dlN;
          });
        }
      }
    }
    return { values, jacobian: jac };
  }

  /** Save weights, architecture, normalization and provenance atomically to one file. */
  async save(path: string, info: Record<string, unknown> = {}): Promise<void> {
    await writeModelFile(path, this.net.params.toStoredTensors(), {
      arch: this.arch,
      normalization: this.norm,
      physics: this.physics,
      seed: this.seed,
      info,
    });
  }

  /**
   * Load a model file, or the final weights of a training checkpoint. A missing, corrupt or
   * foreign file gives a CheckpointError.
   */
  static async load(path: string): Promise<{ emulator: PinnEmulator; info: Record<string, unknown> }> {
    const { state, params } = await readModelFile(path);
    const emu = new PinnEmulator(state.arch, state.normalization, state.physics, state.seed);
    try {
      emu.net.params.restore(params);
    } catch (err) {
      emu.dispose();
      throw new CheckpointError(
        path,
        `weights do not fit the stored architecture: ${(err as Error).message}`,
      );
    }
    return { emulator: emu, info: state.info };
  }

  dispose(): void {
    this.clearTauCache();
    this.lossGraph?.dispose();
    this.lossGraph = null;
    this.net.dispose();
  }
}
