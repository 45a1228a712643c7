// The one finite-difference hydrostatic estimator: closed forms of every scheme and convention,
// and bit-for-bit agreement with the four estimators it replaced (grid-io, pinn metrics, pinn
// evaluation, report sample), whose formulas are written out below as they were.
import { join } from 'node:path';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { readDecks } from '../kurucz/read-deck.js';
import { deckToAtmosphereModel } from '../kurucz/to-model.js';
import { generateSyntheticAtmosphere } from '../synth/atmosphere.js';
import { realDataDir } from '../testing/real-data.js';
import type { AtmosphereModel } from '../types.js';
import {
  HYDROSTATIC_GEFF_FLOOR,
  effectiveGravity,
  hydrostaticResidual,
  pressureGradientFD,
  type HydrostaticColumns,
} from './hydrostatic.js';

/** A non-uniform tau grid from 1e-6 to 100 (log spacing with a wobble). */
const TAU = Array.from({ length: 41 }, (_, i) => 10 ** (-6 + (8 * i) / 40 + 0.03 * Math.sin(i)));

describe('pressureGradientFD: each scheme is exact on the pressure law it differences linearly', () => {
  it('tau: P = a + b tau gives dP/dtau = b', () => {
    const p = TAU.map((t) => 3 + 7 * t);
    assertAllClose(
      pressureGradientFD(TAU, p, 'tau'),
      TAU.map(() => 7),
      { rtol: 1e-9 },
    );
    expect(pressureGradientFD(TAU, p)).toEqual(pressureGradientFD(TAU, p, 'tau'));
  });
  it('ln-tau: P = a + b ln tau gives dP/dtau = b / tau', () => {
    const p = TAU.map((t) => 50 + 2 * Math.log(t));
    assertAllClose(
      pressureGradientFD(TAU, p, 'ln-tau'),
      TAU.map((t) => 2 / t),
      { rtol: 1e-12 },
    );
  });
  it('ln-ln: P = A tau^k gives dP/dtau = k A tau^(k-1)', () => {
    const p = TAU.map((t) => 1e4 * t ** 0.8);
    assertAllClose(
      pressureGradientFD(TAU, p, 'ln-ln'),
      TAU.map((t) => 0.8e4 * t ** -0.2),
      { rtol: 1e-12 },
    );
  });
  it('central inside, one-sided at the two ends', () => {
    const tau = [1, 2, 4, 8];
    const p = [1, 3, 4, 10];
    expect(pressureGradientFD(tau, p, 'tau')).toEqual([2, 3 / 3, 7 / 6, 6 / 4]);
  });
  it('needs 2 layers and equal lengths', () => {
    expect(() => pressureGradientFD([1], [1])).toThrow(/2 layers/);
    expect(() => pressureGradientFD([1, 2], [1, 2, 3])).toThrow(/pressure 3/);
  });
});

