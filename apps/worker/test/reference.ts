// Plain-JS references for the tfjs computations under test (float64 accumulation).

/** ||A·B||_F for row-major square matrices of side n. */
export function frobeniusOfProduct(a: Float32Array, b: Float32Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let c = 0;
      for (let k = 0; k < n; k++) c += a[i * n + k] * b[k * n + j];
      sum += c * c;
    }
  }
  return Math.sqrt(sum);
}
