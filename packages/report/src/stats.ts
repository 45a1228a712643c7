// Small statistics helpers: quantiles, RMSE and a seeded random number generator.

/** Quantile q ∈ [0, 1] of finite values with linear interpolation (type 7); NaN when empty. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const v = Array.from(values)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const pos = (v.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

export const median = (values: ArrayLike<number>): number => quantile(values, 0.5);

/** Root-mean-square of predicted − true. */
export function rmse(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  if (truth.length !== predicted.length || truth.length === 0)
    throw new Error('rmse: arrays must be non-empty and of equal length');
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += (predicted[i] - truth[i]) ** 2;
  return Math.sqrt(s / truth.length);
}

/** Seeded PRNG (mulberry32) with uniform and Gaussian draws; the same seed gives the same stream. */
export class Rng {
  private state: number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}
