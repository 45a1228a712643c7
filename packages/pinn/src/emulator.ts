// The emulator: network + normalization; training loss, batched prediction with a tau cache, label gradients, save/load.
import { CheckpointError, readCheckpoint, tf, writeCheckpoint, type Batch, type LossResult, type StoredTensor } from '@stellar-emu/nn-core';
import { Q_PRESSURE, type PhysicsOptions, type PinnArchitecture } from './config.js';
import { InferenceNet, PinnNetwork } from './model.js';
import { checkLabelRange, labelFeatures, type Normalization } from './normalization.js';
import { hydrostaticResidualTensor } from './physics.js';
import type { StellarLabels } from './atmosphere.js';
import { ATMOSPHERE_QUANTITIES, atmosphereContentId, atmosphereModelToDeck, estimatePradk, standardize, unstandardize, type AtmosphereModel, type AtmosphereQuantity, type DeckDefaults, type KuruczDeck } from '@stellar-emu/grid-io';

const LN10 = Math.LN10;

/**
 * Depth points per inference pass: 4,096 x 1,024 float32 activations are 16 MB, so a layer's
 * input and output stay in the last-level cache between the matMul and the GELU passes.
 */
export const POINTS_PER_PASS = 4096;

/** Concatenate output chunks, read them back once and dispose them. */
function readAndDispose(parts: tf.Tensor[], expected: number): Float32Array {
  if (parts.length === 0) return new Float32Array(0);
  const all = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
  const out = all.dataSync() as Float32Array;
  if (all !== parts[0]) all.dispose();
  for (const t of parts) t.dispose();
  if (out.length !== expected) throw new Error(`prediction returned ${out.length} values, expected ${expected}`);
  return out;
}

/** A predicted model atmosphere in physical units (cgs), surface first: one array per grid-io ATMOSPHERE_QUANTITIES entry. */
export interface PredictedAtmosphere extends StellarLabels, Record<AtmosphereQuantity, number[]> {
  nLayers: number;
  tauRosseland: number[];
}

/** Empty depth arrays of every quantity, in ATMOSPHERE_QUANTITIES order. */
function emptyQuantities(): Record<AtmosphereQuantity, number[]> {
  return Object.fromEntries(ATMOSPHERE_QUANTITIES.map((q) => [q, [] as number[]])) as Record<AtmosphereQuantity, number[]>;
}

/**
 * A prediction as a grid-io AtmosphereModel (marked synthetic): [M/H] = [Fe/H] (the deck's
 * abundance scale), alpha from [alpha/Fe]; `vturbKms` is the microturbulence of the grid the
 * emulator learned (null: unknown). The one conversion used by the CLI's exports and synthesis.
 */
export function predictedAtmosphereModel(
  p: PredictedAtmosphere,
  opts: { source: string; line?: number; split?: string | null; vturbKms?: number | null },
): AtmosphereModel {
  const base: Omit<AtmosphereModel, 'id'> = {
    source: opts.source,
    line: opts.line ?? 0,
    teffK: p.teffK,
    logg: p.logg,
    mh: p.feh,
    feh: p.feh,
    afe: p.afe,
    vturbKms: opts.vturbKms ?? null,
    nLayers: p.nLayers,
    rhox: p.rhox,
    temperature: p.temperature,
    pressure: p.pressure,
    xne: p.xne,
    abross: p.abross,
    accrad: p.accrad,
    tauRosseland: p.tauRosseland,
    synthetic: true,
    split: opts.split ?? null,
  };
  return { id: atmosphereContentId(base), ...base };
}

/** How {@link predictedDeck} labels and completes a deck. */
export interface PredictedDeckOptions {
  source: string;
  /** VTURB of the grid the emulator learned, km/s (default 2, the Kurucz grids'). */
  vturbKms?: number;
  /** The training grid's abundance mix and PRADK ratio (model.json `deckDefaults`; absent for older models: the Kurucz 1993 mix, Eddington PRADK). */
  defaults?: DeckDefaults | null;
  /** Who made it, for the TITLE card: e.g. `stellar-emu 0.1.0 PINN 3f2a9c1d4e5b` (default `stellar-emu EMULATED`). */
  producer?: string;
}

/**
 * A prediction as a Kurucz deck (in memory; `formatDeck` writes it): the grid-io deck of
 * {@link predictedAtmosphereModel}, with the training grid's solar abundance mix
 * (`defaults.abundanceChange`, else the Kurucz 1993 grids') scaled to [Fe/H] (alpha elements
 * raised by [alpha/Fe]), VTURB `vturbKms`, a PRADK card estimated from the grid's PRADK ratio at
 * this Teff (grid-io `estimatePradk`: PRADK is not emulated; ATLAS only starts from it), a closing
 * `ITERATION 0 COMPLETED` card (no ATLAS iteration was run), and `producer` with [alpha/Fe] on
 * the TITLE. What `predict atmosphere --format kurucz` exports and what synthesis reads from an emulator.
 */
