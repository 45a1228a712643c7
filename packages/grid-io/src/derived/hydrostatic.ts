// Hydrostatic-equilibrium residual of a model atmosphere by finite differences in Rosseland tau.
import type { AtmosphereModel } from '../types.js';

/** Options of {@link hydrostaticResidual}. */
export interface HydrostaticOptions {
  /** Subtract the radiative acceleration: dP/dtau = (g - ACCRAD)/ABROSS (default true). */
  withAccrad?: boolean;
}

/**
 * Relative residual of hydrostatic equilibrium per layer:
 * r_i = (dP/dtau)_i / ((g - ACCRAD_i) / ABROSS_i) - 1, with g = 10^logg cm s^-2 and dP/dtau by
 * central differences (one-sided at the two ends) on the model's own tau (see `rosselandTau`).
 * P is the deck's gas pressure; turbulent pressure is neglected. Zero for a model in exact
 * equilibrium up to discretisation error; used to compare emulators with the grid.
 *
 * @returns one residual per layer (dimensionless)
 */
export function hydrostaticResidual(model: Pick<AtmosphereModel, 'logg' | 'pressure' | 'abross' | 'accrad' | 'tauRosseland'>, opts: HydrostaticOptions = {}): number[] {
  const withAccrad = opts.withAccrad ?? true;
  const g = 10 ** model.logg;
  const { pressure: p, abross, accrad, tauRosseland: tau } = model;
  const n = p.length;
  if (n < 2) throw new RangeError('hydrostaticResidual: need at least 2 layers');
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

/** Root-mean-square of a residual vector (e.g. of {@link hydrostaticResidual}). */
export function rms(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s / values.length);
}
