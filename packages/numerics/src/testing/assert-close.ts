// Test helper: element-wise closeness with relative and absolute tolerance, reporting the worst mismatch.

/** Tolerances of {@link assertAllClose}: |actual − expected| <= atol + rtol · |expected| (numpy's rule). */
export interface CloseOptions {
  /** Relative tolerance (default 1e-7). */
  rtol?: number;
  /** Absolute tolerance (default 0). */
  atol?: number;
  /** Treat NaN == NaN as equal (default true); a NaN against a number always fails. */
  equalNan?: boolean;
  /** Prefix for the error message. */
  label?: string;
}

/**
 * Throw unless every `actual[i]` is within `atol + rtol · |expected[i]|` of `expected[i]`
 * (numbers compare as one-element arrays; equal infinities are close). The message names how
 * many elements fail and the worst one (by excess over its tolerance): its index, both values,
 * the absolute and relative errors there and the error as a multiple of the tolerance.
 */
export function assertAllClose(
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  opts: CloseOptions = {},
): void {
  const rtol = opts.rtol ?? 1e-7;
  const atol = opts.atol ?? 0;
  const equalNan = opts.equalNan ?? true;
  if (!(rtol >= 0 && atol >= 0))
    throw new Error(`assertAllClose: tolerances must be >= 0, got rtol=${rtol}, atol=${atol}`);
  const a = typeof actual === 'number' ? [actual] : actual;
  const e = typeof expected === 'number' ? [expected] : expected;
  const prefix = opts.label ? `${opts.label}: ` : '';
  if (a.length !== e.length)
    throw new Error(`${prefix}length mismatch: actual ${a.length}, expected ${e.length}`);
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
    const diff = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    // An infinity against a finite value (or an infinite tolerance against an infinity): the worst kind.
    const excess = Number.isNaN(diff) ? Infinity : diff;
    if (excess > 0) {
      failures++;
      if (excess > worstExcess || worst < 0) {
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
    const tol = atol + rtol * Math.abs(y);
    const times = tol > 0 ? `${(abs / tol).toPrecision(3)}x the tolerance` : 'tolerance 0';
    throw new Error(
      `${prefix}not close (rtol=${rtol}, atol=${atol}): ${failures} of ${a.length} elements differ; worst at index ${worst}: ` +
        `actual ${x}, expected ${y}, |diff| ${abs.toExponential(3)}, rel ${rel.toExponential(3)} (${times})`,
    );
  }
}