export function predictedDeck(p: PredictedAtmosphere, opts: PredictedDeckOptions): KuruczDeck {
  const afe = `${p.afe >= 0 ? '+' : '-'}${Math.abs(p.afe).toFixed(2)}`;
  return atmosphereModelToDeck(predictedAtmosphereModel(p, { source: opts.source, vturbKms: opts.vturbKms ?? 2 }), {
    abundanceChange: opts.defaults?.abundanceChange,
    pradk: estimatePradk(p.teffK, opts.defaults),
    iterations: 0,
    titlePrefix: `${opts.producer ?? 'stellar-emu EMULATED'} a/Fe ${afe}`,
  });
}

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
  private infer: InferenceNet | null = null;

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
    const r = hydrostaticResidualTensor(this.norm, labels, logTau, y, dyDlogTauN, includeAccrad);
    const physics = tf.div(tf.sum(tf.mul(tf.square(r), batch.pmask)), tf.maximum(tf.sum(batch.pmask), 1)) as tf.Scalar;
    const total = tf.add(tf.mul(mse, 1 - alpha), tf.mul(physics, alpha)) as tf.Scalar;
    return { total, parts: { mse, physics } };
  }

  /** Normalized label rows [n, 4]. */
  normalizeLabels(labels: StellarLabels[]): Float32Array {
    const out = new Float32Array(labels.length * 4);
    labels.forEach((l, j) => labelFeatures(l).forEach((v, i) => (out[j * 4 + i] = standardize(v, this.norm.labelMean[i], this.norm.labelStd[i]))));
    return out;
  }

  /** Normalized log tau column [n, 1]. */
  normalizeLogTau(tau: ArrayLike<number>): Float32Array {
    return Float32Array.from(tau, (t) => standardize(Math.log10(t), this.norm.logTauMean, this.norm.logTauStd));
  }

  /** The inference-only network (folded GELU, fused matMuls), built on first use. */
  private inference(): InferenceNet {
    return (this.infer ??= new InferenceNet(this.net));
  }

  private gridTauPart(tauGrid: number[]): tf.Tensor2D {
    const key = tauGrid.join(',');
    if (this.tauCache?.key === key) return this.tauCache.tensor;
    this.tauCache?.tensor.dispose();
    const t = tf.tidy(() => this.inference().tauPart(tf.tensor2d(this.normalizeLogTau(tauGrid), [tauGrid.length, 1])));
    this.tauCache = { key, tensor: t };
    return t;
  }

  /**
   * Drop every tensor derived from the weights (the tau cache and the inference copies); call
   * after the weights changed (training, restore).
   */
  clearTauCache(): void {
    this.tauCache?.tensor.dispose();
    this.tauCache = null;
    this.infer?.dispose();
    this.infer = null;
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
        for (let d = 0; d < D; d++) arr[d] = 10 ** unstandardize(raw[(j * D + d) * 6 + k], this.norm.outMean[k], this.norm.outStd[k]);
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
    const D = tauGrid.length;
    const bs = Math.max(1, Math.min(opts.batchSize ?? 256, Math.floor(POINTS_PER_PASS / D)));
    const useCache = opts.useTauCache ?? true;
    const inf = this.inference();
    const labelsN = this.normalizeLabels(labels);
    const tauPart = useCache ? this.gridTauPart(tauGrid) : null;
    const tauN = useCache ? null : tf.tensor2d(this.normalizeLogTau(tauGrid), [D, 1]);
    const parts: tf.Tensor[] = [];
    for (let s = 0; s < labels.length; s += bs) {
      const n = Math.min(bs, labels.length - s);
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
    return readAndDispose(parts, labels.length * D * 6);
  }

  /**
   * Predict on each model's own tau grid (e.g. a dataset's layers): physical outputs per model.
   * All depth points of all models go through the network in passes of POINTS_PER_PASS points.
   */
  predictOnTauGrids(items: { labels: StellarLabels; tau: ArrayLike<number> }[], opts: { allowExtrapolation?: boolean } = {}): PredictedAtmosphere[] {
    if (!opts.allowExtrapolation) for (const it of items) checkLabelRange(this.norm, [it.labels], Array.from(it.tau, Math.log10));
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
    const inf = this.inference();
    const chunk = POINTS_PER_PASS;
    const parts: tf.Tensor[] = [];
    for (let s = 0; s < P; s += chunk) {
      const n = Math.min(chunk, P - s);
      parts.push(
        tf.tidy(() => {
          const z1 = tf.add(inf.labelPart(tf.tensor2d(lab.subarray(s * 4, (s + n) * 4), [n, 4])), inf.tauPart(tf.tensor2d(tau.subarray(s, s + n), [n, 1])));
          return inf.fromPreActivation(z1 as tf.Tensor2D);
        }),
      );
    }
    const raw = readAndDispose(parts, P * 6);
    p = 0;
    return items.map((it) => {
      const D = it.tau.length;
      const out: PredictedAtmosphere = { ...it.labels, nLayers: D, tauRosseland: Array.from(it.tau), ...emptyQuantities() };
      ATMOSPHERE_QUANTITIES.forEach((q, k) => {
        const arr = new Array<number>(D);
        for (let d = 0; d < D; d++) arr[d] = 10 ** unstandardize(raw[(p + d) * 6 + k], this.norm.outMean[k], this.norm.outStd[k]);
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
  pressureLogSlope(labels: StellarLabels, tauGrid: ArrayLike<number>): { pressure: Float64Array; dlnPdlnTau: Float64Array } {
    const D = tauGrid.length;
    const y = tf.tidy(() => {
      const l = tf.tile(tf.tensor2d(this.normalizeLabels([labels]), [1, 4]), [D, 1]) as tf.Tensor2D;
      const t = tf.tensor2d(this.normalizeLogTau(tauGrid), [D, 1]);
      const { y, dyDlogTauN } = this.net.forwardWithTauTangent(l, t);
      return tf.concat([tf.slice(y, [0, Q_PRESSURE], [-1, 1]), tf.slice(dyDlogTauN, [0, Q_PRESSURE], [-1, 1])], 1);
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
          ATMOSPHERE_QUANTITIES.forEach((q, k) => {
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
