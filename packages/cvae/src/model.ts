// The conditional VAE: encoder (spectrum ⊕ labels → μ, log σ²), reparameterisation, decoder (z ⊕ labels → sigmoid spectrum), loss.
import {
  Dense,
  DenseStack,
  graphExecutionAvailable,
  GraphBuilder,
  ParamStore,
  tf,
  type Batch,
  type CompiledGraph,
  type LossResult,
} from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import { validateCvaeConfig, type CvaeConfig } from './config.js';

/**
 * A spectrum CVAE on nn-core layers. Parameter names (the checkpoint keys) are `enc.<i>.W/b`,
 * `mu.W/b`, `logvar.W/b`, `dec.<i>.W/b`; the last decoder layer has N outputs and a sigmoid.
 * Initialisation is seeded from `config.seed` only.
 */
export class SpectrumCvae {
  readonly params = new ParamStore();
  readonly encoder: DenseStack;
  readonly muHead: Dense;
  readonly logvarHead: Dense;
  readonly decoder: DenseStack;
  private decodeGraph: CompiledGraph | null = null;

  constructor(readonly config: CvaeConfig) {
    validateCvaeConfig(config);
    const rng = new Rng(config.seed);
    const nLabels = config.labelColumns.length;
    this.encoder = new DenseStack(
      this.params,
      'enc',
      config.nPixels + nLabels,
      { widths: config.encoderWidths, activation: 'relu' },
      rng,
    );
    const h = this.encoder.nOut;
    this.muHead = new Dense(this.params, 'mu', h, config.latentDim, 'linear', rng);
    this.logvarHead = new Dense(this.params, 'logvar', h, config.latentDim, 'linear', rng, 'zeros');
    this.decoder = new DenseStack(
      this.params,
      'dec',
      config.latentDim + nLabels,
      { widths: [...config.decoderWidths, config.nPixels], activation: 'relu', lastActivation: 'sigmoid' },
      rng,
    );
  }

  /** Continuum-normalized flux → the sigmoid's target y in [0, 1) (see `fluxRange`). */
  scaleFlux(flux: tf.Tensor): tf.Tensor2D {
    const [lo, hi] = this.config.fluxRange;
    return tf.tidy(() => tf.div(tf.sub(flux, lo), hi - lo) as tf.Tensor2D);
  }

  /** Inverse of `scaleFlux`: decoder output → continuum-normalized flux. */
  unscaleFlux(y: tf.Tensor): tf.Tensor2D {
    const [lo, hi] = this.config.fluxRange;
    return tf.tidy(() => tf.add(tf.mul(y, hi - lo), lo) as tf.Tensor2D);
  }

