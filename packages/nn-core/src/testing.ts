// Numerical test helper: bitwise equality of float arrays (closeness with tolerances: `assertAllClose` from
// `@stellar-emu/numerics/testing`).

/** Bitwise equality of two float arrays (first differing index in the error). */
export function assertBitwiseEqual(
  actual: Float32Array,
  expected: Float32Array,
  label = 'assertBitwiseEqual',
): void {
  if (actual.length !== expected.length)
    throw new Error(`${label}: length ${actual.length} != ${expected.length}`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i])
      throw new Error(`${label}: first difference at index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}
