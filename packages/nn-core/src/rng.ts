// Seeded pseudo-random numbers (xoshiro128**) whose whole state can be saved and restored.

/** The four 32-bit words of a xoshiro128** generator. */
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
 * Mix a base seed with integer parts (epoch, layer index, ...) into a new 32-bit seed,
 * so that independent streams can be derived without sharing state.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = splitmix32(seed)();
  for (const p of parts) h = splitmix32((h ^ Math.imul(p >>> 0, 0x27d4eb2f)) >>> 0)();
  return h >>> 0;
}

/**
 * xoshiro128** generator: deterministic for a seed on every platform (pure 32-bit integer
 * arithmetic), with a serializable state. Never uses tf's global random state.
 */
export class Rng {
  private readonly s = new Uint32Array(4);

  constructor(seedOrState: number | RngState) {
    if (typeof seedOrState === 'number') {
      const next = splitmix32(seedOrState);
      for (let i = 0; i < 4; i++) this.s[i] = next();
      if (this.s.every((x) => x === 0)) this.s[0] = 1;
    } else {
      if (seedOrState.length !== 4) throw new Error('Rng state must have 4 words');
      for (let i = 0; i < 4; i++) this.s[i] = seedOrState[i] >>> 0;
    }
  }

  /** The current state (restore with `new Rng(state)`). */
  state(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
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

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal deviate (Box-Muller, one value per call: no cached second value). */
  normal(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n) without modulo bias. */
  below(n: number): number {
    if (n <= 0 || n > 2 ** 32) throw new Error(`Rng.below: n=${n} out of range`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
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
