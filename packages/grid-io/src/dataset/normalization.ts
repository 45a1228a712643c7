// Normalization of dataset quantities: log10 for positive-definite ones, then min-max to [-1, 1] or standardization, from one streaming pass.
// The one home of min-max scaling and z-scores: every model's label and quantity scaling calls the functions here.
import type { DatasetManifest } from './manifest.js';

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
      if (!(value > 0))
        throw new RangeError(
          `${this.name}: expected a positive value for log10 normalization, found ${value}`,
        );
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

/** A closed target interval [lo, hi] of a min-max scaling. */
export type ScaleInterval = readonly [lo: number, hi: number];
/** [-1, 1]: the interval of `minmax` normalization (and of the CVAE's labels). */
export const SYMMETRIC_INTERVAL: ScaleInterval = [-1, 1];
/** [0, 1] (the recovery network's labels). */
export const UNIT_INTERVAL: ScaleInterval = [0, 1];

/**
 * Min-max scaling of `v` from [min, max] onto `to` (default [-1, 1]):
 * lo + (hi − lo)(v − min)/(max − min). A constant quantity (max = min) maps to the middle of `to`.
 */
export function minMaxScale(
  v: number,
  min: number,
  max: number,
  to: ScaleInterval = SYMMETRIC_INTERVAL,
): number {
  const span = max - min;
  if (!(span > 0)) return (to[0] + to[1]) / 2;
  return to[0] + ((to[1] - to[0]) * (v - min)) / span;
}

/** Inverse of {@link minMaxScale}: min + (y − lo)/(hi − lo) (max − min) (min for a constant quantity). */
export function minMaxUnscale(
  y: number,
  min: number,
  max: number,
  to: ScaleInterval = SYMMETRIC_INTERVAL,
): number {
  return min + ((y - to[0]) / (to[1] - to[0])) * (max - min);
}

/** z-score (v − mean)/std; 0 when std is not positive (a constant quantity). */
export function standardize(v: number, mean: number, std: number): number {
  return std > 0 ? (v - mean) / std : 0;
}

/** Inverse of {@link standardize}: mean + z·std. */
export function unstandardize(z: number, mean: number, std: number): number {
  return mean + z * std;
}

/**
 * Normalize physical values with stored statistics: transform (log10 or identity), then
 * minmax: 2 (v - min)/(max - min) - 1, or standard: (v - mean)/std. A constant quantity
 * (max = min or std = 0) maps to 0. The same function serves training and inference.
 */
export function normalizeValues(
  values: ArrayLike<number>,
  stats: QuantityStats,
  method: NormalizationMethod,
): number[] {
  return Array.from(values, (x) => {
    const v = stats.transform === 'log10' ? Math.log10(x) : x;
    return method === 'minmax' ? minMaxScale(v, stats.min, stats.max) : standardize(v, stats.mean, stats.std);
  });
}

/** Inverse of {@link normalizeValues}: back to physical units. */
export function denormalizeValues(
  values: ArrayLike<number>,
  stats: QuantityStats,
  method: NormalizationMethod,
): number[] {
  return Array.from(values, (x) => {
    const v =
      method === 'minmax' ? minMaxUnscale(x, stats.min, stats.max) : unstandardize(x, stats.mean, stats.std);
    return stats.transform === 'log10' ? 10 ** v : v;
  });
}

/**
 * The min-max range of one quantity, as models store it with their weights (the CVAE's model.json
 * `labels[]` carries these fields): in physical units, or, with `log10Offset`, of
 * log10(value + log10Offset) (min and max then in that space).
 */
export interface MinMaxScale {
  column: string;
  min: number;
  max: number;
  /** Scale log10(value + log10Offset) instead of the value (absent: linear). */
  log10Offset?: number;
}

/**
 * A linear {@link MinMaxScale} as the scale of log10(value + offset): the same column, its range
 * mapped through the (increasing) transform. The range must lie above −offset.
 */
export function log10Scale(scale: MinMaxScale, offset: number): MinMaxScale {
  if (scale.log10Offset !== undefined) throw new Error(`"${scale.column}" is already log-scaled`);
  if (!(Number.isFinite(offset) && scale.min + offset > 0))
    throw new RangeError(
      `"${scale.column}": log10(value + ${offset}) needs values above ${-offset}; the range starts at ${scale.min}`,
    );
  return {
    column: scale.column,
    min: Math.log10(scale.min + offset),
    max: Math.log10(scale.max + offset),
    log10Offset: offset,
  };
}

/**
 * `v` (physical units) onto `to` (default [-1, 1]) with a stored scale: {@link minMaxScale} of
 * the value, or of log10(v + log10Offset) for a log scale (where v + log10Offset must be > 0:
 * a RangeError names the column, never a NaN).
 */
export function scaleValue(v: number, scale: MinMaxScale, to: ScaleInterval = SYMMETRIC_INTERVAL): number {
  if (scale.log10Offset === undefined) return minMaxScale(v, scale.min, scale.max, to);
  const x = v + scale.log10Offset;
  if (!(x > 0))
    throw new RangeError(
      `"${scale.column}" = ${v}: log10(value + ${scale.log10Offset}) needs a value above ${-scale.log10Offset}`,
    );
  return minMaxScale(Math.log10(x), scale.min, scale.max, to);
}

/**
 * Min-max scales of `columns` from a dataset manifest's normalization statistics. Each column
 * must have statistics with the 'linear' transform (a physical-units range).
 */
export function minMaxScalesFromManifest(
  manifest: DatasetManifest,
  columns: readonly string[],
): MinMaxScale[] {
  return columns.map((column) => {
    const st = manifest.normalization[column];
    if (!st) throw new Error(`dataset manifest has no normalization statistics for "${column}"`);
    if (st.transform !== 'linear')
      throw new Error(
        `"${column}" has a ${st.transform} normalization; a min-max scale in physical units needs linear`,
      );
    return { column, min: st.min, max: st.max };
  });
}
