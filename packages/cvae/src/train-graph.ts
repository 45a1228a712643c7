// The CVAE's training loss and its gradients as one TensorFlow graph: encoder, the bounded
// log-variance, the reparameterised latent, decoder, masked or plain reconstruction MSE and the
// KL term, with the backward pass written by hand, so that a training step is one session call
// instead of hundreds of eager tfjs ops. The same function as `SpectrumCvae.loss` with `eps`
// (training) and its autodiff, to float32 rounding (tested).
import {
  GraphBuilder,
  tf,
  type Batch,
  type CompiledGraph,
  type Dense,
  type GradientsResult,
  type GraphTensor,
} from '@stellar-emu/nn-core';
import type { SpectrumCvae } from './model.js';

interface Saved {
  layer: Dense;
  x: GraphTensor;
  /** The layer's output (ReLU: its sign is the derivative; sigmoid: s (1 - s)). */
  a: GraphTensor;
}

/**
 * recon + beta KL of a training batch `{ flux, labels, eps, mask? }` and the gradient for every
 * parameter of `model`, by name; beta is fed per call (the KL warm-up). One graph per mask
 * presence (datasets with NaN-masked pixels carry a mask).
 */
export class CvaeLossGradients {
  private readonly graphs = new Map<boolean, CompiledGraph>();
  private readonly names: string[];

  constructor(private readonly model: SpectrumCvae) {
    this.names = model.params.names();
  }

