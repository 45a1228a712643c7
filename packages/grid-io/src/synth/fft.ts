// In-place radix-2 complex FFT and real-signal transforms on Float64Arrays (used for broadening convolutions).

interface FftPlan {
  n: number;
  bitrev: Uint32Array;
  /** Twiddles of all stages, contiguous per stage: stage with half-size h starts at offset h - 1. */
  wr: Float64Array;
  wi: Float64Array;
}

const plans = new Map<number, FftPlan>();
const realTwiddles = new Map<number, { c: Float64Array; s: Float64Array }>();

/** cos and sin of 2 pi k / n for k = 0..n/2, cached per n. */
function twiddlesForReal(n: number): { c: Float64Array; s: Float64Array } {
  let t = realTwiddles.get(n);
  if (!t) {
    const h = n / 2;
    const c = new Float64Array(h + 1);
    const s = new Float64Array(h + 1);
    for (let k = 0; k <= h; k++) {
      c[k] = Math.cos((2 * Math.PI * k) / n);
      s[k] = Math.sin((2 * Math.PI * k) / n);
    }
    t = { c, s };
    realTwiddles.set(n, t);
  }
  return t;
}

function plan(n: number): FftPlan {
  let p = plans.get(n);
  if (p) return p;
  if (!Number.isInteger(n) || n < 2 || (n & (n - 1)) !== 0)
    throw new Error(`fft: length must be a power of two >= 2, got ${n}`);
  const bits = Math.log2(n);
  const bitrev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >>> b) & 1) << (bits - 1 - b);
    bitrev[i] = r;
  }
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  for (let half = 1; half < n; half *= 2) {
    for (let k = 0; k < half; k++) {
      wr[half - 1 + k] = Math.cos((Math.PI * k) / half);
      wi[half - 1 + k] = -Math.sin((Math.PI * k) / half);
    }
  }
  p = { n, bitrev, wr, wi };
  plans.set(n, p);
  return p;
}

/** Smallest power of two >= n. */
export function nextPowerOfTwo(n: number): number {
  let m = 1;
  while (m < n) m *= 2;
  return m;
}

/**
 * In-place discrete Fourier transform of (re, im), length a power of two.
 * Forward: X_k = sum_j x_j exp(-2 pi i j k / n). Inverse (`inverse = true`) uses exp(+...) and
 * divides by n, so inverse(forward(x)) = x.
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (im.length !== n) throw new Error(`fft: re and im lengths differ (${n} vs ${im.length})`);
  const { bitrev, wr, wi } = plan(n);
  for (let i = 0; i < n; i++) {
    const j = bitrev[i];
    if (j > i) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  const sign = inverse ? -1 : 1;
  for (let i = 0; i < n; i += 2) {
    const ar = re[i],
      ai = im[i],
      br = re[i + 1],
      bi = im[i + 1];
    re[i] = ar + br;
    im[i] = ai + bi;
    re[i + 1] = ar - br;
    im[i + 1] = ai - bi;
  }
  for (let half = 2; half < n; half *= 2) {
    const size = 2 * half;
    const off = half - 1;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const c = wr[off + k];
        const s = sign * wi[off + k];
        const a = start + k;
        const b = a + half;
        const br = re[b],
          bi = im[b];
        const xr = br * c - bi * s;
        const xi = br * s + bi * c;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
  if (inverse) {
    const s = 1 / n;
    for (let i = 0; i < n; i++) {
      re[i] *= s;
      im[i] *= s;
    }
  }
}

/**
 * Forward FFT of a real signal x (length n, a power of two >= 4) through one complex FFT of
 * length n/2. Returns the non-negative frequencies k = 0..n/2 as (re, im) arrays of n/2 + 1.
 */
export function rfft(x: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = x.length;
  const h = n / 2;
  const zr = new Float64Array(h);
  const zi = new Float64Array(h);
  for (let j = 0; j < h; j++) {
    zr[j] = x[2 * j];
    zi[j] = x[2 * j + 1];
  }
  fft(zr, zi);
  const tw = twiddlesForReal(n);
  const re = new Float64Array(h + 1);
  const im = new Float64Array(h + 1);
  for (let k = 0; k <= h; k++) {
    const a = k % h;
    const b = (h - k) % h;
    const er = 0.5 * (zr[a] + zr[b]);
    const ei = 0.5 * (zi[a] - zi[b]);
    const orr = 0.5 * (zi[a] + zi[b]);
    const oi = -0.5 * (zr[a] - zr[b]);
    const c = tw.c[k];
    const s = -tw.s[k];
    re[k] = er + orr * c - oi * s;
    im[k] = ei + orr * s + oi * c;
  }
  return { re, im };
}

/** Inverse of {@link rfft}: the real signal of length n = 2 (re.length - 1) from its half spectrum. */
export function irfft(re: Float64Array, im: Float64Array): Float64Array {
  const h = re.length - 1;
  const n = 2 * h;
  const zr = new Float64Array(h);
  const zi = new Float64Array(h);
  const tw = twiddlesForReal(n);
  for (let k = 0; k < h; k++) {
    const br = re[h - k],
      bi = -im[h - k];
    const er = 0.5 * (re[k] + br);
    const ei = 0.5 * (im[k] + bi);
    const dr = 0.5 * (re[k] - br);
    const di = 0.5 * (im[k] - bi);
    const c = tw.c[k];
    const s = tw.s[k];
    const orr = dr * c - di * s;
    const oi = dr * s + di * c;
    zr[k] = er - oi;
    zi[k] = ei + orr;
  }
  fft(zr, zi, true);
  const x = new Float64Array(n);
  for (let j = 0; j < h; j++) {
    x[2 * j] = zr[j];
    x[2 * j + 1] = zi[j];
  }
  return x;
}
