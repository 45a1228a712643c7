// Seeded pseudo-random numbers: xoshiro128** seeded by splitmix32, whose whole state can be saved and restored.

/** The four 32-bit words of a xoshiro128** generator (what {@link Rng.state} returns and the constructor accepts). */
export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * One 32-bit word from a safe-integer seed: seeds in [0, 2^32) are taken as they are; any other
 * safe integer (negative, or 2^32 and above) has the two 32-bit words of its 64-bit two's
 * complement folded together (lo ^ hi · 0x27d4eb2d), so distinct large seeds give distinct streams.
 */
function seedWord(seed: number, what: string): number {
  if (!Number.isSafeInteger(seed)) throw new Error(`${what} must be a safe integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  return (lo ^ Math.imul(hi, 0x27d4eb2d)) >>> 0;
}

/**
 * Mix a base seed with integer parts (epoch, layer index, spectrum index, a constant naming the
 * purpose, ...) into a new 32-bit seed, so that independent streams are derived without sharing
 * state: `new Rng(deriveSeed(seed, epoch))`. The same arguments always give the same seed.
 * @param seed a safe integer (folded into 32 bits as the {@link Rng} constructor does).
 * @param parts safe integers, mixed in order.
 * @returns an unsigned 32-bit integer.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = splitmix32(seedWord(seed, 'deriveSeed: seed'))();
  for (const p of parts) h = splitmix32((h ^ Math.imul(seedWord(p, 'deriveSeed: part'), 0x27d4eb2f)) >>> 0)();
  return h >>> 0;
}

/**
 * Seeded pseudo-random generator (xoshiro128**, its state filled by splitmix32 from the seed):
 * deterministic for a seed on every platform (pure 32-bit integer arithmetic), not cryptographic,
 * never tf's global random state. The four state words are everything it holds (no cached normal
 * deviate), so `new Rng(rng.state())` continues the stream exactly: training checkpoints store it.
 *
 * Draws: {@link nextUint32}, {@link uniform}, {@link normal}, {@link below}, {@link permutation}.
 */
export class Rng {
  private readonly s = new Uint32Array(4);

  /**
   * @param seedOrState a safe-integer seed (see {@link deriveSeed} for independent streams; seeds
   *   in [0, 2^32) are used as they are, other safe integers are folded into 32 bits), or a state
   *   from {@link state} (four unsigned 32-bit integers, not all zero) to resume a stream.
   */
  constructor(seedOrState: number | RngState) {
    if (typeof seedOrState === 'number') {
      const next = splitmix32(seedWord(seedOrState, 'Rng: seed'));
      for (let i = 0; i < 4; i++) this.s[i] = next();
      if (this.s.every((x) => x === 0)) this.s[0] = 1;
    } else {
      if (!Array.isArray(seedOrState) || seedOrState.length !== 4)
        throw new Error('Rng: a state must have 4 words');
      for (const w of seedOrState)
        if (!(Number.isInteger(w) && w >= 0 && w < 2 ** 32))
          throw new Error(`Rng: state words must be unsigned 32-bit integers, got ${w}`);
      if (seedOrState.every((w) => w === 0))
        throw new Error('Rng: the all-zero state is not a valid xoshiro128** state');
      for (let i = 0; i < 4; i++) this.s[i] = seedOrState[i];
    }
  }

  /** The current state: `new Rng(state)` continues the stream from here. */
  state(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  /** Next uniformly distributed unsigned 32-bit integer (the raw xoshiro128** output). */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /**
   * Uniform double in [lo, hi): lo + (hi − lo) · u with u in [0, 1) from 53 random bits (two
   * words). `uniform()` is u itself; `uniform(lo, lo)` is lo.
   * @param lo lower bound, finite (default 0).
   * @param hi upper bound, finite and >= lo (default 1).
   */
  uniform(lo = 0, hi = 1): number {
    if (!(Number.isFinite(lo) && Number.isFinite(hi - lo) && hi >= lo))
      throw new Error(`Rng.uniform: need finite lo <= hi, got [${lo}, ${hi}]`);
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return lo + (hi - lo) * ((a * 67108864 + b) / 9007199254740992);
  }

  /**
   * Normal deviate mean + sd · z, z standard normal by Box–Muller: one value per call from two
   * uniforms (the second deviate of the pair is not cached, so the state stays four words).
   * @param mean finite (default 0).
   * @param sd standard deviation, finite and >= 0 (default 1).
   */
  normal(mean = 0, sd = 1): number {
    if (!(Number.isFinite(mean) && Number.isFinite(sd) && sd >= 0))
      throw new Error(`Rng.normal: need finite mean and sd >= 0, got mean=${mean}, sd=${sd}`);
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return mean + sd * (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }

  /**
   * Uniform integer in [0, n) without modulo bias (rejection sampling on 32-bit words).
   * @param n an integer in [1, 2^32].
   */
  below(n: number): number {
    if (!(Number.isInteger(n) && n >= 1 && n <= 2 ** 32))
      throw new Error(`Rng.below: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /**
   * A uniformly random permutation of 0..n−1 (Fisher–Yates with {@link below}).
   * @param n a non-negative integer below 2^31.
   */
  permutation(n: number): Int32Array {
    if (!(Number.isInteger(n) && n >= 0 && n < 2 ** 31))
      throw new Error(`Rng.permutation: n must be an integer in [0, 2^31), got ${n}`);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
