// The alpha = 0 training loss of the PINN and its gradients as one TensorFlow graph: the forward
// pass and the hand-written backward pass of the MLP (exact GELU and its closed-form derivative),
// so that a training step is one session call instead of ~400 eager tfjs ops.
import {
  GraphBuilder,
  tf,
  type Batch,
  type CompiledGraph,
  type Dense,
  type DenseStack,
  type GradientsResult,
  type GraphTensor,
} from '@stellar-emu/nn-core';
import type { PinnNetwork } from './model.js';

/** Whether `net` has the structure the graph is written for (GELU, no LayerNorm: the presets). */
export function mseGraphApplies(net: PinnNetwork): boolean {
  return net.arch.activation === 'gelu' && !net.arch.layerNorm;
}

/**
 * mean((y - target)^2) over a batch and its gradient for every parameter of `net`, by parameter
 * name: the same function as `PinnEmulator.loss` at alpha = 0 and its autodiff (to float32
 * rounding; tested). The parameters are inputs, so the graph stays valid as the weights train.
 */
export class MseGradients {
  private readonly graph: CompiledGraph;
  private readonly names: string[];

  constructor(private readonly net: PinnNetwork) {
    if (!mseGraphApplies(net)) throw new Error('MseGradients: only for GELU networks without LayerNorm');
    const g = new GraphBuilder();
    const labels = g.placeholder('labels', [-1, 4]);
    const logTau = g.placeholder('log_tau', [-1, 1]);
    const target = g.placeholder('target', [-1, 6]);
    const scale = g.placeholder('grad_scale', []); // 2 / (rows x 6): d mean / d y per (y - target)
    this.names = net.params.names();
    const input = new Map<tf.Variable, GraphTensor>();
    this.names.forEach((n, i) => input.set(net.params.get(n), g.placeholder(`param${i}`, null)));
    const nameOf = new Map(this.names.map((n) => [net.params.get(n), n]));
    const ref = (v: tf.Variable) => input.get(v)!;

    const half = g.scalar(0.5);
    const one = g.scalar(1);
    const invSqrt2 = g.scalar(Math.SQRT1_2);
    const invSqrt2Pi = g.scalar(1 / Math.sqrt(2 * Math.PI));
    const minusHalf = g.scalar(-0.5);
    /** GELU(z) = z/2 (1 + erf(z / sqrt 2)); t1 = 1 + erf(z / sqrt 2) is kept for the derivative. */
    const gelu = (z: GraphTensor) => {
      const t1 = g.add(g.erf(g.mul(z, invSqrt2)), one);
      return { a: g.mul(g.mul(z, half), t1), t1 };
    };
    /** GELU'(z) = Phi(z) + z phi(z) = t1 / 2 + z exp(-z^2 / 2) / sqrt(2 pi). */
    const geluGrad = (z: GraphTensor, t1: GraphTensor) =>
      g.add(g.mul(t1, half), g.mul(z, g.mul(g.exp(g.mul(g.square(z), minusHalf)), invSqrt2Pi)));

    interface Saved {
      x: GraphTensor;
      z: GraphTensor;
      t1: GraphTensor | null;
      layer: Dense;
    }
    const forward = (x0: GraphTensor, stack: DenseStack) => {
      const saved: Saved[] = [];
      let x = x0;
      for (const layer of stack.layers as Dense[]) {
        const z = g.biasAdd(g.matMul(x, ref(layer.W)), ref(layer.b));
        if (layer.activation === 'gelu') {
          const { a, t1 } = gelu(z);
          saved.push({ x, z, t1, layer });
          x = a;
        } else if (layer.activation === 'linear') {
          saved.push({ x, z, t1: null, layer });
          x = z;
        } else throw new Error(`MseGradients: activation '${layer.activation}' not written`);
      }
      return { out: x, saved };
    };
    const grads = new Map<string, GraphTensor>();
    const grad = (v: tf.Variable, t: GraphTensor) => grads.set(nameOf.get(v)!, t);
    /** Back through a stack from d(loss)/d(output); returns d(loss)/d(input) when asked. */
    const backward = (dOut: GraphTensor, saved: Saved[], inputGrad: boolean): GraphTensor | null => {
      let dA: GraphTensor | null = dOut;
      for (let i = saved.length - 1; i >= 0; i--) {
        const s = saved[i];
        const dz: GraphTensor = s.t1 ? g.mul(dA!, geluGrad(s.z, s.t1)) : dA!;
        grad(s.layer.W, g.matMul(s.x, dz, { transposeA: true }));
        grad(s.layer.b, g.sum(dz, [0]));
        dA = i > 0 || inputGrad ? g.matMul(dz, ref(s.layer.W), { transposeB: true }) : null;
      }
      return dA;
    };

    const label = forward(labels, net.labelEncoder);
    const tau = forward(logTau, net.tauEncoder);
    const z1 = g.biasAdd(
      g.add(g.matMul(label.out, ref(net.W1Label)), g.matMul(tau.out, ref(net.W1Tau))),
      ref(net.b1),
    );
    const first = gelu(z1);
    const head = forward(first.a, net.head);
    const diff = g.sub(head.out, target);
    const mse = g.mean(g.square(diff), [0, 1]);

    const dA1 = backward(g.mul(diff, scale), head.saved, true)!;
    const dz1 = g.mul(dA1, geluGrad(z1, first.t1));
    grad(net.W1Label, g.matMul(label.out, dz1, { transposeA: true }));
    grad(net.W1Tau, g.matMul(tau.out, dz1, { transposeA: true }));
    grad(net.b1, g.sum(dz1, [0]));
    if (label.saved.length)
      backward(g.matMul(dz1, ref(net.W1Label), { transposeB: true }), label.saved, false);
    if (tau.saved.length) backward(g.matMul(dz1, ref(net.W1Tau), { transposeB: true }), tau.saved, false);

    const outputs: Record<string, GraphTensor> = { mse };
    this.names.forEach((n, i) => {
      const t = grads.get(n);
      if (!t) throw new Error(`MseGradients: no gradient written for parameter '${n}'`);
      outputs[`grad${i}`] = t;
    });
    this.graph = g.compile(outputs);
  }

  /** Loss parts `{ total, mse }` and gradients of the batch (`labels`, `logTau`, `y`); the caller owns them. */
  run(batch: Batch): GradientsResult {
    const rows = batch.labels.shape[0];
    const scale = tf.scalar(2 / (rows * 6));
    const params = this.names.map((n) => this.net.params.get(n));
    const [mse, ...g] = this.graph.run([batch.labels, batch.logTau, batch.y, scale, ...params]);
    scale.dispose();
    const grads: Record<string, tf.Tensor> = {};
    this.names.forEach((n, i) => (grads[n] = g[i]));
    // one tensor under both names, as the eager loss returns it (the loop disposes each name)
    return { parts: { total: mse as tf.Scalar, mse: mse as tf.Scalar }, grads };
  }

  dispose(): void {
    this.graph.dispose();
  }
}
