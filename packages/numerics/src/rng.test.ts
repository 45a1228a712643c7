import { deriveSeed, Rng } from './rng.js';

/** FNV-1a over bytes: a compact fingerprint of a long stream. */
function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

describe('Rng stream: bitwise identical to the generator training runs and checkpoints were made with', () => {
  // Reference values from nn-core's Rng (xoshiro128** seeded by splitmix32) before the move to numerics.
  const golden = {
    0: {
      u32: [3809008728, 1133695204, 53579671, 2891528803, 139681546, 2203266335],
      uniform: [0.024408060085556516, 0.6123124436552245, 0.9550787958662977],
      normal: [-0.24753348569671962, -0.8180395377017144, 0.973059122979462],
      below: [4, 2, 6, 7, 2],
      perm: [1, 6, 7, 5, 2, 4, 0, 3],
      state: [2508279812, 4284336745, 3651641655, 4144632938],
    },
    42: {
      u32: [2837322924, 544945897, 479756282, 3500138142, 339756180, 113173290],
      uniform: [0.015209237180418, 0.8806870827450254, 0.1833730151847529],
      normal: [0.03552063722277927, -1.1554488076174725, -0.09934459521637946],
      below: [5, 9, 0, 3, 6],
      perm: [6, 3, 7, 4, 1, 2, 5, 0],
      state: [2112506843, 1135562098, 2097924910, 1095598069],
    },
    4294967295: {
      u32: [835879718, 1921286648, 2356205009, 1885780724, 980451116, 1053911718],
      uniform: [0.856209721965931, 0.8493146656024274, 0.3396064760620482],
      normal: [-0.6766103263291187, -1.3939746051931894, -0.17226513039679303],
      below: [8, 2, 0, 7, 7],
      perm: [6, 7, 5, 3, 4, 2, 1, 0],
      state: [821673671, 212529352, 4215841807, 2755540489],
    },
  };

  test.each(Object.entries(golden))(
    'seed %s: nextUint32, uniform, normal, below, permutation and the state after them',
    (seed, g) => {
      const r = new Rng(Number(seed));
      expect(Array.from({ length: 6 }, () => r.nextUint32())).toEqual(g.u32);
      expect(Array.from({ length: 3 }, () => r.uniform())).toEqual(g.uniform);
      expect(Array.from({ length: 3 }, () => r.normal())).toEqual(g.normal);
      expect(Array.from({ length: 5 }, () => r.below(10))).toEqual(g.below);
      expect(Array.from(r.permutation(8))).toEqual(g.perm);
      expect(r.state()).toEqual(g.state);
    },
  );

  test('a long mixed stream and deriveSeed match the reference fingerprints', () => {
    expect([
      deriveSeed(7, 0),
      deriveSeed(7, 1),
      deriveSeed(5, 1, 2),
      deriveSeed(0),
      deriveSeed(2 ** 32 - 1, 0x5e1f, 3),
    ]).toEqual([1916645059, 1517043271, 72229321, 2462723854, 2464876094]);
    const r = new Rng(deriveSeed(2024, 3));
    const f = new Float64Array(3000);
    for (let i = 0; i < 1000; i++) {
      f[3 * i] = r.uniform();
      f[3 * i + 1] = r.normal();
      f[3 * i + 2] = r.below(1000 + i);
    }
    const p = r.permutation(1000);
    expect(fnv1a(new Uint8Array(f.buffer))).toBe(3619473728);
    expect(fnv1a(new Uint8Array(p.buffer))).toBe(3901821817);
    expect(r.state()).toEqual([4272888858, 1146014873, 976130785, 754818170]);
  });

  test('uniform(lo, hi) and normal(mean, sd) are the standard draws scaled: the defaults give the standard stream', () => {
    const a = new Rng(9);
    const b = new Rng(9);
    for (let i = 0; i < 100; i++) {
      expect(a.uniform(-2, 6)).toBe(-2 + 8 * b.uniform());
      expect(a.normal(3, 0.5)).toBe(3 + 0.5 * b.normal());
    }
    expect(new Rng(1).uniform(4, 4)).toBe(4);
    expect(new Rng(1).normal(2, 0)).toBe(2);
  });
});

