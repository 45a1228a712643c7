// Analytic grey LTE atmosphere (Hopf T(τ), H⁻ + Kramers + electron opacity, hydrostatic P) for sample metrics.
//
// Not a replacement for ATLAS: it exists so that the report tests' sample metrics are computed
// from a physically shaped atmosphere rather than typed-in numbers. All quantities in cgs.
import type { AtmosphereQuantity } from '@stellar-emu/grid-io';
import {
  BOLTZMANN_ERG_K,
  HYDROGEN_ATOM_MASS_G,
  SAHA_CONSTANT_CM3_K32,
  SPEED_OF_LIGHT_CM_S,
  STEFAN_BOLTZMANN_ERG_CM2_S_K4,
} from '@stellar-emu/numerics';

/** Mean molecular weight of neutral solar gas (dimensionless). */
const muNeutral = 1.3;

/** Labels of one atmosphere: Teff in K, log g in dex (cgs), [Fe/H] and [α/Fe] in dex. */
export interface AtmosphereLabels {
  teffK: number;
  logg: number;
  feh: number;
  afe: number;
}

/**
 * One atmosphere on a log τ_Ross grid, surface first: one array per grid-io ATMOSPHERE_QUANTITIES
 * entry (cgs units, as in a Kurucz deck; the pressure is the total pressure).
 */
export interface AnalyticAtmosphere extends Record<AtmosphereQuantity, number[]> {
  labels: AtmosphereLabels;
  /** Surface gravity in cm s⁻². */
  gravityCmS2: number;
  /** log10 τ_Ross per layer. */
  logTau: number[];
  /** τ_Ross per layer. */
  tau: number[];
}

/** The ATLAS9 depth grid: 72 layers, log τ_Ross from −6.875 to 2.0 in steps of 0.125. */
export const ATLAS_LOG_TAU: readonly number[] = Array.from({ length: 72 }, (_, i) => -6.875 + 0.125 * i);

/** Hopf function q(τ) (fit), so that T⁴ = ¾ Teff⁴ (τ + q(τ)). */
const hopf = (tau: number): number => 0.7104 - 0.1331 * Math.exp(-3.4488 * tau);

/** Temperature in K at optical depth τ of a grey atmosphere. */
export const greyTemperatureK = (teffK: number, tau: number): number =>
  teffK * (0.75 * (tau + hopf(tau))) ** 0.25;

/** Saha ionized fraction of an element with ionization energy `chiK` (in K) at density nCm3. */
function sahaFraction(temperatureK: number, chiK: number, nCm3: number): number {
  const a = (SAHA_CONSTANT_CM3_K32 * temperatureK ** 1.5 * Math.exp(-chiK / temperatureK)) / nCm3;
  return a > 1e8 ? 1 : (-a + Math.sqrt(a * a + 4 * a)) / 2;
}

/** Opacity (cm² g⁻¹) and electron density (cm⁻³) at pressure P (dyn cm⁻²) and temperature T (K). */
export function opacityAndElectrons(
  pressureDynCm2: number,
  temperatureK: number,
  labels: AtmosphereLabels,
): { kappaCm2G: number; xneCm3: number } {
  const metals = 10 ** (labels.feh + 0.4 * labels.afe);
  const nCm3 = pressureDynCm2 / (BOLTZMANN_ERG_K * temperatureK);
  const xH = sahaFraction(temperatureK, 157_800, nCm3);
  const xMetal = sahaFraction(temperatureK, 87_000, nCm3 * 1e-2);
  const xneCm3 = nCm3 * (0.92 * xH + 1.0e-4 * metals * xMetal) + 1e-30;
  const rhoGCm3 =
    (pressureDynCm2 * muNeutral * HYDROGEN_ATOM_MASS_G) / (BOLTZMANN_ERG_K * temperatureK * (1 + xH));
  // H⁻ bound-free (T⁹ up to ~7500 K, needs neutral H and free electrons), Kramers free-free, electron scattering.
  const electronFraction = Math.min(1, xneCm3 / nCm3 / 1e-4);
  const kHminus =
    2.5e-31 *
      Math.max(metals, 1e-3) ** 0.5 *
      rhoGCm3 ** 0.5 *
      (temperatureK ** 9 / (1 + (temperatureK / 7500) ** 9)) *
      (1 - xH) *
      electronFraction ** 0.5 +
    1e-30;
  const kKramers = 3.7e22 * rhoGCm3 * temperatureK ** -3.5 * xH * xH;
  const kElectron = 0.2 * 1.7 * xH;
  const kFloor = 2e-4 * (0.5 + metals);
  const kappaCm2G = kHminus + kKramers + kElectron + kFloor;
  return { kappaCm2G, xneCm3 };
}

