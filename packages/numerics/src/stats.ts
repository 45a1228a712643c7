// Statistics shared by every package: one quantile, one NaN convention.
//
// The NaN convention: non-finite values (NaN, ±Infinity; null where a series allows it) are
// missing data. They are left out of every statistic here (of pairs, the pair is left out), and a
// statistic with no finite value left is NaN (null in per-bin arrays). Three functions differ on
// purpose and say so: `quantileWithFailures` ranks null (a failure) worse than every value,
// `absDifferenceStats` throws when the two series share no finite pixel, and `rmse` (an error of
// predictions) is not finite when any prediction is not.

/**
 * Quantile q ∈ [0, 1] (clamped) with linear interpolation between order statistics (Hyndman &
 * Fan type 7, numpy's default). Non-finite values are left out; NaN when none is left.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  const v: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) v.push(values[i]);
  return sortedQuantile(
    v.sort((a, b) => a - b),
    q,
  );
}

/** Type-7 quantile of finite values already sorted ascending; NaN when empty. */
function sortedQuantile(v: readonly number[], q: number): number {
  if (v.length === 0) return Number.NaN;
  const pos = (v.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

/** Median of the finite values ({@link quantile} at 0.5); NaN when none. */
export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

/** The summary {@link summarize} returns. */
export interface Summary {
  median: number;
  p95: number;
  max: number;
}

/**
 * Median, 95th percentile ({@link quantile}, type 7) and maximum of the finite values; all NaN
 * when there is none.
 */
export function summarize(values: ArrayLike<number>): Summary {
  const v: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) v.push(values[i]);
  v.sort((a, b) => a - b);
  return {
    median: sortedQuantile(v, 0.5),
    p95: sortedQuantile(v, 0.95),
    max: v.length ? v[v.length - 1] : Number.NaN,
  };
}

/**
 * {@link summarize} of |a − b| over the pixels where both are finite.
 * @throws when the lengths differ or no pixel has both values finite.
 */
export function absDifferenceStats(a: ArrayLike<number>, b: ArrayLike<number>): Summary {
  if (a.length !== b.length)
    throw new Error(`absDifferenceStats: lengths ${a.length} and ${b.length} differ`);
  const d = new Float64Array(a.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d[i] = Math.abs(a[i] - b[i]);
    if (Number.isFinite(d[i])) n++;
  }
  if (n === 0) throw new Error('absDifferenceStats: no pixel where both spectra are finite');
  return summarize(d);
}

/**
 * Quantile q of values where null marks a failure (a model the emulator could not produce a
 * usable result for), ranked worse than every value: the type-7 quantile of the sorted list with
 * the failures at its top, or null when it falls on (or interpolates towards) a failure. So a
 * median over models stays defined while fewer than half of them failed, and no failure is
 * dropped from the count. NaN counts as a failure too; ±Infinity are ordinary (extreme) values.
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

/**
 * Root-mean-square of predicted − truth over every pair. An exception to the missing-data
 * convention above: a non-finite prediction is a failure of the model, not a hole in the data,
 * so it is not left out — the RMSE is then NaN or Infinity (a diverged network must not look good).
 * @throws when the lengths differ or the arrays are empty.
 */
export function rmse(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  if (truth.length !== predicted.length)
    throw new Error(`rmse: lengths ${truth.length} and ${predicted.length} differ`);
  if (truth.length === 0) throw new Error('rmse: no values');
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += (predicted[i] - truth[i]) ** 2;
  return Math.sqrt(s / truth.length);
}

/**
 * Theil–Sen slope of y against x: the median of the slopes (y_j − y_i) / (x_j − x_i) over all
 * pairs with x_i ≠ x_j (scipy.stats.theilslopes' estimate). A trend that a few outliers or a
 * series switching between two levels cannot drive, unlike least squares (breakdown point 29 %).
 * Pairs with a non-finite x or y are left out; NaN when no pair is left. O(n²) pairs: for series
 * of up to a few thousand points.
 * @throws when the lengths differ.
 */
export function theilSenSlope(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`theilSenSlope: lengths ${x.length} and ${y.length} differ`);
  const slopes: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) continue;
    for (let j = i + 1; j < x.length; j++) {
      if (!Number.isFinite(x[j]) || !Number.isFinite(y[j]) || x[j] === x[i]) continue;
      slopes.push((y[j] - y[i]) / (x[j] - x[i]));
    }
  }
  return median(slopes);
}

/** Options of {@link binnedStats}. */
export interface BinnedStatsOptions {
  /** Number of equal-width bins (a positive integer). */
  bins: number;
  /** Equal-width bins in x ('linear', default) or in log10 x ('log': x ≤ 0 is left out and counted). */
  scale?: 'linear' | 'log';
}

