import {
  absDifferenceStats,
  binnedStats,
  blockMeans,
  median,
  quantile,
  quantileWithFailures,
  rmse,
  summarize,
  theilSenSlope,
} from './stats.js';

describe('order statistics', () => {
  test('quantile: linear interpolation between order statistics (numpy default), non-finite values left out', () => {
    // numpy.quantile([1, 2, 3, 4], [0, 0.25, 0.5, 0.95, 1]) = 1, 1.75, 2.5, 3.85, 4
    const x = [4, Number.NaN, 1, 3, Number.POSITIVE_INFINITY, 2];
    expect(quantile(x, 0)).toBe(1);
    expect(quantile(x, 0.25)).toBeCloseTo(1.75, 12);
    expect(median(x)).toBeCloseTo(2.5, 12);
    expect(quantile(x, 0.95)).toBeCloseTo(3.85, 12);
    expect(quantile(x, 1)).toBe(4);
    expect(quantile([Number.NaN], 0.5)).toBeNaN();
    expect(quantile([], 0.5)).toBeNaN();
    expect(quantile(new Float32Array([3, 1, 2]), 0.5)).toBe(2);
    expect(quantile([3, 1, 2, 4], 0.5)).toBe(2.5);
    // numpy.quantile([1, 2, 3, 4, 5], 0.16) = 1.64
    expect(quantile([1, 2, 3, 4, 5], 0.16)).toBeCloseTo(1.64, 12);
  });

  test('summarize: type-7 median and p95 and the maximum of the finite values; NaN without any', () => {
    // numpy.quantile([1, 2, 3, 4, 5], [0.5, 0.95]) = 3, 4.8
    const s = summarize([5, 1, Number.NaN, 4, 2, 3, Number.NEGATIVE_INFINITY]);
    expect(s.median).toBe(3);
    expect(s.p95).toBeCloseTo(4.8, 12);
    expect(s.max).toBe(5);
    // numpy.quantile(np.arange(1, 101), [0.5, 0.95]) = 50.5, 95.05
    const t = summarize(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(t.median).toBe(50.5);
    expect(t.p95).toBeCloseTo(95.05, 12);
    expect(t.max).toBe(100);
    expect(summarize([Number.NaN])).toEqual({ median: Number.NaN, p95: Number.NaN, max: Number.NaN });
  });

  test('absDifferenceStats: |a - b| over the pixels where both are finite; unequal lengths and no common pixel are errors', () => {
    const a = [1, 0.9, 0.8, Number.NaN, 0.5];
    const b = [1, 1, 1, 1, 1];
    const s = absDifferenceStats(a, b);
    // |ΔF| = 0, 0.1, 0.2, 0.5 -> median 0.15, max 0.5, p95 = 0.2 + 0.85 * 0.3
    expect(s.median).toBeCloseTo(0.15, 12);
    expect(s.max).toBeCloseTo(0.5, 12);
    expect(s.p95).toBeCloseTo(0.455, 12);
    expect(() => absDifferenceStats([1], [1, 2])).toThrow(/lengths 1 and 2 differ/);
    expect(() => absDifferenceStats([Number.NaN], [1])).toThrow(/no pixel/);
  });

  test('rmse: over every pair; a non-finite prediction makes it non-finite (not left out); empty or unequal lengths are an error', () => {
    expect(rmse([0, 0], [3, 4])).toBeCloseTo(Math.sqrt(12.5), 12);
    expect(rmse([0, 0, 0], [3, 4, Number.NaN])).toBeNaN();
    expect(rmse([1], [Number.POSITIVE_INFINITY])).toBe(Number.POSITIVE_INFINITY);
    expect(() => rmse([], [])).toThrow(/no values/);
    expect(() => rmse([1], [1, 2])).toThrow(/lengths 1 and 2 differ/);
  });
});

describe('quantileWithFailures', () => {
  test('failures rank above every value: the median is defined while fewer than half failed', () => {
    expect(quantileWithFailures([3, null, 1, 2, null], 0.5)).toBe(3);
    expect(quantileWithFailures([3, null, 1, 2], 0.5)).toBeCloseTo(2.5, 12);
    expect(quantileWithFailures([3, null, null, 1], 0.5)).toBeNull();
    expect(quantileWithFailures([1, 2, 3, 4, null], 0.95)).toBeNull();
    expect(quantileWithFailures([1, 2, 3, 4], 0.95)).toBeCloseTo(3.85, 12);
    expect(quantileWithFailures([3, Number.NaN, 1, 2], 0.5)).toBeCloseTo(2.5, 12);
    expect(quantileWithFailures([], 0.5)).toBeNull();
  });
});

describe('binnedStats', () => {
  test('equal-width bins on x (log R), mean, sd (n − 1), median and p95 per bin, against hand-computed values', () => {
    const lin = binnedStats([1, 2, 3, 4, Number.NaN], [1, 3, 5, 7, 9], { bins: 2 });
    expect(lin.edges).toEqual([1, 2.5, 4]);
    expect(lin.center).toEqual([1.75, 3.25]);
    expect(lin.mean).toEqual([2, 6]);
    expect(lin.sd[0]).toBeCloseTo(Math.SQRT2, 12);
    expect(lin.median).toEqual([2, 6]);
    // type 7 of [1, 3]: 1 + 0.95 * 2
    expect(lin.p95[0]).toBeCloseTo(2.9, 12);
    expect(lin.count).toEqual([2, 2]);
    expect(lin.excluded).toBe(1);
    // Log scale: 0 is left out; bins equal in log10 x; centres geometric.
    const log = binnedStats([0, 1000, 10_000, 100_000], [5, 1, 2, 4], { bins: 2, scale: 'log' });
    expect(log.excluded).toBe(1);
    expect(log.edges.map((e) => Math.log10(e))).toEqual([3, 4, 5].map((v) => expect.closeTo(v, 12)));
    expect(log.center[0]).toBeCloseTo(10 ** 3.5, 6);
    expect(log.mean).toEqual([1, 3]);
    expect(log.sd).toEqual([null, expect.closeTo(Math.SQRT2, 12)]);
  });

  test('non-finite y is left out and counted, empty bins are null, equal x give one bin, no point gives no bin', () => {
    const s = binnedStats([0, 1, 3, 4, 2], [1, Number.NaN, 2, 3, Number.POSITIVE_INFINITY], { bins: 4 });
    expect(s.excluded).toBe(2);
    expect(s.count).toEqual([1, 0, 0, 2]);
    expect(s.median).toEqual([1, null, null, 2.5]);
    expect(s.edges.at(-1)).toBe(4);
    const flat = binnedStats([2, 2, 2], [1, 2, 3], { bins: 5 });
    expect(flat.count).toEqual([3]);
    expect(flat.median).toEqual([2]);
    expect(binnedStats([Number.NaN], [1], { bins: 3 })).toMatchObject({ edges: [], count: [], excluded: 1 });
    expect(() => binnedStats([1], [1, 2], { bins: 1 })).toThrow(/1 x values, 2 y values/);
    expect(() => binnedStats([1], [1], { bins: 0 })).toThrow(/bins must be a positive integer/);
  });
});

test('blockMeans: block means over the pixels where every series is finite; blocks without one are dropped', () => {
  const b = blockMeans(
    [0, 1, 2, 3, 4, 5, 6],
    [
      [1, null, 3, 5, null, null, 7],
      [2, 4, 6, 8, 10, 12, 14],
    ],
    3,
  );
  expect(b).toEqual([
    { x: 1, means: [2, 4], count: 2 },
    { x: 4, means: [5, 8], count: 1 },
    { x: 6, means: [7, 14], count: 1 },
  ]);
  expect(blockMeans([0, 1], [[null, Number.NaN]], 2)).toEqual([]);
  expect(() => blockMeans([0, 1], [[1]], 1)).toThrow(/series has 1 values/);
  expect(() => blockMeans([0], [[1]], 0)).toThrow(/binPx/);
});

describe('theilSenSlope', () => {
  test('the median of pairwise slopes: scipy.stats.theilslopes on the same series, a line through outliers', () => {
    // scipy.stats.theilslopes([1, 3, 5, 40, 9, 11, -20, 15, 17, 19], range(10))[0] = 2.0
    expect(theilSenSlope([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 5, 40, 9, 11, -20, 15, 17, 19])).toBeCloseTo(
      2,
      12,
    );
    // scipy.stats.theilslopes([0, 0, 30, 0, 30, 30], range(6))[0] = 6.0
    expect(theilSenSlope([0, 1, 2, 3, 4, 5], [0, 0, 30, 0, 30, 30])).toBeCloseTo(6, 12);
    // a straight line comes back exactly; least squares is pulled by one outlier, Theil–Sen is not
    const x = Array.from({ length: 50 }, (_, i) => i);
    const y = x.map((v) => 0.25 * v + 3);
    expect(theilSenSlope(x, y)).toBeCloseTo(0.25, 12);
    y[49] += 1000;
    expect(theilSenSlope(x, y)).toBeCloseTo(0.25, 12);
  });

  test('non-finite points and equal x are left out; NaN without a pair; lengths must agree', () => {
    expect(theilSenSlope([0, 1, Number.NaN, 3], [0, 2, 5, 6])).toBeCloseTo(2, 12);
    expect(theilSenSlope([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(theilSenSlope([], [])).toBeNaN();
    expect(() => theilSenSlope([1, 2], [1])).toThrow(/lengths 2 and 1/);
  });
});