describe('Rng seeds and state', () => {
  test('reproducible and seed-dependent', () => {
    const draw = (seed: number) => {
      const r = new Rng(seed);
      return Array.from({ length: 8 }, () => r.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(43)).not.toEqual(draw(42));
  });

  test('seeds of 2^32 and above are folded (hi word mixed into lo), so they neither collide with their low word nor fail', () => {
    // The words of grid-io's former createRng(2^40 + 5), which folded the same way.
    const r = new Rng(2 ** 40 + 5);
    expect(Array.from({ length: 4 }, () => r.nextUint32())).toEqual([
      538299823, 2287012550, 387385419, 1763795338,
    ]);
    expect(new Rng(2 ** 32 + 5).nextUint32()).not.toBe(new Rng(5).nextUint32());
    expect(new Rng(Number.MAX_SAFE_INTEGER).nextUint32()).not.toBe(new Rng(-1).nextUint32());
    expect(deriveSeed(2 ** 40 + 5, 1)).not.toBe(deriveSeed(5, 1));
  });

  test('state round trip: new Rng(state) continues the stream, normals included (no cached deviate)', () => {
    const r = new Rng(42);
    for (let i = 0; i < 10; i++) r.nextUint32();
    r.normal();
    const copy = new Rng(r.state());
    const draw = (g: Rng) => [g.uniform(), g.normal(), g.below(7), g.nextUint32(), ...g.permutation(5)];
    expect(draw(copy)).toEqual(draw(r));
    expect(copy.state()).toEqual(r.state());
  });

  test('rejects bad seeds, states and arguments', () => {
    expect(() => new Rng(1.5)).toThrow(/seed must be a safe integer/);
    expect(() => new Rng(Number.NaN)).toThrow(/safe integer/);
    expect(() => new Rng(2 ** 53)).toThrow(/safe integer/);
    expect(() => deriveSeed(1, 0.5)).toThrow(/part must be a safe integer/);
    expect(() => new Rng([1, 2, 3] as unknown as [number, number, number, number])).toThrow(/4 words/);
    expect(() => new Rng([1, 2, 3, -1])).toThrow(/unsigned 32-bit/);
    expect(() => new Rng([1, 2, 3, 2 ** 32])).toThrow(/unsigned 32-bit/);
    expect(() => new Rng([0, 0, 0, 0])).toThrow(/all-zero/);
    const r = new Rng(1);
    expect(() => r.uniform(2, 1)).toThrow(/lo <= hi/);
    expect(() => r.uniform(0, Number.POSITIVE_INFINITY)).toThrow(/finite/);
    expect(() => r.uniform(-Number.MAX_VALUE, Number.MAX_VALUE)).toThrow(/finite/);
    expect(() => r.normal(0, -1)).toThrow(/sd >= 0/);
    expect(() => r.normal(Number.NaN)).toThrow(/finite mean/);
    for (const n of [0, -1, 2.5, 2 ** 32 + 1, Number.NaN]) expect(() => r.below(n)).toThrow(/Rng.below/);
    expect(r.below(1)).toBe(0);
    expect(r.below(2 ** 32)).toBeLessThan(2 ** 32);
    expect(() => r.permutation(-1)).toThrow(/Rng.permutation/);
    expect(() => r.permutation(1.5)).toThrow(/Rng.permutation/);
    expect(r.permutation(0)).toEqual(new Int32Array(0));
  });
});

describe('Rng distributions', () => {
  test('uniform [0,1) and standard normal moments within sampling error (n = 2e5)', () => {
    const rng = new Rng(7);
    const n = 200_000;
    let s = 0,
      s2 = 0,
      g = 0,
      g2 = 0,
      g4 = 0,
      min = 1,
      max = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      s += u;
      s2 += u * u;
      min = Math.min(min, u);
      max = Math.max(max, u);
      const z = rng.normal();
      g += z;
      g2 += z * z;
      g4 += z ** 4;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(s / n - 0.5)).toBeLessThan(0.003); // sd of mean 6.5e-4
    expect(Math.abs(s2 / n - 1 / 3)).toBeLessThan(0.003);
    expect(Math.abs(g / n)).toBeLessThan(0.01); // sd of mean 2.2e-3
    expect(Math.abs(g2 / n - 1)).toBeLessThan(0.015);
    expect(Math.abs(g4 / n - 3)).toBeLessThan(0.1);
  });

  test('below(n) is uniform over [0, n) and permutation is a permutation', () => {
    const rng = new Rng(11);
    const counts = new Array<number>(6).fill(0);
    const n = 60_000;
    for (let i = 0; i < n; i++) counts[rng.below(6)]++;
    // Each count ~ Binomial(6e4, 1/6): sd ≈ 91; 5 sd.
    for (const c of counts) expect(Math.abs(c - n / 6)).toBeLessThan(460);
    const p = Array.from(new Rng(3).permutation(50)).sort((a, b) => a - b);
    expect(p).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
