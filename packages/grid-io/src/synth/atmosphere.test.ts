import { hydrostaticResidual } from '../derived/hydrostatic.js';
import { rosselandTau } from '../derived/optical-depth.js';
import { atmosphereContentId } from '../dataset/content-hash.js';
import { ATMOSPHERE_QUANTITIES, type AtmosphereModel } from '../types.js';
import { generateSyntheticAtmosphere, greyTemperatureK, syntheticAtmospheres } from './atmosphere.js';
import { KURUCZ_A1_LABEL_RANGES } from './labels.js';

/**
 * Local hydrostatic check on the model's own grid: d ln P / d ln tau by the 4th-order central
 * stencil (f_{i-2} - 8 f_{i-1} + 8 f_{i+1} - f_{i+2}) / (12 h) on the uniform ln tau grid,
 * against tau (g - accrad) / (abross P). Layers 2..n-3 (the stencil needs two neighbours).
 */
function hydrostaticResidual4(m: AtmosphereModel): { worst: number; layer: number } {
  const s = m.tauRosseland.map(Math.log);
  const f = m.pressure.map(Math.log);
  const h = s[1] - s[0];
  const g = 10 ** m.logg;
  let worst = 0;
  let layer = -1;
  for (let i = 2; i < m.nLayers - 2; i++) {
    const d = (f[i - 2] - 8 * f[i - 1] + 8 * f[i + 1] - f[i + 2]) / (12 * h);
    const expected = (m.tauRosseland[i] * (g - m.accrad[i])) / (m.abross[i] * m.pressure[i]);
    const r = Math.abs(d / expected - 1);
    if (r > worst) [worst, layer] = [r, i];
  }
  return { worst, layer };
}

function corners(): { teffK: number; logg: number; feh: number; afe: number }[] {
  const R = KURUCZ_A1_LABEL_RANGES;
  const out = [];
  for (const teffK of [R.teffK.min, R.teffK.max])
    for (const logg of [R.logg.min, R.logg.max])
      for (const feh of [R.feh.min, R.feh.max])
        for (const afe of [R.afe.min, R.afe.max]) out.push({ teffK, logg, feh, afe });
  return out;
}

