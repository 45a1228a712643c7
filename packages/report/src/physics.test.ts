import { pressureGradientFD } from '@stellar-emu/grid-io';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { ATLAS_LOG_TAU, analyticAtmosphere, greyTemperatureK } from '../test/sample/atmosphere.js';

test('grey temperature: T = Teff at tau ≈ 2/3 and the Hopf boundary value at the surface', () => {
  // With q(τ) the Hopf function, T(τ) = Teff at ¾(τ + q) = 1, i.e. τ ≈ 0.6.
  const tau = [0.55, 0.6, 0.65];
  const t = tau.map((x) => greyTemperatureK(5000, x));
  expect(Math.min(...t)).toBeLessThan(5000);
  expect(Math.max(...t)).toBeGreaterThan(5000);
  // Surface: T⁴ = ¾ Teff⁴ q(0) with q(0) = 0.5773 → T/Teff = 0.8114.
  expect(greyTemperatureK(5000, 0) / 5000).toBeCloseTo((0.75 * 0.5773) ** 0.25, 4);
});

test('analytic atmosphere is in hydrostatic equilibrium: P = ∫(g − g_rad) d rhox and dP/dτ = (g − g_rad)/κ', () => {
  const a = analyticAtmosphere({ teffK: 4500, logg: 2.5, feh: 0, afe: 0 });
  expect(a.logTau).toHaveLength(72);
  expect(a.logTau[0]).toBe(-6.875);
  for (const k of ['rhox', 'pressure', 'temperature', 'tau'] as const) {
    for (let i = 1; i < a.tau.length; i++) expect(a[k][i]).toBeGreaterThan(a[k][i - 1]);
  }
  // g_rad/g < 1 %: total pressure ≈ g · rhox.
  assertAllClose(
    a.pressure,
    a.rhox.map((r) => r * a.gravityCmS2),
    { rtol: 0.01 },
  );
  // Interior layers where the opacity varies slowly: finite-difference dP/dτ matches (g − g_rad)/κ.
  const d = pressureGradientFD(a.tau, a.pressure, 'ln-tau');
  const expected = a.abross.map((k, i) => (a.gravityCmS2 - a.accrad[i]) / k);
  const upper = ATLAS_LOG_TAU.findIndex((x) => x >= -1);
  assertAllClose(d.slice(8, upper), expected.slice(8, upper), { rtol: 0.02 });
});