describe('hydrostaticResidual: closed forms of the conventions', () => {
  // P = A tau^k, ACCRAD a fraction of g, and kappa = g_eff tau / (k P): dP/dtau = g_eff/kappa exactly,
  // and the ln-ln differences of a power law are exact.
  const logg = 3.7;
  const g = 10 ** logg;
  const k = 0.9;
  const pressure = TAU.map((t) => 2e3 * t ** k);
  const accrad = TAU.map((_, i) => g * (0.05 + 0.9 * (i / (TAU.length - 1)) ** 2));
  accrad[TAU.length - 1] = 0.999 * g; // below the floor of g-accrad-floored
  const col = (geff: (i: number) => number): HydrostaticColumns => ({
    logg,
    tauRosseland: TAU,
    pressure,
    accrad,
    abross: TAU.map((t, i) => (geff(i) * t) / (k * pressure[i])),
  });
  const exact = col((i) => g - accrad[i]);

  it('relative and dex are 0 in exact equilibrium with g - ACCRAD; g alone gives g_eff/g - 1 = -ACCRAD/g', () => {
    const opts = { scheme: 'ln-ln' } as const;
    assertAllClose(
      hydrostaticResidual(exact, opts).residual,
      TAU.map(() => 0),
      { atol: 1e-12 },
    );
    assertAllClose(
      hydrostaticResidual(exact, { ...opts, output: 'dex' }).residual,
      TAU.map(() => 0),
      { atol: 1e-12 },
    );
    assertAllClose(
      hydrostaticResidual(exact, { ...opts, output: 'abs-relative' }).residual,
      TAU.map(() => 0),
      { atol: 1e-12 },
    );
    assertAllClose(
      hydrostaticResidual(exact, { ...opts, gravity: 'g' }).residual,
      accrad.map((a) => -a / g),
      { rtol: 1e-11 },
    );
    assertAllClose(
      hydrostaticResidual(exact, { ...opts, gravity: 'g', output: 'dex' }).residual,
      accrad.map((a) => Math.log10(1 - a / g)),
      { rtol: 1e-9 },
    );
    const r = hydrostaticResidual(exact, opts);
    assertAllClose(
      r.gOverKappa,
      TAU.map((_, i) => (g - accrad[i]) / exact.abross[i]),
      { rtol: 1e-15 },
    );
    assertAllClose(r.dPdTau, r.gOverKappa, { rtol: 1e-12 });
  });

  it('the floored g_eff is max(g - ACCRAD, 1 % g)', () => {
    expect(HYDROSTATIC_GEFF_FLOOR).toBe(0.01);
    const floored = effectiveGravity(logg, accrad, TAU.length, 'g-accrad-floored');
    expect(floored.at(-1)).toBe(0.01 * g);
    expect(floored.slice(0, -1)).toEqual(accrad.slice(0, -1).map((a) => g - a));
    expect(effectiveGravity(logg, null, 3, 'g')).toEqual([g, g, g]);
    expect(() => effectiveGravity(logg, null, 3, 'g-accrad')).toThrow(/needs ACCRAD/);
    const m = col((i) => Math.max(g - accrad[i], 0.01 * g));
    assertAllClose(
      hydrostaticResidual(m, { scheme: 'ln-ln', gravity: 'g-accrad-floored' }).residual,
      TAU.map(() => 0),
      { atol: 1e-12 },
    );
  });

  it('a pressure 10 % too high is a relative residual of +0.1 and log10(1.1) dex in every scheme on a dense grid (2nd-order error < 1e-5)', () => {
    const dense = Array.from({ length: 2001 }, (_, i) => 10 ** (-4 + (4 * i) / 2000));
    const p = dense.map((t) => 2e3 * t ** k);
    const m: HydrostaticColumns = {
      logg,
      tauRosseland: dense,
      pressure: p.map((x) => 1.1 * x),
      abross: dense.map((t, i) => (g * t) / (k * p[i])),
    };
    for (const scheme of ['tau', 'ln-tau', 'ln-ln'] as const) {
      const inner = (o: Parameters<typeof hydrostaticResidual>[1]) =>
        hydrostaticResidual(m, { gravity: 'g', ...o }).residual.slice(1, -1);
      assertAllClose(
        inner({ scheme }),
        inner({ scheme }).map(() => 0.1),
        { rtol: 1e-4, label: scheme },
      );
      assertAllClose(
        inner({ scheme, output: 'abs-relative' }),
        inner({ scheme }).map(() => 0.1),
        { rtol: 1e-4, label: scheme },
      );
      assertAllClose(
        inner({ scheme, output: 'dex' }),
        inner({ scheme }).map(() => Math.log10(1.1)),
        { rtol: 1e-4, label: scheme },
      );
    }
  });

  it('dex is NaN where dP/dtau is not positive; relative stays defined', () => {
    const m: HydrostaticColumns = {
      logg: 4,
      tauRosseland: [1, 2, 3],
      pressure: [5, 5, 5],
      abross: [1, 1, 1],
    };
    expect(hydrostaticResidual(m, { gravity: 'g', output: 'dex' }).residual).toEqual([NaN, NaN, NaN]);
    expect(hydrostaticResidual(m, { gravity: 'g' }).residual).toEqual([-1, -1, -1]);
    expect(() => hydrostaticResidual({ ...m, abross: [1, 1] })).toThrow(/ABROSS 2/);
  });
});

