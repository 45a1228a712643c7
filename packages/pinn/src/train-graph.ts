// The PINN's training loss and its gradients as one TensorFlow graph: the forward pass with the
// forward-mode tangent in log tau (when the physics term is on), the hydrostatic residual, and the
// hand-written backward pass through all of it (exact GELU with its closed-form first and second
// derivatives), so that a training step is one session call instead of 400-900 eager tfjs ops.
// It is the same function as `PinnEmulator.loss` (physics.ts) and its autodiff, to float32 rounding.
import { HYDROSTATIC_GEFF_FLOOR } from '@stellar-emu/grid-io';
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
import { Q_ABROSS, Q_ACCRAD, Q_PRESSURE, type PhysicsOptions } from './config.js';
import type { PinnNetwork } from './model.js';
import type { Normalization } from './normalization.js';

const LN10 = Math.LN10;

/** Whether `net` has the structure the graph is written for (GELU, no LayerNorm: the presets). */
export function lossGraphApplies(net: PinnNetwork): boolean {
  return net.arch.activation === 'gelu' && !net.arch.layerNorm;
}

/** What the forward pass keeps of one dense layer for the backward pass. */
interface Saved {
  layer: Dense;
  x: GraphTensor;
  /** Input tangent (null without the physics term, or in the label encoder). */
  dx: GraphTensor | null;
  z: GraphTensor;
  dz: GraphTensor | null;
  /** GELU layers: GELU'(z), and the pieces of GELU''(z) = phi(z) (2 - z^2). */
  gelu: { d1: GraphTensor; phi: GraphTensor; z2: GraphTensor } | null;
}

/**
 * (1 - alpha) MSE + alpha mean(pmask r^2) / max(sum pmask, 1) of a batch and its gradient for
 * every parameter of `net`, by parameter name. The parameters are graph inputs, so the graph
 * stays valid as the weights train.
 */
export class LossGradients {
  private readonly graph: CompiledGraph;
  private readonly names: string[];
  private readonly physicsOn: boolean;

