// Hydrostatic-equilibrium residual of a model atmosphere by finite differences in Rosseland tau:
// the workspace's one estimator, with the conventions its callers differ in as options.

/**
 * How dP/dτ is differenced on the model's own τ grid. Every scheme takes central differences
 * over layers i−1 and i+1, one-sided (i, i+1 and i−1, i) at the two ends:
 * - `tau`: dP/dτ = ΔP / Δτ;
 * - `ln-tau`: dP/dτ = (ΔP / Δln τ) / τ_i;
 * - `ln-ln`: dP/dτ = (Δln P / Δln τ) P_i / τ_i. The relative residual of this scheme compares
 *   D = Δln P / Δln τ with its equilibrium value τ_i g_eff / (P_i κ_i) directly.
 */
export type PressureGradientScheme = 'tau' | 'ln-tau' | 'ln-ln';

/**
 * The effective gravity g_eff per layer, with g = 10^logg cm s⁻²:
 * - `g`: g (ACCRAD neglected);
 * - `g-accrad`: g − ACCRAD_i;
 * - `g-accrad-floored`: max(g − ACCRAD_i, {@link HYDROSTATIC_GEFF_FLOOR} g), as the PINN's physics loss.
 */
export type HydrostaticGravity = 'g' | 'g-accrad' | 'g-accrad-floored';

/**
 * What {@link hydrostaticResidual} returns as `residual`, per layer:
 * - `relative`: (dP/dτ) / (g_eff / κ) − 1 (signed, dimensionless);
 * - `abs-relative`: |(dP/dτ) / (g_eff / κ) − 1|;
 * - `dex`: log10(dP/dτ) − log10(g_eff / κ), NaN where either is not positive.
 */
export type HydrostaticOutput = 'relative' | 'abs-relative' | 'dex';

/** Smallest g_eff / g of the `g-accrad-floored` convention (keeps g_eff > 0 where ACCRAD ≈ g). */
export const HYDROSTATIC_GEFF_FLOOR = 1e-2;

/** Options of {@link hydrostaticResidual}. */
export interface HydrostaticOptions {
  /** Differencing of dP/dτ (default `tau`). */
  scheme?: PressureGradientScheme;
  /** Effective gravity (default `g-accrad`). */
  gravity?: HydrostaticGravity;
  /** Form of the residual (default `relative`). */
  output?: HydrostaticOutput;
}

/**
 * The depth columns the estimator needs, surface first (cgs; structurally an `AtmosphereModel`).
 * `accrad` may be absent when the gravity convention is `g`.
 */
export interface HydrostaticColumns {
  logg: number;
  tauRosseland: ArrayLike<number>;
  pressure: ArrayLike<number>;
  abross: ArrayLike<number>;
  accrad?: ArrayLike<number> | null;
}

/** The residual per layer and the two sides of dP/dτ = g_eff/κ it compares (dyn cm⁻²). */
export interface HydrostaticResult {
  residual: number[];
  dPdTau: number[];
  gOverKappa: number[];
}

/**
 * dP/dτ per layer (dyn cm⁻²) from pressure (dyn cm⁻²) tabulated on a τ grid, by `scheme`
 * (see {@link PressureGradientScheme}). Needs at least 2 layers.
 */
export function pressureGradientFD(
  tau: ArrayLike<number>,
  pressure: ArrayLike<number>,
  scheme: PressureGradientScheme = 'tau',
): number[] {
  const n = tau.length;
  if (n < 2) throw new RangeError('pressureGradientFD: need at least 2 layers');
  if (pressure.length !== n)
    throw new RangeError(`pressureGradientFD: tau has ${n} layers, pressure ${pressure.length}`);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - 1);
    const b = Math.min(n - 1, i + 1);
    if (scheme === 'tau') out[i] = (pressure[b] - pressure[a]) / (tau[b] - tau[a]);
    else if (scheme === 'ln-tau')
      out[i] = (pressure[b] - pressure[a]) / (Math.log(tau[b]) - Math.log(tau[a])) / tau[i];
    else out[i] = (logSlope(tau, pressure, a, b) * pressure[i]) / tau[i];
  }
  return out;
}