describe('synthetic atmospheres', () => {
  it('are in hydrostatic equilibrium on their own grid: 4th-order FD residual < 1e-3 on interior layers', () => {
    let worst = { worst: 0, layer: -1, labels: '' };
    const models = [
      ...syntheticAtmospheres({ n: 300, seed: 11 }),
      ...corners().map((l) => generateSyntheticAtmosphere(l)),
    ];
    for (const m of models) {
      const r = hydrostaticResidual4(m);
      if (r.worst > worst.worst)
        worst = {
          ...r,
          labels: `Teff=${m.teffK.toFixed(0)} logg=${m.logg.toFixed(2)} [Fe/H]=${m.feh.toFixed(2)}`,
        };
    }
    console.log(
      `4th-order hydrostatic residual, worst of ${models.length} models: ${worst.worst.toExponential(2)} at layer ${worst.layer} (${worst.labels})`,
    );
    expect(worst.worst).toBeLessThan(1e-3);
  });

  it('the package 2nd-order residual (hydrostaticResidual) is discretization error: it falls ~4x per halving of the step', () => {
    for (const labels of [
      { teffK: 5777, logg: 4.44, feh: 0, afe: 0 },
      { teffK: 3500, logg: 1, feh: -2, afe: 0.4 },
      { teffK: 30000, logg: 4, feh: 0.5, afe: 0 },
    ]) {
      const worstInterior = (nLayers: number) => {
        const r = hydrostaticResidual(generateSyntheticAtmosphere(labels, { nLayers })).residual;
        return Math.max(...r.slice(1, -1).map(Math.abs));
      };
      const [r80, r159, r317] = [worstInterior(80), worstInterior(159), worstInterior(317)];
      console.log(
        `hydrostaticResidual (central, in tau) worst interior, Teff ${labels.teffK}: 80 layers ${r80.toExponential(2)}, 159 ${r159.toExponential(2)}, 317 ${r317.toExponential(2)}`,
      );
      expect(r80 / r159).toBeGreaterThan(3);
      expect(r159 / r317).toBeGreaterThan(3);
      expect(r317).toBeLessThan(1e-2);
    }
  });

  it('follow the project tau convention exactly: rosselandTau(rhox, abross) == tauRosseland', () => {
    for (const m of syntheticAtmospheres({ n: 50, seed: 3 })) {
      const tau = rosselandTau(m.rhox, m.abross);
      for (let i = 0; i < m.nLayers; i++)
        expect(Math.abs(tau[i] / m.tauRosseland[i] - 1)).toBeLessThan(1e-12);
    }
  });

  it('fill the AtmosphereModel schema with finite, monotonic, plausible values', () => {
    const g = (m: AtmosphereModel) => 10 ** m.logg;
    const all = [
      ...syntheticAtmospheres({ n: 100, seed: 5 }),
      ...corners().map((l) => generateSyntheticAtmosphere(l)),
    ];
    for (const m of all) {
      expect(m.nLayers).toBe(80);
      expect(m.synthetic).toBe(true);
      expect(m.split).toBeNull();
      expect(m.vturbKms).toBe(2);
      expect(m.id).toMatch(/^[0-9a-f]{64}$/);
      const { id, ...rest } = m;
      expect(atmosphereContentId(rest)).toBe(id);
      expect(Math.log10(m.tauRosseland[0])).toBeCloseTo(-6.875, 12);
      expect(Math.log10(m.tauRosseland[79])).toBeCloseTo(2, 12);
      for (const q of [...ATMOSPHERE_QUANTITIES, 'tauRosseland'] as const) {
        expect(m[q]).toHaveLength(80);
        for (const v of m[q]) expect(Number.isFinite(v) && v > 0).toBe(true);
      }
      for (let i = 1; i < 80; i++) {
        for (const q of ['rhox', 'pressure', 'temperature', 'tauRosseland'] as const)
          expect(m[q][i]).toBeGreaterThan(m[q][i - 1]);
        expect(m.accrad[i]).toBeLessThan(g(m));
      }
    }
  });

  it('a solar model looks solar (T(tau=2/3) ~ Teff, P(tau=1) ~ 1e5 dyn/cm^2, kappa(tau=1) ~ 0.5 cm^2/g)', () => {
    const m = generateSyntheticAtmosphere({ teffK: 5777, logg: 4.44, feh: 0, afe: 0 });
    expect(greyTemperatureK(5777, 2 / 3) / 5777).toBeCloseTo(1, 1);
    const i1 = m.tauRosseland.findIndex((t) => t >= 1);
    expect(m.pressure[i1]).toBeGreaterThan(5e4);
    expect(m.pressure[i1]).toBeLessThan(5e5);
    expect(m.abross[i1]).toBeGreaterThan(0.1);
    expect(m.abross[i1]).toBeLessThan(3);
    expect(m.accrad[i1] / 10 ** m.logg).toBeLessThan(1e-3);
    const hot = generateSyntheticAtmosphere({ teffK: 44000, logg: 4.5, feh: 0, afe: 0 });
    expect(hot.accrad[40] / 10 ** hot.logg).toBeGreaterThan(0.05);
  });

  it('is seeded: same seed, same models; another seed, other models; records are labelled', () => {
    const a = [...syntheticAtmospheres({ n: 5, seed: 1 })];
    const b = [...syntheticAtmospheres({ n: 5, seed: 1 })];
    const c = [...syntheticAtmospheres({ n: 5, seed: 2 })];
    expect(a.map((m) => m.id)).toEqual(b.map((m) => m.id));
    expect(a.map((m) => m.id)).not.toEqual(c.map((m) => m.id));
    expect(a.map((m) => m.line)).toEqual([1, 2, 3, 4, 5]);
    expect(a[0].source).toBe('synthetic:atmospheres:seed=1');
    for (const m of a) {
      for (const [k, r] of Object.entries(KURUCZ_A1_LABEL_RANGES)) {
        const v = m[k as keyof typeof KURUCZ_A1_LABEL_RANGES];
        expect(v).toBeGreaterThanOrEqual(r.min);
        expect(v).toBeLessThanOrEqual(r.max);
      }
    }
  });

  it('rejects bad labels and options with clear errors', () => {
    expect(() => generateSyntheticAtmosphere({ teffK: Number.NaN, logg: 4, feh: 0, afe: 0 })).toThrow(
      /teffK must be a finite number/,
    );
    expect(() => generateSyntheticAtmosphere({ teffK: 5000, logg: 12, feh: 0, afe: 0 })).toThrow(/logg=12/);
    expect(() =>
      generateSyntheticAtmosphere({ teffK: 5000, logg: 4, feh: 0, afe: 0 }, { nLayers: 2 }),
    ).toThrow(/nLayers/);
    expect(() => [...syntheticAtmospheres({ n: -1, seed: 1 })]).toThrow(/n must be/);
  });
});
