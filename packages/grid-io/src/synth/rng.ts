// Seeded pseudo-random numbers: xoshiro128** seeded by splitmix32, plus a Gaussian sampler.

/** A seeded stream of pseudo-random numbers (not cryptographic). */
export interface Rng {
  /** The seed this stream was created with. */
  readonly seed: number;
  /** Next unsigned 32-bit integer. */
  nextUint32(): number;
  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number;
  /** Uniform double in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal deviate (mean 0, standard deviation 1), Box–Muller. */
  normal(): number;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Create a seeded generator (xoshiro128**, state filled by splitmix32 from the seed).
 * The same seed always gives the same stream on every platform.
 * @param seed a safe integer (negative values and values above 2^32 are folded into 64 bits).
 */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new Error(`createRng: seed must be a safe integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  const sm = splitmix32(lo ^ Math.imul(hi, 0x27d4eb2d));
  let a = sm();
  let b = sm();
  let c = sm();
  let d = sm();
  if ((a | b | c | d) === 0) a = 1;
  let spare: number | null = null;

  const nextUint32 = (): number => {
    const t = b << 9;
    let r = Math.imul(b, 5);
    r = Math.imul((r << 7) | (r >>> 25), 9);
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = (d << 11) | (d >>> 21);
    return r >>> 0;
  };
  const next = (): number => (nextUint32() * 2 ** 21 + (nextUint32() >>> 11)) / 2 ** 53;
  return {
    seed,
    nextUint32,
    next,
    uniform(loV: number, hiV: number): number {
      if (!(Number.isFinite(loV) && Number.isFinite(hiV) && hiV >= loV)) {
        throw new Error(`Rng.uniform: need finite lo <= hi, got [${loV}, ${hiV}]`);
      }
      return loV + (hiV - loV) * next();
    },
    int(n: number): number {
      if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`Rng.int: n must be a positive integer, got ${n}`);
      return Math.floor(next() * n);
    },
    normal(): number {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}

/**
 * Draw one Gaussian deviate with the given mean and standard deviation from `rng`.
 * @param sd standard deviation, >= 0.
 */
export function sampleGaussian(rng: Rng, mean = 0, sd = 1): number {
  if (!(Number.isFinite(mean) && Number.isFinite(sd) && sd >= 0)) {
    throw new Error(`sampleGaussian: need finite mean and sd >= 0, got mean=${mean}, sd=${sd}`);
  }
  return mean + sd * rng.normal();
}
