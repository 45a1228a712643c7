import { createRng, sampleGaussian } from './rng.js';

describe('createRng', () => {
  it('is reproducible and seed-dependent', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xa = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(xa);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(xa);
  });

  it('gives uniform [0,1) and standard normal moments within sampling error (n = 2e5)', () => {
    const rng = createRng(7);
    const n = 200_000;
    let s = 0, s2 = 0, g = 0, g2 = 0, g4 = 0, min = 1, max = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      s += u; s2 += u * u; min = Math.min(min, u); max = Math.max(max, u);
      const z = sampleGaussian(rng);
      g += z; g2 += z * z; g4 += z ** 4;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(s / n - 0.5)).toBeLessThan(0.003); // sd of mean 6.5e-4
    expect(Math.abs(s2 / n - 1 / 3)).toBeLessThan(0.003);
    expect(Math.abs(g / n)).toBeLessThan(0.01); // sd of mean 2.2e-3
    expect(Math.abs(g2 / n - 1)).toBeLessThan(0.015);
    expect(Math.abs(g4 / n - 3)).toBeLessThan(0.1);
  });

  it('rejects bad seeds and arguments', () => {
    expect(() => createRng(1.5)).toThrow(/safe integer/);
    expect(() => createRng(Number.NaN)).toThrow(/safe integer/);
    expect(() => createRng(1).uniform(2, 1)).toThrow(/lo <= hi/);
    expect(() => sampleGaussian(createRng(1), 0, -1)).toThrow(/sd >= 0/);
  });
});
