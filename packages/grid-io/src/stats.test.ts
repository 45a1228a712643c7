import { absDifferenceStats, median, quantile, quantileWithFailures } from './stats.js';

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
    expect(quantile(new Float32Array([3, 1, 2]), 0.5)).toBe(2);
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
});

describe('quantileWithFailures', () => {
  test('failures rank above every value: the median is defined while fewer than half failed', () => {
    expect(quantileWithFailures([3, null, 1, 2, null], 0.5)).toBe(3);
    expect(quantileWithFailures([3, null, 1, 2], 0.5)).toBeCloseTo(2.5, 12);
    expect(quantileWithFailures([3, null, null, 1], 0.5)).toBeNull();
    expect(quantileWithFailures([1, 2, 3, 4, null], 0.95)).toBeNull();
    expect(quantileWithFailures([1, 2, 3, 4], 0.95)).toBeCloseTo(3.85, 12);
    expect(quantileWithFailures([], 0.5)).toBeNull();
  });
});
