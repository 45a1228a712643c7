import { join } from 'node:path';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { readDecks } from '../kurucz/read-deck.js';
import { deckToAtmosphereModel } from '../kurucz/to-model.js';
import { realDataDir } from '../testing/real-data.js';
import type { AtmosphereModel } from '../types.js';
import { hydrostaticResidual, rms } from './hydrostatic.js';
import { rosselandTau } from './optical-depth.js';
import { pchipInterpolate, resampleToLogTau } from './resample.js';

const data = realDataDir();

test('rosselandTau: tau_0 = ABROSS_0 * RHOX_0, then the trapezoid rule in RHOX', () => {
  // constant opacity: tau = kappa * rhox exactly
  const rhox = [1e-3, 1e-2, 1e-1, 1, 10];
  assertAllClose(
    rosselandTau(
      rhox,
      rhox.map(() => 0.4),
    ),
    rhox.map((r) => 0.4 * r),
    { rtol: 1e-14 },
  );
  // linear opacity kappa = m: tau(m) = tau_0 + (m^2 - m0^2)/2 is integrated exactly by the trapezoid rule
  const m = [0.5, 1, 1.5, 2];
  assertAllClose(
    rosselandTau(m, m),
    m.map((x) => 0.25 + (x * x - 0.25) / 2),
    { rtol: 1e-14 },
  );
});

test('pchipInterpolate: exact at nodes, monotone between, no extrapolation', () => {
  const x = [0, 1, 2, 3, 4];
  const y = [0, 0.1, 0.2, 5, 5.1];
  assertAllClose(pchipInterpolate(x, y, x), y, { atol: 1e-15 });
  const xs = Array.from({ length: 401 }, (_, i) => i / 100);
  const ys = pchipInterpolate(x, y, xs);
  for (let i = 1; i < ys.length; i++) expect(ys[i]).toBeGreaterThanOrEqual(ys[i - 1]);
  expect(() => pchipInterpolate(x, y, [4.5])).toThrow(/outside/);
  // cubic data with equal spacing: interior points close to the curve
  assertAllClose(pchipInterpolate([0, 1, 2, 3], [0, 1, 8, 27], [1.5]), [3.375], { rtol: 0.1 });
});

describe.skipIf(!data)('derived quantities on real models', () => {
  const models: Record<string, AtmosphereModel> = {};
  beforeAll(async () => {
    for (const f of ['t04000g5.00', 't08250g4.00', 't44000g4.50']) {
      for await (const d of readDecks(join(data!, `atlas12-samples/at12_aaaaa_${f}.atm`)))
        models[f] = deckToAtmosphereModel(d);
    }
    let i = 0;
    for await (const d of readDecks(join(data!, 'atlas9-kurucz1993/ap00k2.dat.gz'))) {
      if (d.teffK === 5750 && d.logg === 4.5) models.sun9 = deckToAtmosphereModel(d);
      if (++i > 300) break;
    }
  });

  test('tau is increasing and spans the usual ATLAS range', () => {
    for (const m of Object.values(models)) {
      for (let i = 1; i < m.nLayers; i++) expect(m.tauRosseland[i]).toBeGreaterThan(m.tauRosseland[i - 1]);
      expect(Math.log10(m.tauRosseland[0])).toBeLessThan(-5.5);
      expect(Math.log10(m.tauRosseland.at(-1)!)).toBeGreaterThan(1);
    }
  });

  test('resampling onto the model’s own log tau reproduces it; onto a new grid keeps T monotone', () => {
    const m = models.sun9;
    const same = resampleToLogTau(m, m.tauRosseland.map(Math.log10));
    assertAllClose(same.temperature, m.temperature, { rtol: 1e-12 });
    assertAllClose(same.pressure, m.pressure, { rtol: 1e-12 });
    const grid = Array.from({ length: 56 }, (_, i) => -5 + (i * 6.5) / 55);
    const r = resampleToLogTau(m, grid);
    expect(r.nLayers).toBe(56);
    for (let i = 1; i < 56; i++) expect(r.pressure[i]).toBeGreaterThan(r.pressure[i - 1]);
    expect(() => resampleToLogTau(m, [-9])).toThrow(/outside/);
  });

  test('hydrostatic residual: small for the grid, and ACCRAD matters for the 44000 K model', () => {
    for (const [name, m] of Object.entries(models)) {
      const r = hydrostaticResidual(m).residual;
      expect(rms(r), name).toBeLessThan(0.05);
    }
    const hot = models.t44000g4_50 ?? models['t44000g4.50'];
    expect(rms(hydrostaticResidual(hot, { gravity: 'g' }).residual)).toBeGreaterThan(0.1);
    expect(rms(hydrostaticResidual(hot).residual)).toBeLessThan(0.01);
  });
});
