// A closed-form hydrostatic atmosphere family for tests (exact to ~1e-9 by RK4 integration).
import { atmosphereContentId, salarisMh, type AtmosphereModel, type SplitName } from '@stellar-emu/grid-io';
import { Rng } from '@stellar-emu/numerics';
import { tauOf, type AtmosphereLike } from '../src/atmosphere.js';

/**
 * Labels in Teff 4000-8000 K, log g 3-5, [Fe/H] -1..0.5, [alpha/Fe] 0..0.4. Opacity
 * kappa(tau) = kappa0 tau^b (1 + 0.8 tanh ln(tau/tau_c)), constant ACCRAD = f g, and P from
 * dP/d ln tau = tau (g - ACCRAD) / kappa; RHOX = P / (g - ACCRAD); grey T(tau); XNE a smooth
 * function of P and T. Hot models (Teff > 7000 K) have 64 layers, the others 72.
 */
export function hydrostaticFamily(n: number, seed: number): AtmosphereLike[] {
  const rng = new Rng(seed);
  const out: AtmosphereLike[] = [];
  for (let j = 0; j < n; j++) {
    const teffK = 4000 + 4000 * rng.uniform();
    const logg = 3 + 2 * rng.uniform();
    const feh = -1 + 1.5 * rng.uniform();
    const afe = 0.4 * rng.uniform();
    const g = 10 ** logg;
    const accradConst = g * (0.05 + 0.3 * ((teffK - 4000) / 4000) ** 2);
    const geff = g - accradConst;
    const kappa0 = 10 ** (-1 + 0.5 * feh + 0.3 * afe) * (teffK / 5000) ** -2;
    const b = 0.2 + 0.1 * (logg - 4);
    const tauC = 10 ** (-1 + 0.3 * feh);
    const kappa = (tau: number) => kappa0 * tau ** b * (1 + 0.8 * Math.tanh(Math.log(tau / tauC)));
    const nLayers = teffK > 7000 ? 64 : 72;
    const lt0 = -6;
    const lt1 = 2;
    const tau = Array.from({ length: nLayers }, (_, i) => 10 ** (lt0 + ((lt1 - lt0) * i) / (nLayers - 1)));
    const f = (lnTau: number) => {
      const t = Math.exp(lnTau);
      return (t * geff) / kappa(t);
    };
    let P = (geff * tau[0] ** (1 - b)) / (kappa0 * (1 + 0.8 * Math.tanh(Math.log(tau[0] / tauC))) * (1 - b));
    const pressure = [P];
    for (let i = 1; i < nLayers; i++) {
      const a = Math.log(tau[i - 1]);
      const steps = 40;
      const h = (Math.log(tau[i]) - a) / steps;
      for (let s = 0; s < steps; s++) {
        const x = a + s * h;
        // dP/dlnTau does not depend on P: Simpson's rule per substep is RK4.
        P += (h / 6) * (f(x) + 4 * f(x + h / 2) + f(x + h));
      }
      pressure.push(P);
    }
    const temperature = tau.map((t) => teffK * (0.75 * (t + 2 / 3)) ** 0.25);
    out.push({
      teffK,
      logg,
      feh,
      afe,
      nLayers,
      tauRosseland: tau,
      rhox: pressure.map((p) => p / geff),
      temperature,
      pressure,
      xne: pressure.map((p, i) => 1e12 * (p / 1e4) ** 0.6 * (temperature[i] / 5000) ** 3 * 10 ** (0.3 * feh)),
      abross: tau.map(kappa),
      accrad: tau.map(() => accradConst),
    });
  }
  return out;
}

/**
 * Models (e.g. of {@link hydrostaticFamily}) as grid-io dataset records for
 * `writeAtmosphereDataset`: [M/H] by grid-io's `salarisMh`, no VTURB, marked synthetic, line =
 * index + 1, the content id, and the split `splitOf(index)` (an explicit split column, so a small
 * set does not depend on the ids' hash split).
 */
export function asAtmosphereRecords(
  models: AtmosphereLike[],
  source: string,
  splitOf: (index: number) => SplitName | null,
): AtmosphereModel[] {
  return models.map((m, i) => {
    const base: Omit<AtmosphereModel, 'id'> = {
      source,
      line: i + 1,
      teffK: m.teffK,
      logg: m.logg,
      mh: salarisMh(m.feh, m.afe),
      feh: m.feh,
      afe: m.afe,
      vturbKms: null,
      nLayers: m.nLayers,
      rhox: Array.from(m.rhox),
      temperature: Array.from(m.temperature),
      pressure: Array.from(m.pressure),
      xne: Array.from(m.xne),
      abross: Array.from(m.abross),
      accrad: Array.from(m.accrad),
      tauRosseland: Array.from(tauOf(m)),
      synthetic: true,
      split: splitOf(i),
    };
    return { id: atmosphereContentId(base), ...base };
  });
}
