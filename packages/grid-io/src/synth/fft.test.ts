import { fft, irfft, rfft } from './fft.js';
import { Rng } from '@stellar-emu/numerics';

function naiveDft(x: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = x.length;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let k = 0; k < n; k++)
    for (let j = 0; j < n; j++) {
      re[k] += x[j] * Math.cos((2 * Math.PI * j * k) / n);
      im[k] -= x[j] * Math.sin((2 * Math.PI * j * k) / n);
    }
  return { re, im };
}

describe('fft', () => {
  it('matches a naive DFT and round-trips (atol 1e-10)', () => {
    const rng = new Rng(3);
    for (const n of [2, 4, 8, 64, 256]) {
      const x = Float64Array.from({ length: n }, () => rng.normal());
      const ref = naiveDft(x);
      const re = x.slice();
      const im = new Float64Array(n);
      fft(re, im);
      for (let k = 0; k < n; k++) {
        expect(Math.abs(re[k] - ref.re[k])).toBeLessThan(1e-10);
        expect(Math.abs(im[k] - ref.im[k])).toBeLessThan(1e-10);
      }
      fft(re, im, true);
      for (let j = 0; j < n; j++) expect(Math.abs(re[j] - x[j]) + Math.abs(im[j])).toBeLessThan(1e-12);
      if (n >= 4) {
        const half = rfft(x);
        for (let k = 0; k <= n / 2; k++) {
          expect(Math.abs(half.re[k] - ref.re[k])).toBeLessThan(1e-10);
          expect(Math.abs(half.im[k] - ref.im[k])).toBeLessThan(1e-10);
        }
        const back = irfft(half.re, half.im);
        for (let j = 0; j < n; j++) expect(Math.abs(back[j] - x[j])).toBeLessThan(1e-12);
      }
    }
  });

  it('rejects lengths that are not powers of two', () => {
    expect(() => fft(new Float64Array(6), new Float64Array(6))).toThrow(/power of two/);
  });
});
