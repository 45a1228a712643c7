// Test helper: element-wise closeness with relative and absolute tolerance, reporting the worst mismatch.

/** Tolerances of {@link assertAllClose}: |a - e| <= atol + rtol * |e| (numpy's rule). */
export interface CloseOptions {
  rtol?: number;
  atol?: number;
  /** Treat NaN == NaN as equal (default true). */
  equalNan?: boolean;
  /** Prefix for the error message. */
  label?: string;
}

/**
 * Throw unless every `actual[i]` is within `atol + rtol * |expected[i]|` of `expected[i]`
 * (defaults rtol = 1e-7, atol = 0). The message names the worst element (by excess over its
 * tolerance), its values, the errors there, and how many elements fail.
 */
export function assertAllClose(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, opts: CloseOptions = {}): void {
  const rtol = opts.rtol ?? 1e-7;
  const atol = opts.atol ?? 0;
  const equalNan = opts.equalNan ?? true;
  const a = typeof actual === 'number' ? [actual] : actual;
  const e = typeof expected === 'number' ? [expected] : expected;
  const prefix = opts.label ? `${opts.label}: ` : '';
  if (a.length !== e.length) throw new Error(`${prefix}length mismatch: actual ${a.length}, expected ${e.length}`);
  let worst = -1;
  let worstExcess = -Infinity;
  let failures = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = e[i];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (equalNan && Number.isNaN(x) && Number.isNaN(y)) continue;
      failures++;
      if (worstExcess < Infinity) {
        worst = i;
        worstExcess = Infinity;
      }
      continue;
    }
    if (x === y) continue;
    const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (excess > 0 || !Number.isFinite(excess)) {
      failures++;
      if (excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (failures > 0) {
    const x = a[worst];
    const y = e[worst];
    const abs = Math.abs(x - y);
    const rel = y !== 0 ? abs / Math.abs(y) : Infinity;
    throw new Error(
      `${prefix}not close (rtol=${rtol}, atol=${atol}): ${failures} of ${a.length} elements differ; worst at index ${worst}: actual ${x}, expected ${y}, |diff| ${abs.toExponential(3)}, rel ${rel.toExponential(3)}`,
    );
  }
}
