// Normalization of dataset quantities: log10 for positive-definite ones, then min-max to [-1, 1] or standardization, from one streaming pass.

/** How a quantity is transformed before scaling. */
export type Transform = 'log10' | 'linear';
/** `minmax`: to [-1, 1] over the dataset's range; `standard`: zero mean, unit variance. */
export type NormalizationMethod = 'minmax' | 'standard';

/** Statistics of one quantity, in the transformed space (after log10 when `transform` is 'log10'). */
export interface QuantityStats {
  transform: Transform;
  /** Number of finite values seen. */
  count: number;
  min: number;
  max: number;
  mean: number;
  std: number;
}

/**
 * Streaming statistics (count, min, max, mean, population std by Welford's algorithm) of one
 * quantity. Non-finite values (NaN in spectra) are skipped; for 'log10' quantities a value
 * <= 0 is an error, since the quantity was declared positive-definite.
 */
export class RunningStats {
  private n = 0;
  private lo = Infinity;
  private hi = -Infinity;
  private m = 0;
  private s = 0;

  constructor(
    readonly name: string,
    readonly transform: Transform,
  ) {}

  /** Add one value in physical units. */
  add(value: number): void {
    if (!Number.isFinite(value)) return;
    let v = value;
    if (this.transform === 'log10') {
      if (!(value > 0)) throw new RangeError(`${this.name}: expected a positive value for log10 normalization, found ${value}`);
      v = Math.log10(value);
    }
    this.n++;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
    const d = v - this.m;
    this.m += d / this.n;
    this.s += d * (v - this.m);
  }

  /** Add every value of an array. */
  addAll(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.add(values[i]);
  }

  /** The statistics so far. */
  result(): QuantityStats {
    const empty = this.n === 0;
    return {
      transform: this.transform,
      count: this.n,
      min: empty ? 0 : this.lo,
      max: empty ? 0 : this.hi,
      mean: empty ? 0 : this.m,
      std: this.n > 0 ? Math.sqrt(this.s / this.n) : 0,
    };
  }
}

/**
 * Normalize physical values with stored statistics: transform (log10 or identity), then
 * minmax: 2 (v - min)/(max - min) - 1, or standard: (v - mean)/std. A constant quantity
 * (max = min or std = 0) maps to 0. The same function serves training and inference.
 */
export function normalizeValues(values: ArrayLike<number>, stats: QuantityStats, method: NormalizationMethod): number[] {
  const out = new Array<number>(values.length);
  const span = stats.max - stats.min;
  for (let i = 0; i < values.length; i++) {
    const v = stats.transform === 'log10' ? Math.log10(values[i]) : values[i];
    if (method === 'minmax') out[i] = span > 0 ? (2 * (v - stats.min)) / span - 1 : 0;
    else out[i] = stats.std > 0 ? (v - stats.mean) / stats.std : 0;
  }
  return out;
}

/** Inverse of {@link normalizeValues}: back to physical units. */
export function denormalizeValues(values: ArrayLike<number>, stats: QuantityStats, method: NormalizationMethod): number[] {
  const out = new Array<number>(values.length);
  const span = stats.max - stats.min;
  for (let i = 0; i < values.length; i++) {
    const v = method === 'minmax' ? stats.min + ((values[i] + 1) / 2) * span : stats.mean + values[i] * stats.std;
    out[i] = stats.transform === 'log10' ? 10 ** v : v;
  }
  return out;
}
