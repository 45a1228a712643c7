// The Kurucz-a1 network: label and tau encoders, split first MLP layer, tangents in log tau.
import { activateWithDerivative, DenseStack, ParamStore, Rng, tf } from '@stellar-emu/nn-core';
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
    this.labelEncoder = new DenseStack(this.params, 'labelEncoder', 4, { widths: arch.labelEncoder, activation: act }, rng);
    this.tauEncoder = new DenseStack(this.params, 'tauEncoder', 1, { widths: arch.tauEncoder, activation: act }, rng);
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
      { widths: [...arch.mlp.slice(1), 6], activation: act, lastActivation: 'linear', layerNorm: arch.layerNorm },
      rng,
    );
  }

  /** Label half of the first MLP layer: [B, 4] -> [B, H1] (no bias). */
  labelPart(labelsN: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(this.labelEncoder.apply(labelsN), this.W1Label as tf.Tensor2D);
  }

  /** Tau half of the first MLP layer plus its bias: [D, 1] -> [D, H1]. */
  tauPart(logTauN: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(this.tauEncoder.apply(logTauN), this.W1Tau as tf.Tensor2D), this.b1) as tf.Tensor2D;
  }

  /** The rest of the network from the first layer's pre-activation. */
  fromPreActivation(z1: tf.Tensor2D): tf.Tensor2D {
    const [a1] = activateWithDerivative(z1, this.arch.activation);
    return this.head.apply(a1 as tf.Tensor2D);
  }

  /** Normalized outputs [B, 6] at points (labelsN [B, 4], logTauN [B, 1]). */
  forward(labelsN: tf.Tensor2D, logTauN: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.fromPreActivation(tf.add(this.labelPart(labelsN), this.tauPart(logTauN)) as tf.Tensor2D));
  }

  /**
   * Outputs and their derivative with respect to the normalized log tau input, by forward-mode
   * tangent propagation with closed-form activation derivatives: only first-order autodiff is
   * needed to differentiate a loss containing the derivative. Not wrapped in tidy (call inside one).
   */
  forwardWithTauTangent(labelsN: tf.Tensor2D, logTauN: tf.Tensor2D): { y: tf.Tensor2D; dyDlogTauN: tf.Tensor2D } {
    const hL = this.labelEncoder.apply(labelsN);
    const [hT, dhT] = this.tauEncoder.applyWithTangent(logTauN, tf.onesLike(logTauN) as tf.Tensor2D);
    const z1 = tf.add(tf.add(tf.matMul(hL, this.W1Label as tf.Tensor2D), tf.matMul(hT, this.W1Tau as tf.Tensor2D)), this.b1) as tf.Tensor2D;
    const dz1 = tf.matMul(dhT, this.W1Tau as tf.Tensor2D);
    const [a1, g1] = activateWithDerivative(z1, this.arch.activation);
    const [y, dy] = this.head.applyWithTangent(a1 as tf.Tensor2D, tf.mul(g1, dz1) as tf.Tensor2D);
    return { y, dyDlogTauN: dy };
  }

  /**
   * Outputs and their derivative along a direction `dLabelsN` [B, 4] in normalized label space
   * (forward mode; not wrapped in tidy).
   */
  forwardWithLabelTangent(labelsN: tf.Tensor2D, logTauN: tf.Tensor2D, dLabelsN: tf.Tensor2D): { y: tf.Tensor2D; dy: tf.Tensor2D } {
    const [hL, dhL] = this.labelEncoder.applyWithTangent(labelsN, dLabelsN);
    const hT = this.tauEncoder.apply(logTauN);
    const z1 = tf.add(tf.add(tf.matMul(hL, this.W1Label as tf.Tensor2D), tf.matMul(hT, this.W1Tau as tf.Tensor2D)), this.b1) as tf.Tensor2D;
    const dz1 = tf.matMul(dhL, this.W1Label as tf.Tensor2D);
    const [a1, g1] = activateWithDerivative(z1, this.arch.activation);
    const [y, dy] = this.head.applyWithTangent(a1 as tf.Tensor2D, tf.mul(g1, dz1) as tf.Tensor2D);
    return { y, dy };
  }

  dispose(): void {
    this.params.dispose();
  }
}
