// Small statistics helpers: quantiles, RMSE and a seeded random number generator.

import { median, quantile } from '@stellar-emu/grid-io';

/** The project's one quantile (non-finite values left out), re-exported for the report's callers. */
export { median, quantile };

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

/** Binned statistics of `y` against one label `x` (a marginal panel of the CVAE paper's Fig. 6). */
export interface Marginal {
  /** Equal-width bins in x ('linear') or in log10 x ('log': x ≤ 0 is left out and counted). */
  scale: 'linear' | 'log';
  /** Bin edges in x's unit (bins + 1, increasing). */
  edges: number[];
  /** Bin centres in x's unit (geometric for 'log'). */
  center: number[];
  /** Mean, standard deviation (n − 1; null below 2 values) and median of y per bin; null when empty. */
  mean: (number | null)[];
  sd: (number | null)[];
  median: (number | null)[];
  count: number[];
  /** Points left out: non-finite x or y, or x ≤ 0 on a log scale. */
  excluded: number;
}

/**
 * Bin `y` on `x` over the range of x itself (each label is binned on its own values: the panel's
 * curve lies inside the label's range by construction), `bins` equal-width bins on `scale`.
 */
export function binnedMarginal(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  bins: number,
  scale: 'linear' | 'log' = 'linear',
): Marginal {
  if (x.length !== y.length) throw new Error(`binnedMarginal: ${x.length} x values, ${y.length} y values`);
  if (!(Number.isInteger(bins) && bins >= 1)) throw new Error(`binnedMarginal: bins must be a positive integer, got ${bins}`);
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
  if (keep.length === 0) return { scale, edges: [], center: [], mean: [], sd: [], median: [], count: [], excluded };
  if (!(hi > lo)) bins = 1;
  const width = hi > lo ? (hi - lo) / bins : 1;
  const buckets: number[][] = Array.from({ length: bins }, () => []);
  for (const i of keep) buckets[Math.min(bins - 1, Math.floor((fwd(x[i]) - lo) / width))].push(y[i]);
  const edgesT = Array.from({ length: bins + 1 }, (_, i) => (i === bins && hi > lo ? hi : lo + i * width));
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
    median: buckets.map((b) => (b.length ? median(b) : null)),
    count: buckets.map((b) => b.length),
    excluded,
  };
}

/** One block of `blockMeans`: its position (midpoint of the block's first and last x) and the mean of each series. */
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
    if (s.length !== x.length) throw new Error(`blockMeans: a series has ${s.length} values, x has ${x.length}`);
  if (!(Number.isInteger(binPx) && binPx >= 1)) throw new Error(`blockMeans: binPx must be a positive integer, got ${binPx}`);
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