/** Statistics of y in bins of x, from {@link binnedStats}. Per-bin values are null for an empty bin. */
export interface BinnedStats {
  scale: 'linear' | 'log';
  /** Bin edges in x's unit (bins + 1, increasing; the last is max x exactly). Empty when no point is left. */
  edges: number[];
  /** Bin centres in x's unit (geometric for 'log'). */
  center: number[];
  /** Mean of y per bin. */
  mean: (number | null)[];
  /** Standard deviation of y per bin (n − 1; null below 2 values). */
  sd: (number | null)[];
  /** Median and 95th percentile of y per bin ({@link quantile}, type 7). */
  median: (number | null)[];
  p95: (number | null)[];
  count: number[];
  /** Points left out: non-finite x or y, or x ≤ 0 on a log scale. */
  excluded: number;
}

/**
 * Bin `y` on `x` over the range of the kept x themselves (the curve lies inside x's range by
 * construction) in `bins` equal-width bins on `scale`; the maximum falls in the last bin. Pairs
 * with a non-finite x or y (or x ≤ 0 on a log scale) are left out and counted in `excluded`.
 * When all kept x are equal there is one bin.
 */
export function binnedStats(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: BinnedStatsOptions,
): BinnedStats {
  const scale = opts.scale ?? 'linear';
  let bins = opts.bins;
  if (x.length !== y.length) throw new Error(`binnedStats: ${x.length} x values, ${y.length} y values`);
  if (!(Number.isInteger(bins) && bins >= 1))
    throw new Error(`binnedStats: bins must be a positive integer, got ${bins}`);
  const fwd = scale === 'log' ? Math.log10 : (v: number) => v;
  const inv = scale === 'log' ? (v: number) => 10 ** v : (v: number) => v;
  const keep: number[] = [];
  let excluded = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i]) || (scale === 'log' && !(x[i] > 0))) {
      excluded++;
      continue;
    }
    keep.push(i);
    lo = Math.min(lo, fwd(x[i]));
    hi = Math.max(hi, fwd(x[i]));
  }
  if (keep.length === 0)
    return { scale, edges: [], center: [], mean: [], sd: [], median: [], p95: [], count: [], excluded };
  if (!(hi > lo)) bins = 1;
  const width = hi > lo ? (hi - lo) / bins : 1;
  const buckets: number[][] = Array.from({ length: bins }, () => []);
  for (const i of keep) buckets[Math.min(bins - 1, Math.floor((fwd(x[i]) - lo) / width))].push(y[i]);
  const edgesT = Array.from({ length: bins + 1 }, (_, i) => (i === bins && hi > lo ? hi : lo + i * width));
  const sorted = buckets.map((b) => [...b].sort((p, q) => p - q));
  return {
    scale,
    edges: edgesT.map(inv),
    center: edgesT.slice(0, -1).map((e, i) => inv((e + edgesT[i + 1]) / 2)),
    mean: buckets.map((b) => (b.length ? b.reduce((s, v) => s + v, 0) / b.length : null)),
    sd: buckets.map((b) => {
      if (b.length < 2) return null;
      const m = b.reduce((s, v) => s + v, 0) / b.length;
      return Math.sqrt(b.reduce((s, v) => s + (v - m) ** 2, 0) / (b.length - 1));
    }),
    median: sorted.map((b) => (b.length ? sortedQuantile(b, 0.5) : null)),
    p95: sorted.map((b) => (b.length ? sortedQuantile(b, 0.95) : null)),
    count: buckets.map((b) => b.length),
    excluded,
  };
}

/** One block of {@link blockMeans}: its position (midpoint of the block's first and last x) and the mean of each series. */
export interface BlockMean {
  x: number;
  means: number[];
  /** Pixels of the block that entered the means. */
  count: number;
}

/**
 * Means of aligned series over consecutive blocks of `binPx` pixels, each mean over the pixels
 * where every series is finite (a long spectrum downsampled for a figure: a pixel missing in one
 * series, e.g. a detector gap of the observed flux, is left out of all of them; a block without
 * any such pixel is dropped). `binPx` = 1 keeps every complete pixel.
 */
export function blockMeans(
  x: ArrayLike<number>,
  series: ArrayLike<number | null>[],
  binPx: number,
): BlockMean[] {
  for (const s of series)
    if (s.length !== x.length)
      throw new Error(`blockMeans: a series has ${s.length} values, x has ${x.length}`);
  if (!(Number.isInteger(binPx) && binPx >= 1))
    throw new Error(`blockMeans: binPx must be a positive integer, got ${binPx}`);
  const out: BlockMean[] = [];
  const sums = new Array<number>(series.length);
  for (let i = 0; i < x.length; i += binPx) {
    const end = Math.min(x.length, i + binPx);
    sums.fill(0);
    let k = 0;
    for (let j = i; j < end; j++) {
      if (!series.every((s) => s[j] !== null && Number.isFinite(s[j]))) continue;
      series.forEach((s, t) => (sums[t] += s[j] as number));
      k++;
    }
    if (k === 0) continue;
    out.push({ x: (x[i] + x[end - 1]) / 2, means: sums.map((v) => v / k), count: k });
  }
  return out;
}
