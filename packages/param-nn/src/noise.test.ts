import { Rng } from '@stellar-emu/numerics';
import {
  addCoefficientNoise,
  addFluxNoise,
  augmentWithNoisyCopies,
  noiseSigmaForSnr,
  snrForIndex,
} from './noise.js';
import { fromRowMajor, orthonormalizeColumns, toRowMajorF32 } from './linalg.js';

describe('noise augmentation', () => {
  test('SNR is uniform in [5, 300] per spectrum and sigma = 1/SNR', () => {
    const n = 20000;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    const bins = new Array(10).fill(0);
    for (let i = 0; i < n; i++) {
      const s = snrForIndex(i, { seed: 9 });
      sum += s;
      min = Math.min(min, s);
      max = Math.max(max, s);
      bins[Math.floor(((s - 5) / 295) * 10)]++;
    }
    expect(min).toBeGreaterThanOrEqual(5);
    expect(max).toBeLessThan(300);
    // Mean of U(5, 300) is 152.5; sd of the sample mean is 295/sqrt(12 n) = 0.60 -> 5 sd.
    expect(Math.abs(sum / n - 152.5)).toBeLessThan(3);
    // Each tenth holds n/10 = 2000 +- 5 sd (sd = sqrt(n p (1-p)) = 42).
    for (const b of bins) expect(Math.abs(b - 2000)).toBeLessThan(210);
    expect(noiseSigmaForSnr(50)).toBe(0.02);
  });

  test('seeded, independent of block boundaries, and different for another seed', () => {
    const D = 300;
    const flux = new Float32Array(10 * D).fill(1);
    const all = addFluxNoise(flux, 10, D, 0, { seed: 4 });
    const a = addFluxNoise(flux.subarray(0, 4 * D), 4, D, 0, { seed: 4 });
    const b = addFluxNoise(flux.subarray(4 * D), 6, D, 4, { seed: 4 });
    expect(Array.from(all.flux)).toEqual([...a.flux, ...b.flux]);
    expect(Array.from(all.snr)).toEqual([...a.snr, ...b.snr]);
    const other = addFluxNoise(flux, 10, D, 0, { seed: 5 });
    expect(Array.from(other.flux)).not.toEqual(Array.from(all.flux));
  });

  test('flux noise has standard deviation 1/SNR per spectrum (within 3 %)', () => {
    const D = 19000;
    const rows = 8;
    const flux = new Float32Array(rows * D);
    for (let i = 0; i < flux.length; i++) flux[i] = 1 - 0.3 * Math.exp(-(((i % D) - 5000) ** 2) / 200);
    const { flux: noisy, snr } = addFluxNoise(flux, rows, D, 100, { seed: 2 });
    for (let r = 0; r < rows; r++) {
      let s = 0;
      let s2 = 0;
      for (let j = 0; j < D; j++) {
        const e = noisy[r * D + j] - flux[r * D + j];
        s += e;
        s2 += e * e;
      }
      const sd = Math.sqrt(s2 / D - (s / D) ** 2);
      // sd of a sample sd over 19,000 pixels is 0.5 % of sigma; 3 % also covers float32 rounding at SNR 300.
      expect(Math.abs(sd * snr[r] - 1)).toBeLessThan(0.03);
      expect(Math.abs(s / D) * snr[r]).toBeLessThan(5 / Math.sqrt(D));
    }
  });

  test('coefficient-space noise equals the projection of flux-space noise in distribution, with the same SNRs', () => {
    const D = 400;
    const k = 4;
    const rng = new Rng(3);
    const V = fromRowMajor(
      Array.from({ length: D * k }, () => rng.normal()),
      D,
      k,
    );
    orthonormalizeColumns(V);
    const basis = toRowMajorF32(V);
    const n = 3000;
    const clean = new Float32Array(n * D).fill(1);
    const { flux: noisy, snr: snrFlux } = addFluxNoise(clean, n, D, 0, { seed: 8 });
    const zero = new Float32Array(n * k);
    const { coeffs, snr: snrCoef } = addCoefficientNoise(zero, n, k, 0, { seed: 8 });
    expect(Array.from(snrCoef)).toEqual(Array.from(snrFlux));
    // Whitened covariance (noise / sigma) of both must be the identity: entries within 5/sqrt(n).
    const covFlux = new Float64Array(k * k);
    const covCoef = new Float64Array(k * k);
    for (let i = 0; i < n; i++) {
      const p = new Float64Array(k);
      for (let j = 0; j < D; j++) {
        const e = noisy[i * D + j] - 1;
        for (let a = 0; a < k; a++) p[a] += e * basis[j * k + a];
      }
      for (let a = 0; a < k; a++) {
        for (let b = 0; b < k; b++) {
          covFlux[a * k + b] += (p[a] * p[b] * snrFlux[i] ** 2) / n;
          covCoef[a * k + b] += (coeffs[i * k + a] * coeffs[i * k + b] * snrCoef[i] ** 2) / n;
        }
      }
    }
    const tol = 5 / Math.sqrt(n);
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        const want = a === b ? 1 : 0;
        expect(Math.abs(covFlux[a * k + b] - want)).toBeLessThan(tol * (a === b ? Math.SQRT2 : 1));
        expect(Math.abs(covCoef[a * k + b] - want)).toBeLessThan(tol * (a === b ? Math.SQRT2 : 1));
      }
    }
  });

  test('one noisy copy per spectrum: clean rows, then their noisy copies with the same labels', () => {
    const coeffs = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const labels = Float64Array.from([10, 20, 30]);
    const aug = augmentWithNoisyCopies({ coeffs, labels, rows: 3 }, 2, 1, { seed: 1 });
    expect(aug.rows).toBe(6);
    expect(Array.from(aug.coeffs.subarray(0, 6))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(aug.labels)).toEqual([10, 20, 30, 10, 20, 30]);
    expect(aug.snr[0]).toBe(Infinity);
    for (let i = 3; i < 6; i++) expect(aug.snr[i]).toBeGreaterThanOrEqual(5);
    expect(Array.from(aug.coeffs.subarray(6))).not.toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('several noisy copies: copy 0 as with one copy, each copy its own SNR and noise, labels repeated', () => {
    const rows = 50;
    const k = 3;
    const coeffs = Float32Array.from({ length: rows * k }, (_, i) => i / 10);
    const labels = Float64Array.from({ length: rows }, (_, i) => i);
    const one = augmentWithNoisyCopies({ coeffs, labels, rows }, k, 1, { seed: 9 });
    const four = augmentWithNoisyCopies({ coeffs, labels, rows }, k, 1, { seed: 9, copies: 4 });
    expect(four.rows).toBe(5 * rows);
    expect(Array.from(four.coeffs.subarray(0, 2 * rows * k))).toEqual(Array.from(one.coeffs));
    for (let c = 0; c <= 4; c++)
      expect(Array.from(four.labels.subarray(c * rows, (c + 1) * rows))).toEqual(Array.from(labels));
    // Copy c of row i is addCoefficientNoise's row c·rows + i: the same numbers, drawn directly.
    for (let c = 1; c < 4; c++) {
      const direct = addCoefficientNoise(coeffs, rows, k, c * rows, { seed: 9 });
      expect(Array.from(four.coeffs.subarray((1 + c) * rows * k, (2 + c) * rows * k))).toEqual(
        Array.from(direct.coeffs),
      );
      expect(Array.from(four.snr.subarray((1 + c) * rows, (2 + c) * rows))).toEqual(Array.from(direct.snr));
    }
    // Independent copies: the SNRs of copies 1 and 2 of the same row differ.
    let same = 0;
    for (let i = 0; i < rows; i++) if (four.snr[2 * rows + i] === four.snr[rows + i]) same++;
    expect(same).toBe(0);
    expect(() => augmentWithNoisyCopies({ coeffs, labels, rows }, k, 1, { copies: 0 })).toThrow(/copies/);
  });
});
