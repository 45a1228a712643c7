// Dense layers, activations (erf-GELU, ReLU, sigmoid), LayerNorm, with forward-mode tangents.
import type { Rng } from '@stellar-emu/numerics';
import { tf } from './backend.js';
import type { StoredTensor } from './checkpoint.js';

/** Activation functions supported by the dense layers. */
export type Activation = 'gelu' | 'relu' | 'sigmoid' | 'linear';

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** GELU in its exact erf form: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, INV_SQRT2)))));
}

/** Closed-form GELU derivative: Phi(x) + x phi(x). */
export function geluDerivative(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, INV_SQRT2))));
    const pdf = tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(tf.square(x), -0.5)));
    return tf.add(cdf, tf.mul(x, pdf));
  });
}

/** Apply an activation. */
export function activate(x: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case 'gelu':
      return gelu(x);
    case 'relu':
      return tf.relu(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'linear':
      return x;
  }
}

/**
 * Apply an activation and return its value and closed-form derivative at `x`; the derivative
 * uses only first-order differentiable ops, so gradients of expressions containing it work
 * (tfjs cannot differentiate its own gradients of tanh/sigmoid/exp, tensorflow/tfjs#3252).
 */
export function activateWithDerivative(x: tf.Tensor, act: Activation): [tf.Tensor, tf.Tensor] {
  switch (act) {
    case 'gelu':
      return [gelu(x), geluDerivative(x)];
    case 'relu':
      return [tf.relu(x), tf.cast(tf.greater(x, 0), 'float32')];
    case 'sigmoid': {
      const s = tf.sigmoid(x);
      return [s, tf.mul(s, tf.sub(1, s))];
    }
    case 'linear':
      return [x, tf.onesLike(x)];
  }
}

/**
 * An ordered, named collection of trainable variables. Names are the checkpoint keys;
 * iteration order is insertion order, which fixes the order of optimizer updates.
 */
export class ParamStore {
  readonly vars = new Map<string, tf.Variable>();

  /** Create a variable `name` from float32 values. */
  add(name: string, values: Float32Array, shape: number[]): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter '${name}' already exists`);
    // The variable takes its own reference to the data; the initial tensor is released.
    const init = tf.tensor(values, shape, 'float32');
    const v = tf.variable(init, true);
    init.dispose();
    this.vars.set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no parameter '${name}'`);
    return v;
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  /** Total number of scalar parameters. */
  size(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Copy every parameter to host memory (not for the hot loop). */
  snapshot(): Map<string, { shape: number[]; data: Float32Array }> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, v] of this.vars) out.set(k, { shape: [...v.shape], data: v.dataSync() as Float32Array });
    return out;
  }

  /**
   * Every parameter as a lazily read tensor for nn-core `writeCheckpoint` (name = `prefix` + the
   * parameter's name): each is copied to host memory only when its bytes are written, so saving
   * holds one parameter at a time on the host, not all of them.
   */
  toStoredTensors(prefix = ''): Map<string, StoredTensor> {
    return lazyStoredTensors(this.vars, prefix);
  }

  /** Overwrite parameters from host arrays; every parameter must be present with its shape. */
  restore(
    values:
      | Map<string, { shape: number[]; data: Float32Array }>
      | Record<string, { shape: number[]; data: Float32Array }>,
  ): void {
    const get = (k: string) => (values instanceof Map ? values.get(k) : values[k]);
    for (const [k, v] of this.vars) {
      const src = get(k);
      if (!src) throw new Error(`parameter '${k}' missing from the restored values`);
      if (src.shape.join(',') !== v.shape.join(',')) {
        throw new Error(
          `parameter '${k}' has shape [${src.shape}] in the restored values, expected [${v.shape}]`,
        );
      }
      tf.tidy(() => v.assign(tf.tensor(src.data, v.shape, 'float32')));
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

/**
 * Named float32 variables as lazily read tensors for nn-core `writeCheckpoint` (name = `prefix` +
 * the entry's name): each variable is copied to the host only while its bytes are written.
 */
export function lazyStoredTensors(
  vars: Iterable<[string, tf.Variable]>,
  prefix = '',
): Map<string, StoredTensor> {
  const out = new Map<string, StoredTensor>();
  for (const [k, v] of vars)
    out.set(`${prefix}${k}`, { dtype: 'F32', shape: [...v.shape], data: () => v.dataSync() as Float32Array });
  return out;
}

/** Weight initialisation scheme. */
export type Init = 'he-normal' | 'glorot-uniform' | 'zeros';

function initValues(rng: Rng, n: number, fanIn: number, fanOut: number, init: Init): Float32Array {
  const out = new Float32Array(n);
  if (init === 'he-normal') {
    const std = Math.sqrt(2 / fanIn);
    for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
  } else if (init === 'glorot-uniform') {
    const lim = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < n; i++) out[i] = (2 * rng.uniform() - 1) * lim;
  }
  return out;
}

/** A layer that maps [batch, nIn] -> [batch, nOut] and propagates a tangent alongside. */
export interface Layer {
  readonly nIn: number;
  readonly nOut: number;
  apply(x: tf.Tensor2D): tf.Tensor2D;
  /** Value and directional derivative: returns [y, dy] for input x and input tangent dx. */
  applyWithTangent(x: tf.Tensor2D, dx: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D];
}

/** Fully connected layer y = act(x W + b), W of shape [nIn, nOut]. */
export class Dense implements Layer {
  readonly W: tf.Variable;
  readonly b: tf.Variable;

  constructor(
    store: ParamStore,
    readonly name: string,
    readonly nIn: number,
    readonly nOut: number,
    readonly activation: Activation,
    rng: Rng,
    init: Init = activation === 'relu' || activation === 'gelu' ? 'he-normal' : 'glorot-uniform',
  ) {
    this.W = store.add(`${name}.W`, initValues(rng, nIn * nOut, nIn, nOut, init), [nIn, nOut]);
    this.b = store.add(`${name}.b`, new Float32Array(nOut), [nOut]);
  }

  /** The affine part x W + b. */
  preActivation(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.W as tf.Tensor2D), this.b) as tf.Tensor2D;
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => activate(this.preActivation(x), this.activation) as tf.Tensor2D);
  }

  applyWithTangent(x: tf.Tensor2D, dx: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    const z = this.preActivation(x);
    const dz = tf.matMul(dx, this.W as tf.Tensor2D);
    const [y, dAct] = activateWithDerivative(z, this.activation);
    return [y as tf.Tensor2D, tf.mul(dAct, dz) as tf.Tensor2D];
  }
}