// ------------------------------------------------------------------------------------------------
// The four estimators this function replaced, verbatim in their arithmetic.

/** grid-io `hydrostaticResidual` (derived/hydrostatic.ts): dP/dtau in tau, relative. */
function oldGridIo(model: AtmosphereModel, withAccrad: boolean): number[] {
  const g = 10 ** model.logg;
  const { pressure: p, abross, accrad, tauRosseland: tau } = model;
  const n = p.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const lo = i === 0 ? 0 : i - 1;
    const hi = i === n - 1 ? n - 1 : i + 1;
    const dPdTau = (p[hi] - p[lo]) / (tau[hi] - tau[lo]);
    const expected = (g - (withAccrad ? accrad[i] : 0)) / abross[i];
    out[i] = dPdTau / expected - 1;
  }
  return out;
}

/** pinn `hydrostaticResidualFD` (physics.ts, validation metrics): |D/R - 1| with D = d ln P/d ln tau. */
function oldPinnFD(
  gravityCms2: number,
  tau: ArrayLike<number>,
  pressure: ArrayLike<number>,
  abross: ArrayLike<number>,
  accrad: ArrayLike<number> | null,
): Float64Array {
  const n = tau.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - 1);
    const b = Math.min(n - 1, i + 1);
    const D = (Math.log(pressure[b]) - Math.log(pressure[a])) / (Math.log(tau[b]) - Math.log(tau[a]));
    const geff = gravityCms2 - (accrad ? accrad[i] : 0);
    const R = (tau[i] * geff) / (pressure[i] * abross[i]);
    out[i] = Math.abs(D / R - 1);
  }
  return out;
}

/** pinn `hydrostaticResidualDex` and `gEffOf` (evaluate.ts, the report's `pinn` section). */
function oldPinnDex(
  logg: number,
  withAccrad: boolean,
  tau: ArrayLike<number>,
  pressure: ArrayLike<number>,
  abross: ArrayLike<number>,
  accrad: ArrayLike<number>,
) {
  const g = 10 ** logg;
  const gEff = Array.from(accrad, (a) => (withAccrad ? Math.max(g - a, 1e-2 * g) : g));
  const n = tau.length;
  const dPdTau: number[] = [];
  const gOverKappa: number[] = [];
  const dex: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - 1);
    const b = Math.min(n - 1, i + 1);
    const slope = (Math.log(pressure[b]) - Math.log(pressure[a])) / (Math.log(tau[b]) - Math.log(tau[a]));
    const d = (slope * pressure[i]) / tau[i];
    const gk = gEff[i] / abross[i];
    dPdTau.push(d);
    gOverKappa.push(gk);
    dex.push(d > 0 && gk > 0 ? Math.log10(d) - Math.log10(gk) : NaN);
  }
  return { dPdTau, gOverKappa, dex };
}

/** report sample `pressureGradient` (sample/atmosphere.ts) and `hydrostatic` (sample/sample-metrics.ts). */
function oldReportSample(tau: number[], pressure: number[], abross: number[], g: number) {
  const n = tau.length;
  const s = tau.map(Math.log);
  const dPdTau = tau.map((t, i) => {
    const a = Math.max(0, i - 1);
    const b = Math.min(n - 1, i + 1);
    return (pressure[b] - pressure[a]) / (s[b] - s[a]) / t;
  });
  const gOverKappa = abross.map((k) => g / k);
  const residualDex = dPdTau.map((d, i) => Math.log10(d) - Math.log10(gOverKappa[i]));
  return { dPdTau, gOverKappa, residualDex };
}

const data = realDataDir();

