// Batched inference of a PinnNetwork (normalized in, normalized out): the folded-GELU InferenceNet, passes of POINTS_PER_PASS depth points, the tau cache.
import { graphExecutionAvailable, tf, type CompiledGraph } from '@stellar-emu/nn-core';
import { InferenceNet, type PinnNetwork } from './model.js';

/**
 * Depth points per inference pass: 4,096 x 1,024 float32 activations are 16 MB, so a layer's
 * input and output stay in the last-level cache between the matMul and the GELU passes.
 */
export const POINTS_PER_PASS = 4096;

/** Prediction options. */
export interface PredictOptions {
  /** Rosseland tau grid (default: the model's default grid, uniform in log10 tau). */
  tauGrid?: number[];
  /** Models per forward pass (default 256; large batches are split into passes of <= POINTS_PER_PASS depth points). */
  batchSize?: number;
  /** Compute the tau half of the first layer once per tau grid (default true). */
  useTauCache?: boolean;
  /** Predict outside the training label range instead of throwing (default false). */
  allowExtrapolation?: boolean;
  /**
   * How the tau-cache path runs: `graph` (default where the tensorflow backend is selected) as one
   * TensorFlow session call per pass, with Grappler's fused MatMul + bias kernels; `eager` as
   * tfjs ops, one call per op. Both compute the same function (to float32 rounding).
   */
  engine?: InferenceEngine;
}

/** Inference engines of the tau-cache path. */
export type InferenceEngine = 'graph' | 'eager';

/** Concatenate output chunks, read them back once and dispose them. */
function readAndDispose(parts: tf.Tensor[], expected: number): Float32Array {
  if (parts.length === 0) return new Float32Array(0);
  const all = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
  const out = all.dataSync() as Float32Array;
  if (all !== parts[0]) all.dispose();
  for (const t of parts) t.dispose();
  if (out.length !== expected)
    throw new Error(`prediction returned ${out.length} values, expected ${expected}`);
  return out;
}

/**
 * The inference side of one PinnNetwork: the inference-only copy of the weights (built on first
 * use) and the tau cache, the tau half `tauEncoder(log tau) . Wtau + b` of the first layer of the
 * last tau grid, kept on the device. Both derive from the weights: `clear()` after they changed.
 */
export class BatchedInference {
  private tauCache: { key: string; tensor: tf.Tensor2D } | null = null;
  private infer: InferenceNet | null = null;
  private gridGraph: CompiledGraph | null = null;

  constructor(
    private readonly net: PinnNetwork,
    /** Normalized log tau column of a tau grid (the emulator's normalization). */
    private readonly normalizeLogTau: (tau: ArrayLike<number>) => Float32Array,
  ) {}

  /** The inference-only network (folded GELU, fused matMuls), built on first use. */
  private inference(): InferenceNet {
    return (this.infer ??= new InferenceNet(this.net));
  }

  private gridTauPart(tauGrid: number[]): tf.Tensor2D {
    const key = tauGrid.join(',');
    if (this.tauCache?.key === key) return this.tauCache.tensor;
    this.tauCache?.tensor.dispose();
    const t = tf.tidy(() =>
      this.inference().tauPart(tf.tensor2d(this.normalizeLogTau(tauGrid), [tauGrid.length, 1])),
    );
    this.tauCache = { key, tensor: t };
    return t;
  }

  /** Drop the tau cache and the inference copies of the weights (and their graph). */
  clear(): void {
    this.tauCache?.tensor.dispose();
    this.tauCache = null;
    this.infer?.dispose();
    this.infer = null;
    this.gridGraph?.dispose();
    this.gridGraph = null;
  }

  /**
   * The engine `onGrid` uses with these options: `graph` unless asked for `eager`, the tau cache
   * is off, the network has no folded-GELU form, or the backend has no TensorFlow sessions.
   */
  engine(opts: Pick<PredictOptions, 'engine' | 'useTauCache'> = {}): InferenceEngine {
    if (opts.engine === 'eager' || opts.useTauCache === false) return 'eager';
    return this.inference().fast && graphExecutionAvailable() ? 'graph' : 'eager';
  }

