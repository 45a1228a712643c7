import { generateSyntheticSpectrum } from '../synth/spectrum.js';
import { SPECTRUM_DEFAULT_GRID, gridWavelengthsAngstrom } from './grid.js';
import { normalizeContinuum, pixelAverage, resampleSpectrum } from './resample.js';

describe('spectrum grid and resampling', () => {
  it('the default grid is 4450 + 0.05 i, i < 19000 (last pixel 5399.95 Å)', () => {
    const w = gridWavelengthsAngstrom();
    expect(w.length).toBe(19000);
    expect(w[0]).toBe(4450);
    expect(w[18999]).toBeCloseTo(5399.95, 9);
    expect(SPECTRUM_DEFAULT_GRID).toEqual({ startAngstrom: 4450, stepAngstrom: 0.05, n: 19000 });
  });

  it('linear interpolation is exact for linear input; outside coverage and gaps are NaN', () => {
    const x = Float64Array.from({ length: 2000 }, (_, i) => 4500 + 0.3 * i + 0.1 * Math.sin(i));
    const y = x.map((v) => 2 + 0.001 * v);
    const grid = { startAngstrom: 4400, stepAngstrom: 0.5, n: 1400 };
    const out = resampleSpectrum({ wavelengthAngstrom: x, flux: y, source: 't' }, { grid });
    for (let i = 0; i < grid.n; i++) {
      const w = 4400 + 0.5 * i;
      if (w < x[0] || w > x[x.length - 1]) expect(out[i]).toBeNaN();
      else expect(Math.abs(out[i] - (2 + 0.001 * w))).toBeLessThan(1e-12);
    }
    const gx = Float64Array.from([4400, 4401, 4405, 4406]);
    const g = resampleSpectrum(
      { wavelengthAngstrom: gx, flux: Float64Array.from([1, 1, 1, 1]), source: 'g' },
      { grid: { startAngstrom: 4400, stepAngstrom: 1, n: 7 } },
    );
    expect(Array.from(g, (v) => (Number.isNaN(v) ? 'nan' : v))).toEqual([1, 1, 'nan', 'nan', 'nan', 1, 1]);
  });

  it('pixel averages integrate the piecewise-linear input exactly', () => {
    const x = Float64Array.from({ length: 101 }, (_, i) => i * 0.1);
    const y = x.map((v) => v * v);
    const out = pixelAverage(x, y, { startAngstrom: 1, stepAngstrom: 1, n: 9 });
    for (let i = 0; i < 9; i++) {
      const a = i + 0.5,
        b = i + 1.5; // exact mean of x^2 plus the trapezoid excess h^2/6 of the linear interpolant
      expect(out[i]).toBeCloseTo((b ** 3 - a ** 3) / 3 + 0.01 / 6, 10);
    }
    expect(() => pixelAverage([1, 1], [0, 0], { startAngstrom: 1, stepAngstrom: 1, n: 1 })).toThrow(
      /increase strictly/,
    );
  });

  it('continuum normalization recovers a synthetic spectrum times a smooth continuum (1 % outside H-beta)', () => {
    const r = generateSyntheticSpectrum({
      teffK: 6500,
      logg: 4,
      mh: -0.5,
      vsiniKms: 20,
      vmicKms: 2,
      resolution: 20000,
    });
    const lam = gridWavelengthsAngstrom();
    const cont = lam.map((w) => 0.6 - (0.06 * (w - 4450)) / 950 + 0.01 * Math.sin(w / 100));
    const observed = lam.map((_, i) => r.flux[i] * cont[i]);
    const { flux, continuum } = normalizeContinuum(lam, observed, { windowAngstrom: 40, quantile: 0.98 });
    let worst = 0;
    let at = 0;
    for (let i = 200; i < lam.length - 200; i++) {
      if (Math.abs(lam[i] - 4861.33) < 60) continue; // broad H-beta wings fill whole windows (documented limitation)
      const e = Math.abs(continuum[i] / cont[i] - 1);
      if (e > worst) [worst, at] = [e, lam[i]];
    }
    console.log(`continuum recovery: worst ${worst.toExponential(2)} at ${at.toFixed(2)} Å`);
    expect(worst).toBeLessThan(0.01);
    expect(Math.abs(flux[9500] - r.flux[9500])).toBeLessThan(0.01);
  });
});