describe('hydrostaticResidual reproduces each replaced estimator bit for bit', () => {
  // Synthetic atmospheres (exact hydrostatics with ACCRAD), and the same with a depth-dependent
  // pressure error and an ACCRAD close to g in a few layers (so the floor and the sign matter);
  // the ATLAS12 sample decks when the real data is there.
  const models: AtmosphereModel[] = [];
  beforeAll(async () => {
    if (!data) return;
    for (const f of ['t04000g5.00', 't08250g4.00', 't44000g4.50']) {
      for await (const d of readDecks(join(data, `atlas12-samples/at12_aaaaa_${f}.atm`)))
        models.push(deckToAtmosphereModel(d));
    }
    expect(models.length).toBeGreaterThan(6);
  });
  for (const labels of [
    { teffK: 5777, logg: 4.44, feh: 0, afe: 0 },
    { teffK: 3500, logg: 1, feh: -2, afe: 0.4 },
    { teffK: 30000, logg: 4, feh: 0.5, afe: 0 },
  ]) {
    const m = generateSyntheticAtmosphere(labels);
    models.push(m);
    const g = 10 ** m.logg;
    models.push({
      ...m,
      pressure: m.pressure.map((p, i) => p * (1 + 0.2 * Math.sin(i / 5))),
      accrad: m.accrad.map((a, i) => (i % 17 === 3 ? 0.995 * g : a)),
    });
  }

  it('grid-io: { scheme: tau, gravity: g-accrad | g, output: relative } (the defaults)', () => {
    for (const m of models) {
      expect(hydrostaticResidual(m).residual).toEqual(oldGridIo(m, true));
      expect(
        hydrostaticResidual(m, { scheme: 'tau', gravity: 'g-accrad', output: 'relative' }).residual,
      ).toEqual(oldGridIo(m, true));
      expect(hydrostaticResidual(m, { gravity: 'g' }).residual).toEqual(oldGridIo(m, false));
    }
  });

  it('pinn validation metrics: { scheme: ln-ln, gravity: g-accrad | g, output: abs-relative }', () => {
    for (const m of models) {
      const g = 10 ** m.logg;
      expect(
        hydrostaticResidual(m, { scheme: 'ln-ln', gravity: 'g-accrad', output: 'abs-relative' }).residual,
      ).toEqual(Array.from(oldPinnFD(g, m.tauRosseland, m.pressure, m.abross, m.accrad)));
      expect(
        hydrostaticResidual({ ...m, accrad: null }, { scheme: 'ln-ln', gravity: 'g', output: 'abs-relative' })
          .residual,
      ).toEqual(Array.from(oldPinnFD(g, m.tauRosseland, m.pressure, m.abross, null)));
    }
  });

  it('pinn evaluation: { scheme: ln-ln, gravity: g-accrad-floored | g, output: dex }', () => {
    for (const m of models) {
      for (const withAccrad of [true, false]) {
        const r = hydrostaticResidual(m, {
          scheme: 'ln-ln',
          gravity: withAccrad ? 'g-accrad-floored' : 'g',
          output: 'dex',
        });
        const old = oldPinnDex(m.logg, withAccrad, m.tauRosseland, m.pressure, m.abross, m.accrad);
        expect(r.residual).toEqual(old.dex);
        expect(r.dPdTau).toEqual(old.dPdTau);
        expect(r.gOverKappa).toEqual(old.gOverKappa);
      }
    }
  });

  it('report sample metrics: { scheme: ln-tau, gravity: g, output: dex }', () => {
    for (const m of models) {
      const r = hydrostaticResidual(m, { scheme: 'ln-tau', gravity: 'g', output: 'dex' });
      const old = oldReportSample(m.tauRosseland, m.pressure, m.abross, 10 ** m.logg);
      expect(r.residual).toEqual(old.residualDex);
      expect(r.dPdTau).toEqual(old.dPdTau);
      expect(pressureGradientFD(m.tauRosseland, m.pressure, 'ln-tau')).toEqual(old.dPdTau);
      expect(r.gOverKappa).toEqual(old.gOverKappa);
    }
  });
});