  private compile(masked: boolean): CompiledGraph {
    const m = this.model;
    const { nPixels: N, latentDim: d, fluxRange, logvarBound } = m.config;
    const L = m.config.labelColumns.length;
    const g = new GraphBuilder();
    const flux = g.placeholder('flux', [-1, N]);
    const labels = g.placeholder('labels', [-1, L]);
    const eps = g.placeholder('eps', [-1, d]);
    const mask = masked ? g.placeholder('mask', [-1, N]) : null;
    const beta = g.placeholder('beta', []);
    const invRows = g.placeholder('inv_rows', []); // 1 / batch rows
    const input = new Map<tf.Variable, GraphTensor>();
    this.names.forEach((n, i) => input.set(m.params.get(n), g.placeholder(`param${i}`, null)));
    const ref = (v: tf.Variable) => input.get(v)!;
    const c = (v: number) => g.scalar(v);
    const grads = new Map<tf.Variable, GraphTensor>();

    const dense = (layer: Dense, x: GraphTensor) => g.biasAdd(g.matMul(x, ref(layer.W)), ref(layer.b));
    const forward = (x0: GraphTensor, layers: Dense[]) => {
      const saved: Saved[] = [];
      let x = x0;
      for (const layer of layers) {
        const z = dense(layer, x);
        const a =
          layer.activation === 'relu'
            ? g.relu(z)
            : layer.activation === 'sigmoid'
              ? g.sigmoid(z)
              : layer.activation === 'linear'
                ? z
                : null;
        if (!a) throw new Error(`CvaeLossGradients: activation '${layer.activation}' not written`);
        saved.push({ layer, x, a });
        x = a;
      }
      return { out: x, saved };
    };
    /** d loss / d z of a layer from d loss / d a. */
    const throughActivation = (s: Saved, ga: GraphTensor) =>
      s.layer.activation === 'relu'
        ? g.mul(ga, g.sign(s.a))
        : s.layer.activation === 'sigmoid'
          ? g.mul(ga, g.mul(s.a, g.sub(c(1), s.a)))
          : ga;
    /** Back through layers from d loss / d output; returns d loss / d input when asked. */
    const backward = (gOut: GraphTensor, saved: Saved[], inputGrad: boolean): GraphTensor | null => {
      let ga: GraphTensor = gOut;
      for (let i = saved.length - 1; i >= 0; i--) {
        const s = saved[i];
        const gz = throughActivation(s, ga);
        grads.set(s.layer.W, g.matMul(s.x, gz, { transposeA: true }));
        grads.set(s.layer.b, g.sum(gz, [0]));
        if (i === 0 && !inputGrad) return null;
        ga = g.matMul(gz, ref(s.layer.W), { transposeB: true });
      }
      return ga;
    };

    // forward
    const [lo, hi] = fluxRange;
    const y = g.mul(g.sub(flux, c(lo)), c(1 / (hi - lo)));
    const enc = forward(g.concat([y, labels], 1), m.encoder.layers as Dense[]);
    const h = enc.out;
    const mu = dense(m.muHead, h);
    const raw = dense(m.logvarHead, h);
    const t = logvarBound === null ? null : g.tanh(g.mul(raw, c(1 / logvarBound)));
    const logvar = t ? g.mul(t, c(logvarBound!)) : raw;
    const sigma = g.exp(g.mul(logvar, c(0.5)));
    const z = g.add(mu, g.mul(sigma, eps));
    const dec = forward(g.concat([z, labels], 1), m.decoder.layers as Dense[]);
    const diff = g.sub(dec.out, y);
    const se = g.square(diff);
    const maskTotal = mask ? g.maximum(g.sum(mask, [0, 1]), c(1)) : null;
    const recon = mask ? g.div(g.sum(g.mul(se, mask), [0, 1]), maskTotal!) : g.mean(se, [0, 1]);
    const klMu = g.mul(g.mean(g.sum(g.square(mu), [1]), [0]), c(0.5));
    const ev = g.exp(logvar);
    const klVar = g.mul(g.mean(g.sum(g.sub(ev, g.add(logvar, c(1))), [1]), [0]), c(0.5));
    const kl = g.add(klMu, klVar);
    const total = g.add(recon, g.mul(kl, beta));

    // backward: d recon / d yHat, the decoder, the latent, the heads, the encoder
    const gyHat = mask
      ? g.div(g.mul(g.mul(diff, mask), c(2)), maskTotal!)
      : g.mul(diff, g.mul(c(2 / N), invRows)); // mean over rows x N
    const gIn = backward(gyHat, dec.saved, true)!;
    const gz = g.slice(gIn, [0, 0], [-1, d]);
    const bRows = g.mul(beta, invRows); // d (beta mean_b Σ) / d (one element)
    const gMu = g.add(gz, g.mul(mu, bRows));
    // z = mu + exp(lv / 2) eps; KL_var = ½ mean_b Σ (e^lv − lv − 1)
    const gLogvar = g.add(
      g.mul(g.mul(gz, g.mul(sigma, eps)), c(0.5)),
      g.mul(g.mul(g.sub(ev, c(1)), c(0.5)), bRows),
    );
    const gRaw = t ? g.mul(gLogvar, g.sub(c(1), g.square(t))) : gLogvar;
    grads.set(m.muHead.W, g.matMul(h, gMu, { transposeA: true }));
    grads.set(m.muHead.b, g.sum(gMu, [0]));
    grads.set(m.logvarHead.W, g.matMul(h, gRaw, { transposeA: true }));
    grads.set(m.logvarHead.b, g.sum(gRaw, [0]));
    const gh = g.add(
      g.matMul(gMu, ref(m.muHead.W), { transposeB: true }),
      g.matMul(gRaw, ref(m.logvarHead.W), { transposeB: true }),
    );
    backward(gh, enc.saved, false);

    const outputs: Record<string, GraphTensor> = { total, recon, kl, klMu, klVar };
    this.names.forEach((n, i) => {
      const gr = grads.get(m.params.get(n));
      if (!gr) throw new Error(`CvaeLossGradients: no gradient written for parameter '${n}'`);
      outputs[`grad${i}`] = gr;
    });
    return g.compile(outputs);
  }

  /** Loss parts (`total`, `recon`, `kl`, `klMu`, `klVar`) and gradients of a training batch at KL weight `beta`. */
  run(batch: Batch, beta: number): GradientsResult {
    if (!batch.eps) throw new Error('CvaeLossGradients: a training batch needs eps');
    const masked = batch.mask !== undefined;
    let graph = this.graphs.get(masked);
    if (!graph) this.graphs.set(masked, (graph = this.compile(masked)));
    const scalars = [tf.scalar(beta), tf.scalar(1 / batch.flux.shape[0])];
    const data = [batch.flux, batch.labels, batch.eps, ...(masked ? [batch.mask] : [])];
    const params = this.names.map((n) => this.model.params.get(n));
    const out = graph.run([...data, ...scalars, ...params]);
    for (const s of scalars) s.dispose();
    const [total, recon, kl, klMu, klVar, ...g] = out as tf.Scalar[];
    const grads: Record<string, tf.Tensor> = {};
    this.names.forEach((n, i) => (grads[n] = g[i]));
    return { parts: { total, recon, kl, klMu, klVar }, grads };
  }

  dispose(): void {
    for (const g of this.graphs.values()) g.dispose();
    this.graphs.clear();
  }
}
