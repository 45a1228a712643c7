// The Kurucz-a1 network: label and tau encoders, split first MLP layer, tangents in log tau.
import {
  activate,
  activateWithDerivative,
  DenseStack,
  GraphBuilder,
  ParamStore,
  tf,
  type CompiledGraph,
  type Dense,
  type GraphTensor,
} from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import type { PinnArchitecture } from './config.js';

/**
 * Network of the paper: labels (4, normalized) -> label encoder; normalized log tau (1) ->
 * tau encoder; concatenation -> MLP -> 6 normalized outputs (linear last layer).
 * The first MLP layer is stored as two blocks, W = [W_label; W_tau], so that
 * z1 = h_label W_label + h_tau W_tau + b equals the layer on the concatenation, and the tau
 * half can be computed once per tau grid at inference.
 */
export class PinnNetwork {
  readonly params = new ParamStore();
  readonly labelEncoder: DenseStack;
  readonly tauEncoder: DenseStack;
  readonly W1Label: tf.Variable;
  readonly W1Tau: tf.Variable;
  readonly b1: tf.Variable;
  readonly head: DenseStack;

  constructor(
    readonly arch: PinnArchitecture,
    seed: number,
  ) {
    const rng = new Rng(seed);
    const act = arch.activation;
    this.labelEncoder = new DenseStack(
      this.params,
      'labelEncoder',
      4,
      { widths: arch.labelEncoder, activation: act },
      rng,
    );
    this.tauEncoder = new DenseStack(
      this.params,
      'tauEncoder',
      1,
      { widths: arch.tauEncoder, activation: act },
      rng,
    );
    const nL = this.labelEncoder.nOut;
    const nT = this.tauEncoder.nOut;
    const h1 = arch.mlp[0];
    const std = Math.sqrt(2 / (nL + nT));
    const init = (n: number) => new Float32Array(n).map(() => rng.normal() * std);
    this.W1Label = this.params.add('mlp.0.Wlabel', init(nL * h1), [nL, h1]);
    this.W1Tau = this.params.add('mlp.0.Wtau', init(nT * h1), [nT, h1]);
    this.b1 = this.params.add('mlp.0.b', new Float32Array(h1), [h1]);
    this.head = new DenseStack(
      this.params,
      'head',
      h1,
      {
        widths: [...arch.mlp.slice(1), 6],
        activation: act,
        lastActivation: 'linear',
        layerNorm: arch.layerNorm,
      },
      rng,
    );
  }

  /** Label half of the first MLP layer: [B, 4] -> [B, H1] (no bias). */
  labelPart(labelsN: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(this.labelEncoder.apply(labelsN), this.W1Label as tf.Tensor2D);
  }

  /** Tau half of the first MLP layer plus its bias: [D, 1] -> [D, H1]. */
  tauPart(logTauN: tf.Tensor2D): tf.Tensor2D {
    return tf.add(
      tf.matMul(this.tauEncoder.apply(logTauN), this.W1Tau as tf.Tensor2D),
      this.b1,
    ) as tf.Tensor2D;
  }

  /** The rest of the network from the first layer's pre-activation. */
  fromPreActivation(z1: tf.Tensor2D): tf.Tensor2D {
    return this.head.apply(activate(z1, this.arch.activation) as tf.Tensor2D);
  }

