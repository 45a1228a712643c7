// Numerical test helpers: assertAllClose with a report of the worst mismatch.

/** Options of `assertAllClose`: |actual - expected| <= atol + rtol |expected| elementwise. */
export interface AllCloseOptions {
  rtol?: number;
  atol?: number;
  /** Prefix for the error message. */
  label?: string;
}

/**
 * Throw unless every element satisfies |a - e| <= atol + rtol |e| (NaN only matches NaN).
 * The error names the worst element (index, both values, the excess ratio) and the count of
 * failing elements.
 */
export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: AllCloseOptions = {}): void {
  const { rtol = 1e-7, atol = 0, label = 'assertAllClose' } = opts;
  if (actual.length !== expected.length) throw new Error(`${label}: length ${actual.length} != expected ${expected.length}`);
  let worst = -1;
  let worstRatio = 0;
  let failures = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    const tol = atol + rtol * Math.abs(e);
    const diff = Math.abs(a - e);
    const ratio = Number.isNaN(diff) ? Infinity : tol === 0 ? (diff === 0 ? 0 : Infinity) : diff / tol;
    if (ratio > 1) failures++;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worst = i;
    }
  }
  if (failures > 0) {
    throw new Error(
      `${label}: ${failures}/${actual.length} elements differ beyond atol=${atol}, rtol=${rtol}; ` +
        `worst at index ${worst}: actual ${actual[worst]}, expected ${expected[worst]} ` +
        `(|diff| = ${Math.abs(actual[worst] - expected[worst]).toExponential(3)}, ${worstRatio.toPrecision(3)}x the tolerance)`,
    );
  }
}

/** Bitwise equality of two float arrays (first differing index in the error). */
export function assertBitwiseEqual(actual: Float32Array, expected: Float32Array, label = 'assertBitwiseEqual'): void {
  if (actual.length !== expected.length) throw new Error(`${label}: length ${actual.length} != ${expected.length}`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) throw new Error(`${label}: first difference at index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}