  constructor(
    private readonly net: PinnNetwork,
    norm: Normalization,
    private readonly physics: PhysicsOptions,
  ) {
    if (!lossGraphApplies(net)) throw new Error('LossGradients: only for GELU networks without LayerNorm');
    const alpha = physics.alpha;
    this.physicsOn = alpha > 0;
    const g = new GraphBuilder();
    const labels = g.placeholder('labels', [-1, 4]);
    const logTau = g.placeholder('log_tau', [-1, 1]);
    const target = g.placeholder('target', [-1, 6]);
    const pmask = this.physicsOn ? g.placeholder('pmask', [-1, 1]) : null;
    const mseScale = g.placeholder('mse_scale', []); // 2 (1 - alpha) / (rows x 6)
    this.names = net.params.names();
    const input = new Map<tf.Variable, GraphTensor>();
    this.names.forEach((n, i) => input.set(net.params.get(n), g.placeholder(`param${i}`, null)));
    const ref = (v: tf.Variable) => input.get(v)!;
    const c = (v: number) => g.scalar(v);
    const one = c(1);

    /** GELU(z) = z/2 (1 + erf(z / sqrt 2)), and its derivatives from the same pieces. */
    const gelu = (z: GraphTensor) => {
      const t1 = g.add(g.erf(g.mul(z, c(Math.SQRT1_2))), one);
      const z2 = g.square(z);
      const phi = g.mul(g.exp(g.mul(z2, c(-0.5))), c(1 / Math.sqrt(2 * Math.PI)));
      return { a: g.mul(g.mul(z, c(0.5)), t1), d1: g.add(g.mul(t1, c(0.5)), g.mul(z, phi)), phi, z2 };
    };
    /** GELU''(z) = phi(z) (2 - z^2). */
    const gelu2 = (s: NonNullable<Saved['gelu']>) => g.mul(s.phi, g.sub(c(2), s.z2));

    /** One dense layer forward, value and (when dx is given) tangent. */
    const dense = (layer: Dense, W: GraphTensor, b: GraphTensor, x: GraphTensor, dx: GraphTensor | null) => {
      const z = g.biasAdd(g.matMul(x, W), b);
      const dz = dx ? g.matMul(dx, W) : null;
      if (layer.activation === 'linear') return { a: z, da: dz, saved: { layer, x, dx, z, dz, gelu: null } };
      if (layer.activation !== 'gelu') throw new Error(`LossGradients: activation '${layer.activation}'`);
      const { a, d1, phi, z2 } = gelu(z);
      return { a, da: dz ? g.mul(d1, dz) : null, saved: { layer, x, dx, z, dz, gelu: { d1, phi, z2 } } };
    };
    const forward = (x0: GraphTensor, dx0: GraphTensor | null, stack: DenseStack) => {
      const saved: Saved[] = [];
      let x = x0;
      let dx = dx0;
      for (const layer of stack.layers as Dense[]) {
        const r = dense(layer, ref(layer.W), ref(layer.b), x, dx);
        saved.push(r.saved);
        x = r.a;
        dx = r.da;
      }
      return { out: x, dOut: dx, saved };
    };

    const grads = new Map<tf.Variable, GraphTensor>();
    /**
     * Back through one layer from d(loss)/d(a) and d(loss)/d(da); adds its weight gradients and
     * returns d(loss)/d(z), d(loss)/d(dz).
     */
    const backLayer = (s: Omit<Saved, 'layer'>, ga: GraphTensor, gda: GraphTensor | null) => {
      let gz = ga;
      let gdz = gda;
      if (s.gelu) {
        gz = g.mul(ga, s.gelu.d1);
        if (gda && s.dz) {
          gz = g.add(gz, g.mul(g.mul(gda, s.dz), gelu2(s.gelu)));
          gdz = g.mul(gda, s.gelu.d1);
        }
      }
      return { gz, gdz };
    };
    const weightGrads = (W: tf.Variable, s: Saved, gz: GraphTensor, gdz: GraphTensor | null) => {
      const gW = g.matMul(s.x, gz, { transposeA: true });
      grads.set(W, gdz && s.dx ? g.add(gW, g.matMul(s.dx, gdz, { transposeA: true })) : gW);
    };
    /** Back through a stack; returns d(loss)/d(input) and d(loss)/d(input tangent) when `inputGrad`. */
    const backward = (ga0: GraphTensor, gda0: GraphTensor | null, saved: Saved[], inputGrad: boolean) => {
      let ga = ga0;
      let gda = gda0;
      for (let i = saved.length - 1; i >= 0; i--) {
        const s = saved[i];
        const { gz, gdz } = backLayer(s, ga, gda);
        weightGrads(s.layer.W, s, gz, gdz);
        grads.set(s.layer.b, g.sum(gz, [0]));
        if (i === 0 && !inputGrad) break;
        ga = g.matMul(gz, ref(s.layer.W), { transposeB: true });
        gda = gdz ? g.matMul(gdz, ref(s.layer.W), { transposeB: true }) : null;
      }
      return { ga, gda };
    };

    // forward: encoders, the split first layer, the head
    const label = forward(labels, null, net.labelEncoder);
    const tau = forward(logTau, this.physicsOn ? g.onesLike(logTau) : null, net.tauEncoder);
    const z1 = g.biasAdd(
      g.add(g.matMul(label.out, ref(net.W1Label)), g.matMul(tau.out, ref(net.W1Tau))),
      ref(net.b1),
    );
    // Backward, the split first layer is one product each way: [label | tau]^T gz1 and
    // gz1 [W1Label ; W1Tau]^T compute the same sums as the halves (the same terms in each element),
    // but as one MatMul of the full width, which runs at the matmul peak where the halves'
    // transposed products (gz1 W1half^T, [rows x 1024] x [1024 x 512]) run ~30 % below it (measured
    // on the paper preset). The forward keeps the halves: a fused forward sums each element in
    // another order than the eager loss does.
    const kLabel = net.W1Label.shape[0];
    const h1In = g.concat([label.out, tau.out], 1);
    const W1 = g.concat([ref(net.W1Label), ref(net.W1Tau)], 0);
    const dz1 = tau.dOut ? g.matMul(tau.dOut, ref(net.W1Tau)) : null;
    const first = gelu(z1);
    // the first layer's activation, for backLayer (its weights are handled below)
    const firstSaved = { x: z1, dx: null, z: z1, dz: dz1, gelu: first } as Omit<Saved, 'layer'>;
    const head = forward(first.a, dz1 ? g.mul(first.d1, dz1) : null, net.head);
    const y = head.out;
    const diff = g.sub(y, target);
    const mse = g.mean(g.square(diff), [0, 1]);
    let gy = g.mul(diff, mseScale);
    let gdy: GraphTensor | null = null;
    const outputs: Record<string, GraphTensor> = {};

    if (this.physicsOn) {
      // the residual of physics.ts, column by column (a one-hot matMul picks a column)
      const eCol = (k: number, n: number) =>
        g.constant(
          Array.from({ length: n }, (_, i) => +(i === k)),
          [n, 1],
        );
      const eRow = (k: number) =>
        g.constant(
          Array.from({ length: 6 }, (_, i) => +(i === k)),
          [1, 6],
        );
      const col = (t: GraphTensor, k: number, n = 6) => g.matMul(t, eCol(k, n));
      const lnOf = (t: GraphTensor, k: number) =>
        g.mul(g.add(g.mul(t, c(norm.outStd[k])), c(norm.outMean[k])), c(LN10));
      const yP = col(y, Q_PRESSURE);
      const yA = col(y, Q_ABROSS);
      const cD = norm.outStd[Q_PRESSURE] / norm.logTauStd;
      const D = g.mul(col(head.dOut!, Q_PRESSURE), c(cD));
      const lnTau = g.mul(g.add(g.mul(logTau, c(norm.logTauStd)), c(norm.logTauMean)), c(LN10));
      const log10g = g.add(g.mul(col(labels, 1, 4), c(norm.labelStd[1])), c(norm.labelMean[1]));
      const grav = g.exp(g.mul(log10g, c(LN10)));
      let geff = grav;
      let accrad: { yC: GraphTensor; A: GraphTensor; u: GraphTensor; v: GraphTensor } | null = null;
      if (physics.includeAccrad) {
        const yC = col(y, Q_ACCRAD);
        const A = g.exp(lnOf(yC, Q_ACCRAD));
        const u = g.sub(grav, A);
        const v = g.mul(grav, c(HYDROSTATIC_GEFF_FLOOR));
        geff = g.maximum(u, v);
        accrad = { yC, A, u, v };
      }
      const lnR = g.sub(g.sub(g.add(lnTau, g.log(geff)), lnOf(yP, Q_PRESSURE)), lnOf(yA, Q_ABROSS));
      const R = g.exp(g.minimum(g.maximum(lnR, c(-60)), c(60)));
      const num = g.sub(D, R);
      const den = g.add(g.add(g.abs(D), R), c(1e-30));
      const r = g.div(g.mul(num, c(2)), den);
      const maskTotal = g.maximum(g.sum(pmask!, [0, 1]), one);
      const phys = g.div(g.sum(g.mul(g.square(r), pmask!), [0, 1]), maskTotal);
      outputs.total = g.add(g.mul(mse, c(1 - alpha)), g.mul(phys, c(alpha)));
      outputs.mse = mse;
      outputs.physics = phys;

      // d total / d r, then through r = 2 (D - R) / (|D| + R)
      const gr = g.mul(g.div(g.mul(r, pmask!), maskTotal), c(2 * alpha));
      const inv = g.div(one, den);
      const inv2 = g.square(inv);
      const gD = g.mul(gr, g.mul(g.sub(inv, g.mul(g.mul(num, g.sign(D)), inv2)), c(2)));
      const gR = g.mul(gr, g.mul(g.add(inv, g.mul(num, inv2)), c(-2)));
      // the clip passes the gradient inside [-60, 60]
      const inside = g.mul(g.sub(one, g.sign(g.sub(g.abs(lnR), c(60)))), c(0.5));
      const glnR = g.mul(g.mul(gR, R), inside);
      const gyP = g.mul(glnR, c(-norm.outStd[Q_PRESSURE] * LN10));
      const gyA = g.mul(glnR, c(-norm.outStd[Q_ABROSS] * LN10));
      gy = g.add(gy, g.add(g.matMul(gyP, eRow(Q_PRESSURE)), g.matMul(gyA, eRow(Q_ABROSS))));
      if (accrad) {
        // ln geff with geff = max(g - A, floor g): only the first branch depends on ACCRAD
        const active = g.mul(g.add(one, g.sign(g.sub(accrad.u, accrad.v))), c(0.5));
        const gyC = g.mul(
          g.mul(g.mul(g.div(glnR, geff), active), accrad.A),
          c(-norm.outStd[Q_ACCRAD] * LN10),
        );
        gy = g.add(gy, g.matMul(gyC, eRow(Q_ACCRAD)));
      }
      gdy = g.matMul(g.mul(gD, c(cD)), eRow(Q_PRESSURE));
    } else {
      outputs.total = mse;
    }

    // backward: head, the first layer, the encoders
    const { ga: ga1, gda: gda1 } = backward(gy, gdy, head.saved, true);
    const { gz: gz1, gdz: gdz1 } = backLayer(firstSaved, ga1, gda1);
    const gW1 = g.matMul(h1In, gz1, { transposeA: true }); // [kLabel + kTau, H1]
    grads.set(net.W1Label, g.slice(gW1, [0, 0], [kLabel, -1]));
    const gW1T = g.slice(gW1, [kLabel, 0], [-1, -1]);
    grads.set(
      net.W1Tau,
      gdz1 && tau.dOut ? g.add(gW1T, g.matMul(tau.dOut, gdz1, { transposeA: true })) : gW1T,
    );
    grads.set(net.b1, g.sum(gz1, [0]));
    const gh1 = g.matMul(gz1, W1, { transposeB: true }); // [rows, kLabel + kTau]
    if (label.saved.length) backward(g.slice(gh1, [0, 0], [-1, kLabel]), null, label.saved, false);
    if (tau.saved.length)
      backward(
        g.slice(gh1, [0, kLabel], [-1, -1]),
        gdz1 ? g.matMul(gdz1, ref(net.W1Tau), { transposeB: true }) : null,
        tau.saved,
        false,
      );

    this.names.forEach((n, i) => {
      const t = grads.get(net.params.get(n));
      if (!t) throw new Error(`LossGradients: no gradient written for parameter '${n}'`);
      outputs[`grad${i}`] = t;
    });
    this.graph = g.compile(outputs);
  }

  /** Loss parts (`total`, `mse`, and `physics` when alpha > 0) and gradients of the batch; the caller owns them. */
  run(batch: Batch): GradientsResult {
    const rows = batch.labels.shape[0];
    const scale = tf.scalar((2 * (1 - this.physics.alpha)) / (rows * 6));
    const params = this.names.map((n) => this.net.params.get(n));
    const data = this.physicsOn
      ? [batch.labels, batch.logTau, batch.y, batch.pmask, scale]
      : [batch.labels, batch.logTau, batch.y, scale];
    const out = this.graph.run([...data, ...params]);
    scale.dispose();
    const nParts = this.physicsOn ? 3 : 1;
    const grads: Record<string, tf.Tensor> = {};
    this.names.forEach((n, i) => (grads[n] = out[nParts + i]));
    const total = out[0] as tf.Scalar;
    // at alpha = 0 one tensor under both names, as the eager loss returns it (the loop disposes each name)
    const parts: GradientsResult['parts'] = this.physicsOn
      ? { total, mse: out[1] as tf.Scalar, physics: out[2] as tf.Scalar }
      : { total, mse: total };
    return { parts, grads };
  }

  dispose(): void {
    this.graph.dispose();
  }
}