  /** Normalized outputs [B, 6] at points (labelsN [B, 4], logTauN [B, 1]). */
  forward(labelsN: tf.Tensor2D, logTauN: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() =>
      this.fromPreActivation(tf.add(this.labelPart(labelsN), this.tauPart(logTauN)) as tf.Tensor2D),
    );
  }

  /**
   * Outputs and their derivative with respect to the normalized log tau input, by forward-mode
   * tangent propagation with closed-form activation derivatives: only first-order autodiff is
   * needed to differentiate a loss containing the derivative. Not wrapped in tidy (call inside one).
   */
  forwardWithTauTangent(
    labelsN: tf.Tensor2D,
    logTauN: tf.Tensor2D,
  ): { y: tf.Tensor2D; dyDlogTauN: tf.Tensor2D } {
    const { y, dy } = this.forwardWithTangent(labelsN, logTauN, null, tf.onesLike(logTauN) as tf.Tensor2D);
    return { y, dyDlogTauN: dy };
  }

  /**
   * Outputs and their derivative along a direction `dLabelsN` [B, 4] in normalized label space
   * (forward mode; not wrapped in tidy).
   */
  forwardWithLabelTangent(
    labelsN: tf.Tensor2D,
    logTauN: tf.Tensor2D,
    dLabelsN: tf.Tensor2D,
  ): { y: tf.Tensor2D; dy: tf.Tensor2D } {
    return this.forwardWithTangent(labelsN, logTauN, dLabelsN, null);
  }

  /** Outputs and their derivative along (dLabelsN, dLogTauN), a null one meaning no change in that input. */
  private forwardWithTangent(
    labelsN: tf.Tensor2D,
    logTauN: tf.Tensor2D,
    dLabelsN: tf.Tensor2D | null,
    dLogTauN: tf.Tensor2D | null,
  ): { y: tf.Tensor2D; dy: tf.Tensor2D } {
    const [hL, dhL] = dLabelsN
      ? this.labelEncoder.applyWithTangent(labelsN, dLabelsN)
      : [this.labelEncoder.apply(labelsN), null];
    const [hT, dhT] = dLogTauN
      ? this.tauEncoder.applyWithTangent(logTauN, dLogTauN)
      : [this.tauEncoder.apply(logTauN), null];
    const z1 = tf.add(
      tf.add(tf.matMul(hL, this.W1Label as tf.Tensor2D), tf.matMul(hT, this.W1Tau as tf.Tensor2D)),
      this.b1,
    ) as tf.Tensor2D;
    const parts = [
      ...(dhL ? [tf.matMul(dhL, this.W1Label as tf.Tensor2D)] : []),
      ...(dhT ? [tf.matMul(dhT, this.W1Tau as tf.Tensor2D)] : []),
    ];
    if (parts.length === 0) throw new Error('forwardWithTangent: no direction given');
    const dz1 = parts.length === 1 ? parts[0] : (tf.add(parts[0], parts[1]) as tf.Tensor2D);
    const [a1, g1] = activateWithDerivative(z1, this.arch.activation);
    const [y, dy] = this.head.applyWithTangent(a1 as tf.Tensor2D, tf.mul(g1, dz1) as tf.Tensor2D);
    return { y, dy };
  }

  dispose(): void {
    this.params.dispose();
  }
}

const SQRT1_2 = Math.SQRT1_2;

/** One dense layer of the inference path: weights and bias with the GELU scale factors folded in. */
interface InferLayer {
  W: tf.Tensor2D;
  b: tf.Tensor1D | null;
  gelu: boolean;
}

/**
 * Inference-only forward pass of a PinnNetwork: no tangents, one fused matMul + bias per layer
 * over all [points, width] rows, and erf-GELU in three elementwise ops. With u = z / sqrt 2,
 * GELU(z) = (1 / sqrt 2) u (1 + erf u); the 1/sqrt 2 of u is folded into each GELU layer's
 * weights and bias and the 1/sqrt 2 of the output into the next layer's weights, so a hidden layer
 * computes g = u (1 + erf u) with u = fusedMatMul(g_prev, W', b'). Only for GELU networks without
 * LayerNorm (the presets); other networks use their plain `apply` path. The copies are made once
 * and must be rebuilt (dispose + new) after the weights change.
 */
export class InferenceNet {
  private readonly label: InferLayer[] = [];
  private readonly tau: InferLayer[] = [];
  private readonly head: InferLayer[] = [];
  private readonly W1Label: tf.Tensor2D;
  private readonly W1Tau: tf.Tensor2D;
  private readonly b1: tf.Tensor1D;
  /** true when the folded GELU path is used. */
  readonly fast: boolean;

  constructor(readonly net: PinnNetwork) {
    this.fast = net.arch.activation === 'gelu' && !net.arch.layerNorm;
    const s = this.fast ? SQRT1_2 : 1;
    const chain = (stack: DenseStack, out: InferLayer[], rawInput: boolean) => {
      let inputIsG = !rawInput;
      for (const l of stack.layers) {
        const d = l as Dense;
        const gelu = this.fast && d.activation === 'gelu';
        const wScale = !this.fast ? 1 : gelu ? (inputIsG ? 0.5 : SQRT1_2) : inputIsG ? SQRT1_2 : 1;
        const bScale = gelu ? SQRT1_2 : 1;
        out.push({ W: tf.mul(d.W, wScale) as tf.Tensor2D, b: tf.mul(d.b, bScale) as tf.Tensor1D, gelu });
        inputIsG = gelu;
      }
    };
    if (this.fast) {
      chain(net.labelEncoder, this.label, true);
      chain(net.tauEncoder, this.tau, true);
      // Encoder outputs are g = sqrt 2 GELU; the first MLP layer is GELU too: weights x 1/2, bias x 1/sqrt 2.
      const wl = this.label.length ? 0.5 : SQRT1_2;
      const wt = this.tau.length ? 0.5 : SQRT1_2;
      this.W1Label = tf.mul(net.W1Label, wl) as tf.Tensor2D;
      this.W1Tau = tf.mul(net.W1Tau, wt) as tf.Tensor2D;
      this.b1 = tf.mul(net.b1, s) as tf.Tensor1D;
      chain(net.head, this.head, false);
    } else {
      this.W1Label = tf.clone(net.W1Label) as tf.Tensor2D;
      this.W1Tau = tf.clone(net.W1Tau) as tf.Tensor2D;
      this.b1 = tf.clone(net.b1) as tf.Tensor1D;
    }
  }