/** Layer normalisation over the feature axis with learned gain and bias. */
export class LayerNorm implements Layer {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly nOut: number;

  constructor(
    store: ParamStore,
    readonly name: string,
    readonly nIn: number,
    readonly epsilon = 1e-5,
  ) {
    this.nOut = nIn;
    this.gamma = store.add(`${name}.gamma`, new Float32Array(nIn).fill(1), [nIn]);
    this.beta = store.add(`${name}.beta`, new Float32Array(nIn), [nIn]);
  }

  private normalize(x: tf.Tensor2D): { xhat: tf.Tensor2D; invStd: tf.Tensor2D } {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    const invStd = tf.rsqrt(tf.add(variance, this.epsilon)) as tf.Tensor2D;
    return { xhat: tf.mul(centered, invStd) as tf.Tensor2D, invStd };
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.mul(this.normalize(x).xhat, this.gamma), this.beta) as tf.Tensor2D);
  }

  applyWithTangent(x: tf.Tensor2D, dx: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    const { xhat, invStd } = this.normalize(x);
    const y = tf.add(tf.mul(xhat, this.gamma), this.beta) as tf.Tensor2D;
    // d xhat = invStd (dx - mean(dx) - xhat mean(dx xhat))
    const dxc = tf.sub(dx, tf.mean(dx, -1, true));
    const proj = tf.mean(tf.mul(dx, xhat), -1, true);
    const dxhat = tf.mul(invStd, tf.sub(dxc, tf.mul(xhat, proj)));
    return [y, tf.mul(dxhat, this.gamma) as tf.Tensor2D];
  }
}

/** Specification of a dense stack: hidden widths, activation, optional LayerNorm after each. */
export interface DenseStackSpec {
  widths: number[];
  activation: Activation;
  /** Activation of the last layer (default: same as the others). */
  lastActivation?: Activation;
  layerNorm?: boolean;
}

/** A sequence of layers applied in order. */
export class DenseStack implements Layer {
  readonly layers: Layer[] = [];
  readonly nOut: number;

  constructor(
    store: ParamStore,
    name: string,
    readonly nIn: number,
    spec: DenseStackSpec,
    rng: Rng,
  ) {
    let n = nIn;
    spec.widths.forEach((w, i) => {
      const last = i === spec.widths.length - 1;
      const act = last && spec.lastActivation ? spec.lastActivation : spec.activation;
      this.layers.push(new Dense(store, `${name}.${i}`, n, w, act, rng));
      if (spec.layerNorm && !last) this.layers.push(new LayerNorm(store, `${name}.${i}.ln`, w));
      n = w;
    });
    this.nOut = n;
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.layers.reduce((h, l) => l.apply(h), x));
  }

  applyWithTangent(x: tf.Tensor2D, dx: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    let h = x;
    let dh = dx;
    for (const l of this.layers) [h, dh] = l.applyWithTangent(h, dh);
    return [h, dh];
  }
}
