// Analytic grey LTE atmosphere (Hopf T(τ), H⁻ + Kramers + electron opacity, hydrostatic P) for sample metrics.
//
// Not a replacement for ATLAS: it exists so that the sample metrics (tests, `--demo`) are computed
// from a physically shaped atmosphere rather than typed-in numbers. All quantities in cgs.

/** Boltzmann constant in erg/K. */
const kBoltzErgK = 1.380649e-16;
/** Hydrogen mass in g. */
const mHydrogenG = 1.6735e-24;
/** Stefan–Boltzmann constant in erg cm⁻² s⁻¹ K⁻⁴. */
const sigmaSbCgs = 5.670374e-5;
/** Speed of light in cm/s. */
const cLightCmS = 2.99792458e10;
/** Mean molecular weight of neutral solar gas (dimensionless). */
const muNeutral = 1.3;

/** Labels of one atmosphere: Teff in K, log g in dex (cgs), [Fe/H] and [α/Fe] in dex. */
export interface AtmosphereLabels {
  teffK: number;
  logg: number;
  feh: number;
  afe: number;
}

/** One atmosphere on a log τ_Ross grid, surface first (cgs units, as in a Kurucz deck). */
export interface AnalyticAtmosphere {
  labels: AtmosphereLabels;
  /** Surface gravity in cm s⁻². */
  gravityCmS2: number;
  /** log10 τ_Ross per layer. */
  logTau: number[];
  /** τ_Ross per layer. */
  tau: number[];
  /** Column mass in g cm⁻². */
  rhox: number[];
  /** Temperature in K. */
  temperature: number[];
  /** Total pressure in dyn cm⁻². */
  pressure: number[];
  /** Electron number density in cm⁻³. */
  xne: number[];
  /** Rosseland mean opacity in cm² g⁻¹. */
  abross: number[];
  /** Radiative acceleration in cm s⁻². */
  accrad: number[];
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
  const a = (2.41e15 * temperatureK ** 1.5 * Math.exp(-chiK / temperatureK)) / nCm3;
  return a > 1e8 ? 1 : (-a + Math.sqrt(a * a + 4 * a)) / 2;
}

/** Opacity (cm² g⁻¹) and electron density (cm⁻³) at pressure P (dyn cm⁻²) and temperature T (K). */
export function opacityAndElectrons(
  pressureDynCm2: number,
  temperatureK: number,
  labels: AtmosphereLabels,
): { kappaCm2G: number; xneCm3: number } {
  const metals = 10 ** (labels.feh + 0.4 * labels.afe);
  const nCm3 = pressureDynCm2 / (kBoltzErgK * temperatureK);
  const xH = sahaFraction(temperatureK, 157_800, nCm3);
  const xMetal = sahaFraction(temperatureK, 87_000, nCm3 * 1e-2);
  const xneCm3 = nCm3 * (0.92 * xH + 1.0e-4 * metals * xMetal) + 1e-30;
  const rhoGCm3 = (pressureDynCm2 * muNeutral * mHydrogenG) / (kBoltzErgK * temperatureK * (1 + xH));
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
  const fluxOverC = (sigmaSbCgs * labels.teffK ** 4) / cLightCmS;
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

/**
 * dP/dτ in dyn cm⁻² from tabulated pressure (dyn cm⁻²) on a τ grid: central differences in ln τ
 * (one-sided at the ends), dP/dτ = (dP/d ln τ) / τ.
 */
export function pressureGradient(tau: readonly number[], pressureDynCm2: readonly number[]): number[] {
  const n = tau.length;
  const s = tau.map(Math.log);
  return tau.map((t, i) => {
    const a = Math.max(0, i - 1);
    const b = Math.min(n - 1, i + 1);
    return (pressureDynCm2[b] - pressureDynCm2[a]) / (s[b] - s[a]) / t;
  });
}
