// Small dense linear algebra in float64: column orthonormalization and the symmetric Jacobi eigensolver.

/**
 * A dense matrix stored column-major: column j is `data.subarray(j * rows, (j + 1) * rows)`.
 * Tall-skinny bases (pixels x components) are kept this way so that column operations are
 * contiguous.
 */
export interface ColMatrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** Copy a row-major [rows, cols] array into a column-major float64 matrix. */
export function fromRowMajor(src: ArrayLike<number>, rows: number, cols: number): ColMatrix {
  if (src.length !== rows * cols)
    throw new Error(`fromRowMajor: ${src.length} values for a ${rows}x${cols} matrix`);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[j * rows + i] = src[i * cols + j];
  return { rows, cols, data };
}

/** The column-major matrix as a row-major float32 array (for tensors). */
export function toRowMajorF32(m: ColMatrix): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  for (let j = 0; j < m.cols; j++) {
    const col = m.data.subarray(j * m.rows, (j + 1) * m.rows);
    for (let i = 0; i < m.rows; i++) out[i * m.cols + j] = col[i];
  }
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Orthonormalize the columns of `m` in place by classical Gram-Schmidt applied twice
 * ("CGS2", numerically as orthogonal as Householder for full-rank input). A column that is
 * (numerically) in the span of the previous ones is replaced by a deterministic pseudo-random
 * direction orthogonal to them, so the result always has orthonormal columns.
 */
export function orthonormalizeColumns(m: ColMatrix, fillSeed = 1): void {
  const { rows, cols, data } = m;
  if (cols > rows) throw new Error(`orthonormalizeColumns: ${cols} columns exceed ${rows} rows`);
  const col = (j: number) => data.subarray(j * rows, (j + 1) * rows);
  let fill = fillSeed >>> 0 || 1;
  const nextFill = () => {
    fill ^= fill << 13;
    fill ^= fill >>> 17;
    fill ^= fill << 5;
    return ((fill >>> 0) / 4294967296) * 2 - 1;
  };
  for (let j = 0; j < cols; j++) {
    const v = col(j);
    const norm0 = Math.sqrt(dot(v, v));
    for (let attempt = 0; ; attempt++) {
      for (let pass = 0; pass < 2; pass++) {
        for (let i = 0; i < j; i++) {
          const q = col(i);
          const r = dot(q, v);
          for (let t = 0; t < rows; t++) v[t] -= r * q[t];
        }
      }
      const norm = Math.sqrt(dot(v, v));
      if (norm > 1e-10 * Math.max(norm0, Number.MIN_VALUE) && norm > 0 && attempt < 5) {
        for (let t = 0; t < rows; t++) v[t] /= norm;
        break;
      }
      if (attempt >= 5) throw new Error('orthonormalizeColumns: could not complete the basis');
      for (let t = 0; t < rows; t++) v[t] = nextFill();
    }
  }
}

/** Eigen-decomposition of a symmetric matrix: values descending, vectors as matching columns. */
export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** n x n, column j is the unit eigenvector of values[j]. */
  vectors: ColMatrix;
  /** Number of Jacobi sweeps used. */
  sweeps: number;
}

/**
 * Eigen-decomposition of a symmetric n x n matrix (row-major input, symmetrized) by the cyclic
 * Jacobi method in float64: rotations until every off-diagonal element is below
 * 1e-15 of the Frobenius norm (or 100 sweeps). Meant for small n (the PCA's k + p).
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  if (a.length !== n * n) throw new Error(`symmetricEigen: ${a.length} values for ${n}x${n}`);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]);
  const V = new Float64Array(n * n); // row-major, columns are eigenvectors
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let frob = 0;
  for (let i = 0; i < n * n; i++) frob += A[i] * A[i];
  frob = Math.sqrt(frob);
  let sweeps = 0;
  for (; sweeps < 100; sweeps++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] * A[p * n + q];
    if (Math.sqrt(2 * off) <= 1e-15 * frob || frob === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        const app = A[p * n + p];
        const aqq = A[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p];
          const akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k];
          const aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p];
          const vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => A[y * n + y] - A[x * n + x]);
  const values = new Float64Array(n);
  const vectors: ColMatrix = { rows: n, cols: n, data: new Float64Array(n * n) };
  order.forEach((src, j) => {
    values[j] = A[src * n + src];
    for (let k = 0; k < n; k++) vectors.data[j * n + k] = V[k * n + src];
  });
  return { values, vectors, sweeps };
}

/** C = A B for column-major A (m x n) and B (n x p). */
export function matMulCol(a: ColMatrix, b: ColMatrix): ColMatrix {
  if (a.cols !== b.rows) throw new Error(`matMulCol: ${a.rows}x${a.cols} times ${b.rows}x${b.cols}`);
  const out: ColMatrix = { rows: a.rows, cols: b.cols, data: new Float64Array(a.rows * b.cols) };
  for (let j = 0; j < b.cols; j++) {
    const oc = out.data.subarray(j * a.rows, (j + 1) * a.rows);
    for (let k = 0; k < a.cols; k++) {
      const bkj = b.data[j * b.rows + k];
      if (bkj === 0) continue;
      const ac = a.data.subarray(k * a.rows, (k + 1) * a.rows);
      for (let i = 0; i < a.rows; i++) oc[i] += ac[i] * bkj;
    }
  }
  return out;
}

/** Aᵀ B for column-major A (m x n) and B (m x p): an n x p matrix. */
export function matTMulCol(a: ColMatrix, b: ColMatrix): ColMatrix {
  if (a.rows !== b.rows) throw new Error(`matTMulCol: ${a.rows}x${a.cols}ᵀ times ${b.rows}x${b.cols}`);
  const out: ColMatrix = { rows: a.cols, cols: b.cols, data: new Float64Array(a.cols * b.cols) };
  for (let i = 0; i < a.cols; i++) {
    const ac = a.data.subarray(i * a.rows, (i + 1) * a.rows);
    for (let j = 0; j < b.cols; j++)
      out.data[j * a.cols + i] = dot(ac, b.data.subarray(j * b.rows, (j + 1) * b.rows));
  }
  return out;
}
