// Test helper: element-wise closeness with the location of the worst mismatch in the message.
export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { rtol = 1e-7, atol = 0 } = {}): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(`not close (rtol ${rtol}, atol ${atol}): worst at index ${worst}: actual ${actual[worst]}, expected ${expected[worst]}`);
  }
}
