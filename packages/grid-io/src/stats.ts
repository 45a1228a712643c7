// Order statistics shared by every package: one quantile, one NaN convention.

/**
 * Quantile q ∈ [0, 1] with linear interpolation between order statistics (Hyndman & Fan type 7,
 * numpy's default). Non-finite values (NaN, ±Infinity) are left out; NaN when none is left.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  const v: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) v.push(values[i]);
  if (v.length === 0) return Number.NaN;
  v.sort((a, b) => a - b);
  const pos = (v.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

/** Median of the finite values ({@link quantile} at 0.5). */
export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

/** Median, 95th percentile and maximum of |a − b| over the pixels where both are finite. */
export function absDifferenceStats(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): { median: number; p95: number; max: number } {
  if (a.length !== b.length) throw new Error(`absDifferenceStats: lengths ${a.length} and ${b.length} differ`);
  const d = new Float64Array(a.length);
  let max = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.abs(a[i] - b[i]);
    d[i] = x;
    if (Number.isFinite(x)) {
      n++;
      if (x > max) max = x;
    }
  }
  if (n === 0) throw new Error('absDifferenceStats: no pixel where both spectra are finite');
  return { median: quantile(d, 0.5), p95: quantile(d, 0.95), max };
}

/**
 * Quantile q of values where null marks a failure (a model the emulator could not produce a
 * usable result for), ranked worse than every value: the type-7 quantile of the sorted list with
 * the failures at its top, or null when it falls on (or interpolates towards) a failure. So a
 * median over models stays defined while fewer than half of them failed, and no failure is
 * dropped from the count.
 */
export function quantileWithFailures(values: readonly (number | null)[], q: number): number | null {
  if (values.length === 0) return null;
  const ok = values.filter((v): v is number => v !== null && !Number.isNaN(v)).sort((a, b) => a - b);
  const pos = (values.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  if (hi >= ok.length) return null;
  return ok[lo] + (ok[hi] - ok[lo]) * (pos - lo);
}