  private static dense(x: tf.Tensor2D, l: InferLayer): tf.Tensor2D {
    return tf.tidy((): tf.Tensor2D => {
      const u = tf.fused.matMul({ a: x, b: l.W, bias: l.b ?? undefined }) as tf.Tensor2D;
      return l.gelu ? (tf.mul(u, tf.add(tf.erf(u), 1)) as tf.Tensor2D) : u;
    });
  }

  private run(x: tf.Tensor2D, layers: InferLayer[]): tf.Tensor2D {
    let h = x;
    for (const l of layers) {
      const next = InferenceNet.dense(h, l);
      if (h !== x) h.dispose();
      h = next;
    }
    return h;
  }

  /** Label half of the first layer (scaled pre-activation, no bias): [B, 4] -> [B, H1]. */
  labelPart(labelsN: tf.Tensor2D): tf.Tensor2D {
    if (!this.fast) return this.net.labelPart(labelsN);
    return tf.tidy(() => tf.matMul(this.run(labelsN, this.label), this.W1Label));
  }

  /** Tau half of the first layer plus bias (scaled pre-activation): [D, 1] -> [D, H1]. */
  tauPart(logTauN: tf.Tensor2D): tf.Tensor2D {
    if (!this.fast) return this.net.tauPart(logTauN);
    return tf.tidy(
      () => tf.fused.matMul({ a: this.run(logTauN, this.tau), b: this.W1Tau, bias: this.b1 }) as tf.Tensor2D,
    );
  }

  /** Outputs [P, 6] from the first layer's (scaled) pre-activation [P, H1]. */
  fromPreActivation(z1: tf.Tensor2D): tf.Tensor2D {
    if (!this.fast) return this.net.head.apply(activate(z1, this.net.arch.activation) as tf.Tensor2D);
    const g1 = tf.tidy(() => tf.mul(z1, tf.add(tf.erf(z1), 1)) as tf.Tensor2D);
    const y = this.run(g1, this.head);
    g1.dispose();
    return y;
  }

  /**
   * The tau-cache path (`labelPart`, broadcast over the cached `tauPart`, `fromPreActivation`) as
   * one TensorFlow graph with the same folded weights: inputs `labels` [n, 4] and `tau_part`
   * [D, H1], output `y` [n * D, 6]. Folded-GELU networks only; needs graph execution (nn-core).
   */
  compileGridGraph(): CompiledGraph {
    if (!this.fast) throw new Error('compileGridGraph: only for GELU networks without LayerNorm');
    const g = new GraphBuilder();
    const one = g.scalar(1);
    const gelu = (u: GraphTensor) => g.mul(u, g.add(g.erf(u), one));
    const dense = (x: GraphTensor, l: InferLayer) => {
      const mm = g.matMul(x, g.constantOf(l.W));
      const u = l.b ? g.biasAdd(mm, g.constantOf(l.b)) : mm;
      return l.gelu ? gelu(u) : u;
    };
    const h1 = this.W1Label.shape[1];
    let h = g.placeholder('labels', [-1, 4]);
    const tauPart = g.placeholder('tau_part', [-1, h1]);
    for (const l of this.label) h = dense(h, l);
    const labelPart = g.reshape(g.matMul(h, g.constantOf(this.W1Label)), [-1, 1, h1]);
    let y = gelu(g.reshape(g.add(labelPart, g.reshape(tauPart, [1, -1, h1])), [-1, h1]));
    for (const l of this.head) y = dense(y, l);
    return g.compile({ y });
  }

  dispose(): void {
    for (const l of [...this.label, ...this.tau, ...this.head]) {
      l.W.dispose();
      l.b?.dispose();
    }
    this.W1Label.dispose();
    this.W1Tau.dispose();
    this.b1.dispose();
  }
}