/**
 * Integrate the hydrostatic equation dP/dτ = (g − g_rad)/κ(P, T) with RK4 in ln τ on the ATLAS grid
 * (4 substeps per layer), with T(τ) grey and g_rad = κ σ Teff⁴ / c; column mass from d rhox = dτ/κ.
 */
export function analyticAtmosphere(
  labels: AtmosphereLabels,
  logTau: readonly number[] = ATLAS_LOG_TAU,
): AnalyticAtmosphere {
  const g = 10 ** labels.logg;
  const fluxOverC = (STEFAN_BOLTZMANN_ERG_CM2_S_K4 * labels.teffK ** 4) / SPEED_OF_LIGHT_CM_S;
  const kappaAt = (p: number, tau: number) =>
    opacityAndElectrons(p, greyTemperatureK(labels.teffK, tau), labels).kappaCm2G;
  // ODE in s = ln τ for y = ln P: dy/ds = τ (g − κ F/c) / (κ P).
  const dyds = (s: number, y: number) => {
    const tau = Math.exp(s);
    const p = Math.exp(y);
    const k = kappaAt(p, tau);
    return (tau * Math.max(g - k * fluxOverC, 1e-3 * g)) / (k * p);
  };
  const drhoxds = (s: number, y: number) => Math.exp(s) / kappaAt(Math.exp(y), Math.exp(s));

  // Starting pressure: with κ ∝ P^a the surface solution is P ≈ (1 + a) g τ / κ(P); damped fixed point.
  const tau0 = 10 ** logTau[0];
  let lnP = Math.log(g * tau0 * 1e3);
  for (let i = 0; i < 200; i++)
    lnP = 0.5 * lnP + 0.5 * Math.log((1.5 * g * tau0) / kappaAt(Math.exp(lnP), tau0));

  const out: AnalyticAtmosphere = {
    labels,
    gravityCmS2: g,
    logTau: [...logTau],
    tau: [],
    rhox: [],
    temperature: [],
    pressure: [],
    xne: [],
    abross: [],
    accrad: [],
  };
  let rhox = Math.exp(lnP) / g;
  for (let i = 0; i < logTau.length; i++) {
    if (i > 0) {
      const s0 = logTau[i - 1] * Math.LN10;
      const s1 = logTau[i] * Math.LN10;
      const n = 4;
      const h = (s1 - s0) / n;
      for (let j = 0; j < n; j++) {
        const s = s0 + j * h;
        const k1 = dyds(s, lnP);
        const k2 = dyds(s + h / 2, lnP + (h / 2) * k1);
        const k3 = dyds(s + h / 2, lnP + (h / 2) * k2);
        const k4 = dyds(s + h, lnP + h * k3);
        const r1 = drhoxds(s, lnP);
        const r2 = drhoxds(s + h / 2, lnP + (h / 2) * k1);
        const r4 = drhoxds(s + h, lnP + h * k3);
        rhox += (h / 6) * (r1 + 4 * r2 + r4);
        lnP += (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
      }
    }
    const tau = 10 ** logTau[i];
    const t = greyTemperatureK(labels.teffK, tau);
    const p = Math.exp(lnP);
    const { kappaCm2G, xneCm3 } = opacityAndElectrons(p, t, labels);
    out.tau.push(tau);
    out.rhox.push(rhox);
    out.temperature.push(t);
    out.pressure.push(p);
    out.xne.push(xneCm3);
    out.abross.push(kappaCm2G);
    out.accrad.push(kappaCm2G * fluxOverC);
  }
  return out;
}