  /** Latent mean and log-variance for scaled flux y [b, N] and normalized labels c [b, L]. */
  encode(y: tf.Tensor2D, c: tf.Tensor2D): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
    const h = this.encoder.apply(tf.concat([y, c], 1));
    const raw = this.logvarHead.apply(h);
    const b = this.config.logvarBound;
    return {
      mu: this.muHead.apply(h),
      logvar: b === null ? raw : (tf.mul(tf.tanh(tf.div(raw, b)), b) as tf.Tensor2D),
    };
  }

  /** Scaled flux ŷ [b, N] for latents z [b, d] and normalized labels c [b, L]. */
  decode(z: tf.Tensor2D, c: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.decoder.apply(tf.concat([z, c], 1)));
  }

  /**
   * Continuum-normalized flux [b, N] for latents z [b, d] and normalized labels c [b, L]: the
   * decoder and `unscaleFlux`, as one TensorFlow graph call where the backend runs graphs (the
   * weights are graph inputs, so it follows training), else eagerly. The caller disposes it.
   */
  generateFlux(z: tf.Tensor2D, c: tf.Tensor2D): tf.Tensor2D {
    if (!graphExecutionAvailable()) return tf.tidy(() => this.unscaleFlux(this.decode(z, c)));
    const graph = (this.decodeGraph ??= this.compileDecodeGraph());
    const weights = (this.decoder.layers as Dense[]).flatMap((l) => [l.W, l.b]);
    return graph.run([z, c, ...weights])[0] as tf.Tensor2D;
  }

  private compileDecodeGraph(): CompiledGraph {
    const g = new GraphBuilder();
    let h = g.concat(
      [
        g.placeholder('z', [-1, this.config.latentDim]),
        g.placeholder('c', [-1, this.config.labelColumns.length]),
      ],
      1,
    );
    const layers = this.decoder.layers as Dense[];
    const weights = layers.map((_, i) => ({
      W: g.placeholder(`W${i}`, null),
      b: g.placeholder(`b${i}`, null),
    }));
    layers.forEach((l, i) => {
      const z = g.biasAdd(g.matMul(h, weights[i].W), weights[i].b);
      if (l.activation === 'relu') h = g.relu(z);
      else if (l.activation === 'sigmoid') h = g.sigmoid(z);
      else if (l.activation === 'linear') h = z;
      else throw new Error(`decoder graph: activation '${l.activation}' not written`);
    });
    const [lo, hi] = this.config.fluxRange;
    return g.compile({ flux: g.add(g.mul(h, g.scalar(hi - lo)), g.scalar(lo)) });
  }

  /** The KL weight at optimizer step `step` (linear warm-up). */
  betaAt(step: number): number {
    const { beta, klWarmupSteps } = this.config;
    return klWarmupSteps > 0 ? beta * Math.min(1, step / klWarmupSteps) : beta;
  }

  /**
   * Loss of a batch `{flux [b,N] raw, labels [b,L] normalized, eps? | epsVal? [b,d], mask? [b,N]}`.
   * With `eps` (training): z = μ + exp(½ log σ²) ε and total = recon + β KL, where
   * recon = mean over batch and (unmasked) pixels of (ŷ − y)² and KL = mean over batch of
   * Σ_latent ½(μ² + σ² − log σ² − 1). Without `eps` (validation): `recon` with z = μ,
   * `reconPrior` with z = 0 and, given `epsVal` (a fixed draw per spectrum), `reconSample` with
   * z = μ + σ epsVal; total is the one chosen by config.validationLatent ('sample': the
   * validation reconstruction loss), which drives early stopping and the schedule.
   */
  loss(batch: Batch, step: number): LossResult {
    const y = this.scaleFlux(batch.flux);
    const c = batch.labels as tf.Tensor2D;
    const { mu, logvar } = this.encode(y, c);
    const z = batch.eps ? tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), batch.eps)) : mu;
    const yHat = this.decode(z as tf.Tensor2D, c);
    const se = tf.square(tf.sub(yHat, y));
    const recon = (
      batch.mask ? tf.div(tf.sum(tf.mul(se, batch.mask)), tf.maximum(tf.sum(batch.mask), 1)) : tf.mean(se)
    ) as tf.Scalar;
    // KL = ½ Σ μ² (the means' part) + ½ Σ (σ² − log σ² − 1) (the variances' part), reported apart
    // so that a KL excursion can be traced to the means or to the log-variance head.
    const klMu = tf.mul(tf.mean(tf.sum(tf.square(mu), 1)), 0.5) as tf.Scalar;
    const klVar = tf.mul(tf.mean(tf.sum(tf.sub(tf.exp(logvar), tf.add(logvar, 1)), 1)), 0.5) as tf.Scalar;
    const kl = tf.add(klMu, klVar) as tf.Scalar;
    if (!batch.eps) {
      const reconWith = (zz: tf.Tensor): tf.Scalar => {
        const e = tf.square(tf.sub(this.decode(zz as tf.Tensor2D, c), y));
        return (
          batch.mask ? tf.div(tf.sum(tf.mul(e, batch.mask)), tf.maximum(tf.sum(batch.mask), 1)) : tf.mean(e)
        ) as tf.Scalar;
      };
      const reconPrior = reconWith(tf.zerosLike(mu));
      const parts: Record<string, tf.Scalar> = { recon, kl, klMu, klVar, reconPrior };
      if (batch.epsVal)
        parts.reconSample = reconWith(tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), batch.epsVal)));
      const v = this.config.validationLatent;
      if (v === 'sample' && !parts.reconSample)
        throw new Error("validationLatent 'sample' needs validation batches with 'epsVal'");
      return { total: v === 'zero' ? reconPrior : v === 'sample' ? parts.reconSample : recon, parts };
    }
    const total = tf.add(recon, tf.mul(kl, this.betaAt(step))) as tf.Scalar;
    return { total, parts: { recon, kl, klMu, klVar } };
  }

  /** Release every variable. */
  dispose(): void {
    this.decodeGraph?.dispose();
    this.decodeGraph = null;
    this.params.dispose();
  }
}