  /**
   * Normalized outputs [n * D * 6] of the normalized label rows `labelsN` [n * 4] on one tau grid
   * (model-major, then depth, then quantity), `batchSize` models per pass (capped at
   * POINTS_PER_PASS depth points); with `useTauCache` (default) the tau half of the first layer
   * comes from the cache.
   */
  onGrid(
    labelsN: Float32Array,
    tauGrid: number[],
    opts: Pick<PredictOptions, 'batchSize' | 'useTauCache' | 'engine'> = {},
  ): Float32Array {
    const nModels = labelsN.length / 4;
    const D = tauGrid.length;
    const bs = Math.max(1, Math.min(opts.batchSize ?? 256, Math.floor(POINTS_PER_PASS / D)));
    const useCache = opts.useTauCache ?? true;
    const inf = this.inference();
    const tauPart = useCache ? this.gridTauPart(tauGrid) : null;
    if (tauPart && this.engine(opts) === 'graph') {
      const graph = (this.gridGraph ??= inf.compileGridGraph());
      const parts: tf.Tensor[] = [];
      for (let s = 0; s < nModels; s += bs) {
        const n = Math.min(bs, nModels - s);
        const l = tf.tensor2d(labelsN.subarray(s * 4, (s + n) * 4), [n, 4]);
        parts.push(graph.run([l, tauPart])[0]);
        l.dispose();
      }
      return readAndDispose(parts, nModels * D * 6);
    }
    const tauN = useCache ? null : tf.tensor2d(this.normalizeLogTau(tauGrid), [D, 1]);
    const parts: tf.Tensor[] = [];
    for (let s = 0; s < nModels; s += bs) {
      const n = Math.min(bs, nModels - s);
      parts.push(
        tf.tidy(() => {
          const l = tf.tensor2d(labelsN.subarray(s * 4, (s + n) * 4), [n, 4]);
          let z1: tf.Tensor2D;
          if (tauPart) {
            const lp = inf.labelPart(l); // [n, H1]
            const h1 = lp.shape[1];
            z1 = tf.reshape(tf.add(tf.reshape(lp, [n, 1, h1]), tf.reshape(tauPart, [1, D, h1])), [n * D, h1]);
          } else {
            const lRep = tf.reshape(tf.tile(tf.reshape(l, [n, 1, 4]), [1, D, 1]), [n * D, 4]) as tf.Tensor2D;
            const tRep = tf.tile(tauN!, [n, 1]) as tf.Tensor2D;
            z1 = tf.add(inf.labelPart(lRep), inf.tauPart(tRep)) as tf.Tensor2D;
          }
          return inf.fromPreActivation(z1);
        }),
      );
    }
    tauN?.dispose();
    return readAndDispose(parts, nModels * D * 6);
  }

  /**
   * Normalized outputs [P * 6] of P independent points, normalized label rows `labelsN` [P * 4]
   * and log tau `logTauN` [P], in passes of POINTS_PER_PASS points (no tau cache).
   */
  pointwise(labelsN: Float32Array, logTauN: Float32Array): Float32Array {
    const P = logTauN.length;
    const inf = this.inference();
    const chunk = POINTS_PER_PASS;
    const parts: tf.Tensor[] = [];
    for (let s = 0; s < P; s += chunk) {
      const n = Math.min(chunk, P - s);
      parts.push(
        tf.tidy(() => {
          const z1 = tf.add(
            inf.labelPart(tf.tensor2d(labelsN.subarray(s * 4, (s + n) * 4), [n, 4])),
            inf.tauPart(tf.tensor2d(logTauN.subarray(s, s + n), [n, 1])),
          );
          return inf.fromPreActivation(z1 as tf.Tensor2D);
        }),
      );
    }
    return readAndDispose(parts, P * 6);
  }
}