/** Δln P / Δln τ between layers a and b. */
function logSlope(tau: ArrayLike<number>, pressure: ArrayLike<number>, a: number, b: number): number {
  return (Math.log(pressure[b]) - Math.log(pressure[a])) / (Math.log(tau[b]) - Math.log(tau[a]));
}

/** g_eff per layer (cm s⁻²) for g = 10^logg under `gravity` (see {@link HydrostaticGravity}). */
export function effectiveGravity(
  logg: number,
  accrad: ArrayLike<number> | null | undefined,
  n: number,
  gravity: HydrostaticGravity,
): number[] {
  const g = 10 ** logg;
  if (gravity === 'g') return new Array<number>(n).fill(g);
  if (!accrad || accrad.length !== n)
    throw new RangeError(
      `effectiveGravity: '${gravity}' needs ACCRAD on ${n} layers, got ${accrad ? accrad.length : 'none'}`,
    );
  const floor = HYDROSTATIC_GEFF_FLOOR * g;
  return Array.from({ length: n }, (_, i) =>
    gravity === 'g-accrad' ? g - accrad[i] : Math.max(g - accrad[i], floor),
  );
}

/**
 * Residual of hydrostatic equilibrium dP/dτ = g_eff / κ per layer, with κ = ABROSS, P the
 * model's pressure column (turbulent pressure neglected) and dP/dτ by finite differences on the
 * model's own τ (see {@link PressureGradientScheme}); zero for a model in exact equilibrium up to
 * discretisation error. The one estimator of the workspace, applied alike to the grid and to
 * emulator predictions on the same τ. Defaults: differences in τ, g_eff = g − ACCRAD, relative
 * residual. The conventions in use:
 * - grid-io (this default): `{ scheme: 'tau', gravity: 'g-accrad', output: 'relative' }`;
 * - pinn validation metrics: `{ scheme: 'ln-ln', gravity: 'g-accrad' | 'g', output: 'abs-relative' }`;
 * - pinn evaluation (report `pinn` section): `{ scheme: 'ln-ln', gravity: 'g-accrad-floored' | 'g', output: 'dex' }`;
 * - report sample metrics: `{ scheme: 'ln-tau', gravity: 'g', output: 'dex' }`.
 *
 * @returns the residual, dP/dτ and g_eff/κ per layer (needs at least 2 layers)
 */
export function hydrostaticResidual(
  model: HydrostaticColumns,
  opts: HydrostaticOptions = {},
): HydrostaticResult {
  const scheme = opts.scheme ?? 'tau';
  const output = opts.output ?? 'relative';
  const { tauRosseland: tau, pressure: p, abross } = model;
  const n = tau.length;
  if (abross.length !== n)
    throw new RangeError(`hydrostaticResidual: tau has ${n} layers, ABROSS ${abross.length}`);
  const dPdTau = pressureGradientFD(tau, p, scheme);
  const gEff = effectiveGravity(model.logg, model.accrad, n, opts.gravity ?? 'g-accrad');
  const gOverKappa = gEff.map((g, i) => g / abross[i]);
  const residual = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (output === 'dex') {
      const d = dPdTau[i];
      const gk = gOverKappa[i];
      residual[i] = d > 0 && gk > 0 ? Math.log10(d) - Math.log10(gk) : NaN;
      continue;
    }
    let ratio: number;
    if (scheme === 'ln-ln') {
      const a = Math.max(0, i - 1);
      const b = Math.min(n - 1, i + 1);
      ratio = logSlope(tau, p, a, b) / ((tau[i] * gEff[i]) / (p[i] * abross[i]));
    } else {
      ratio = dPdTau[i] / gOverKappa[i];
    }
    residual[i] = output === 'abs-relative' ? Math.abs(ratio - 1) : ratio - 1;
  }
  return { residual, dPdTau, gOverKappa };
}

/** Root-mean-square of a residual vector (e.g. of {@link hydrostaticResidual}). */
export function rms(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s / values.length);
}
