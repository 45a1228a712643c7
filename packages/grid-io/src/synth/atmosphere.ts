// Synthetic model atmospheres: grey T(tau), a parametric Rosseland opacity and exact hydrostatics.
import {
  BOLTZMANN_ERG_K,
  HYDROGEN_ATOM_MASS_G,
  KELVIN_PER_ELECTRON_VOLT,
  Rng,
  SAHA_CONSTANT_CM3_K32,
  SPEED_OF_LIGHT_CM_S,
  STEFAN_BOLTZMANN_ERG_CM2_S_K4,
} from '@stellar-emu/numerics';
import type { AtmosphereModel } from '../types.js';
import { atmosphereContentId } from '../dataset/content-hash.js';
import { type AtmosphereLabels, KURUCZ_A1_LABEL_RANGES, assertFiniteLabels, sampleLabels } from './labels.js';

/** Default depth grid of synthetic atmospheres: log10 tauRosseland from -6.875 to +2 in 80 equal steps. */
export const SYNTH_LOG_TAU_GRID = { logTauTop: -6.875, logTauBottom: 2, nLayers: 80 } as const;

/** Options of {@link generateSyntheticAtmosphere}. */
export interface SyntheticAtmosphereOptions {
  /** log10 tau of the first (surface) layer; default -6.875. */
  logTauTop?: number;
  /** log10 tau of the last (deepest) layer; default +2. */
  logTauBottom?: number;
  /** Number of layers, >= 3; default 80. */
  nLayers?: number;
  /** RK4 sub-steps per output interval in ln tau; default 8. */
  substeps?: number;
  /** Microturbulence stored in the record, km/s; default 2. */
  vturbKms?: number;
  /** `source` of the record; default `synthetic:atmospheres`. */
  source?: string;
  /** `line` of the record; default 0. */
  line?: number;
}

/**
 * [M/H] from [Fe/H] and [alpha/Fe] by the Salaris et al. (1993) relation:
 * [M/H] = [Fe/H] + log10(0.694 * 10^[alpha/Fe] + 0.306).
 */
export function salarisMh(feh: number, afe: number): number {
  return feh + Math.log10(0.694 * 10 ** afe + 0.306);
}

/**
 * Grey Eddington temperature with an approximate Hopf function:
 * T^4 = 3/4 Teff^4 (tau + q(tau)), q(tau) = 0.7104 - 0.1331 exp(-3.4488 tau). Returns K.
 */
export function greyTemperatureK(teffK: number, tau: number): number {
  const q = 0.7104 - 0.1331 * Math.exp(-3.4488 * tau);
  return teffK * Math.pow(0.75 * (tau + q), 0.25);
}

/** Composition used by the opacity and ionization laws. */
interface Composition {
  /** Metal mass fraction Z. */
  z: number;
  /** Metal number abundance relative to all nuclei, for electron donors. */
  metalDonors: number;
}

function composition(mh: number): Composition {
  return { z: 0.0134 * 10 ** mh, metalDonors: 1e-4 * 10 ** mh };
}

/** Gas state of one layer from P and T: number densities (cm^-3), ionization, density (g/cm^3). */
export interface GasState {
  /** Electron number density, cm^-3. */
  xne: number;
  /** Ionized fraction of hydrogen, 0..1. */
  xH: number;
  /** Mass density, g/cm^3. */
  rhoGCm3: number;
}

function sahaFraction(ratio: number): number {
  // x^2 / (1 - x) = ratio, solved without cancellation.
  if (ratio <= 0) return 0;
  return 2 / (1 + Math.sqrt(1 + 4 / ratio));
}

/**
 * Smooth Saha-like ionization of H (13.6 eV), He (24.6 eV) and metal donors (7.9 eV) at gas
 * pressure `pressureDynCm2` and temperature `temperatureK`, solved by a fixed number of
 * fixed-point sweeps (so the result is a smooth function of P and T).
 */
export function gasState(pressureDynCm2: number, temperatureK: number, mh: number): GasState {
  const comp = composition(mh);
  const nTot = pressureDynCm2 / (BOLTZMANN_ERG_K * temperatureK);
  const t15 = SAHA_CONSTANT_CM3_K32 * temperatureK ** 1.5;
  const sH = t15 * Math.exp((-13.598 * KELVIN_PER_ELECTRON_VOLT) / temperatureK);
  const sHe = 4 * t15 * Math.exp((-24.587 * KELVIN_PER_ELECTRON_VOLT) / temperatureK);
  const sM = t15 * Math.exp((-7.9 * KELVIN_PER_ELECTRON_VOLT) / temperatureK);
  let ye = 0;
  let xH = 0;
  let xHe = 0;
  let xM = 0;
  for (let it = 0; it < 6; it++) {
    const nAtoms = nTot / (1 + ye);
    xH = sahaFraction(sH / (0.92 * nAtoms));
    xHe = sahaFraction(sHe / (0.08 * nAtoms));
    xM = sahaFraction(sM / (comp.metalDonors * nAtoms + 1e-300));
    ye = 0.92 * xH + 0.08 * xHe + comp.metalDonors * xM;
  }
  const nAtoms = nTot / (1 + ye);
  return {
    xne: ye * nAtoms,
    xH,
    rhoGCm3: nAtoms * HYDROGEN_ATOM_MASS_G * (0.92 + 0.08 * 4.0026 + 0.0134 * 10 ** mh * 15),
  };
}

/** Constants of the parametric opacity law (exported for documentation and tests; read-only). */
export const OPACITY_LAW = {
  /** Normalization in cm^2/g. */
  scaleCm2G: 7.5,
  /** Pressure exponent a. */
  pressureExponent: 0.6,
  /** Rising (H- like) temperature exponent b below the peak. */
  risingTExponent: 7,
  /** Kramers-like falling exponent above the peak (kappa ~ T^-3.5 there). */
  fallingTExponent: 3.5,
  /** Peak temperature at P = 1e4 dyn/cm^2, K (scales as P^0.05). */
  peakK: 10000,
} as const;

/**
 * Smooth fraction (0..1) of ionized hydrogen used by the opacity and radiative-acceleration
 * laws: 1 / (1 + (T_p(P) / T)^8), T_p = 10000 K (P / 1e4)^0.05.
 */
export function ionizationSwitch(pressureDynCm2: number, temperatureK: number): number {
  const tPeak = OPACITY_LAW.peakK * (pressureDynCm2 / 1e4) ** 0.05;
  return 1 / (1 + (tPeak / temperatureK) ** 8);
}

/**
 * Parametric Rosseland mean opacity in cm^2/g — a smooth, positive broken power law in
 * (P, T) with a metallicity factor, not a real opacity table:
 * kappa = 7.5 f_Z (P/1e4)^0.6 u^7 / (1 + u^5.25)^2 + 0.348 s + 0.1 Z, with
 * u = T / T_p(P), T_p = 10000 K (P/1e4)^0.05 (H- like T^7 rise below the peak, Kramers-like
 * T^-3.5 fall above it), s = {@link ionizationSwitch} (electron scattering 0.2 (1 + X) on
 * ionized hydrogen), Z = 0.0134 * 10^[M/H] (molecular floor), and
 * f_Z = w 10^[M/H] + (1 - w), w = 1 / (1 + (T/6500 K)^2) (metals supply the H- electrons in
 * cool gas). Clipped to [1e-6, 1e6]. Gentle enough in T that hydrostatic profiles are smooth
 * on the 80-layer grid.
 */
export function rosselandOpacityCm2G(pressureDynCm2: number, temperatureK: number, mh: number): number {
  const L = OPACITY_LAW;
  const { z } = composition(mh);
  const u = temperatureK / (L.peakK * (pressureDynCm2 / 1e4) ** 0.05);
  const w = 1 / (1 + (temperatureK / 6500) ** 2);
  const fZ = w * 10 ** mh + (1 - w);
  const kPeak =
    (L.scaleCm2G * fZ * (pressureDynCm2 / 1e4) ** L.pressureExponent * u ** L.risingTExponent) /
    (1 + u ** ((L.risingTExponent + L.fallingTExponent) / 2)) ** 2;
  const kEs = 0.2 * 1.74 * ionizationSwitch(pressureDynCm2, temperatureK);
  return Math.min(1e6, Math.max(1e-6, kPeak + kEs + 0.1 * z));
}

/**
 * Radiative acceleration in cm/s^2 from an Eddington factor with electron scattering on the
 * ionized fraction and a factor 3 for lines and continua: Gamma = 3 * 0.2 (1 + X) s sigma
 * Teff^4 / (c g); accrad = 0.9 g Gamma / (1 + Gamma), so 0 < accrad < 0.9 g.
 */
export function radiativeAccelerationCms2(
  pressureDynCm2: number,
  temperatureK: number,
  teffK: number,
  gravityCms2: number,
): number {
  const kEs = 0.2 * 1.74 * ionizationSwitch(pressureDynCm2, temperatureK);
  const gamma = (3 * kEs * STEFAN_BOLTZMANN_ERG_CM2_S_K4 * teffK ** 4) / (SPEED_OF_LIGHT_CM_S * gravityCms2);
  return (0.9 * gravityCms2 * gamma) / (1 + gamma);
}

/**
 * Build one synthetic model atmosphere in the `AtmosphereModel` schema.
 *
 * T(tau) is grey ({@link greyTemperatureK}); P is integrated in ln tau with classical RK4 on
 * `substeps` sub-steps per output interval, dP/dln tau = tau (g - accrad) / kappa, from the
 * optically thin top layer P_0 = tau_0 (g - accrad_0) / kappa_0. `tauRosseland` is the
 * log-uniform grid itself; RHOX is built so that the project's convention (`rosselandTau`:
 * tau_0 = ABROSS_0 RHOX_0, then the trapezoid rule in RHOX) gives back exactly that grid.
 * The id is `atmosphereContentId` (sha256 of labels and depth arrays).
 * @param labels Teff (K), log g (cgs dex), [Fe/H], [alpha/Fe] (dex); [M/H] by {@link salarisMh}.
 */
export function generateSyntheticAtmosphere(
  labels: AtmosphereLabels,
  opts: SyntheticAtmosphereOptions = {},
): AtmosphereModel {
  assertFiniteLabels('generateSyntheticAtmosphere', labels as unknown as Record<string, unknown>, [
    'teffK',
    'logg',
    'feh',
    'afe',
  ]);
  const { teffK, logg, feh, afe } = labels;
  if (teffK < 500 || teffK > 200000)
    throw new Error(`generateSyntheticAtmosphere: teffK=${teffK} outside 500..200000 K`);
  if (logg < -3 || logg > 9) throw new Error(`generateSyntheticAtmosphere: logg=${logg} outside -3..9`);
  if (Math.abs(feh) > 6 || Math.abs(afe) > 2)
    throw new Error(`generateSyntheticAtmosphere: feh=${feh} or afe=${afe} out of range`);
  const logTauTop = opts.logTauTop ?? SYNTH_LOG_TAU_GRID.logTauTop;
  const logTauBottom = opts.logTauBottom ?? SYNTH_LOG_TAU_GRID.logTauBottom;
  const n = opts.nLayers ?? SYNTH_LOG_TAU_GRID.nLayers;
  const substeps = opts.substeps ?? 8;
  if (!(Number.isFinite(logTauTop) && Number.isFinite(logTauBottom) && logTauBottom > logTauTop)) {
    throw new Error(
      `generateSyntheticAtmosphere: need logTauTop < logTauBottom, got ${logTauTop}, ${logTauBottom}`,
    );
  }
  if (!Number.isInteger(n) || n < 3)
    throw new Error(`generateSyntheticAtmosphere: nLayers must be an integer >= 3, got ${n}`);
  if (!Number.isInteger(substeps) || substeps < 1)
    throw new Error(`generateSyntheticAtmosphere: substeps must be a positive integer`);

  const mh = salarisMh(feh, afe);
  const g = 10 ** logg;
  const kappa = (p: number, tau: number): number => rosselandOpacityCm2G(p, greyTemperatureK(teffK, tau), mh);
  // d ln P / d ln tau = tau (g - accrad) / (kappa P), as a function of s = ln tau.
  const rhs = (s: number, lnP: number): number => {
    const tau = Math.exp(s);
    const p = Math.exp(lnP);
    const a = radiativeAccelerationCms2(p, greyTemperatureK(teffK, tau), teffK, g);
    return (tau * (g - a)) / (kappa(p, tau) * p);
  };

  const ln10 = Math.LN10;
  const sGrid = new Float64Array(n);
  for (let i = 0; i < n; i++) sGrid[i] = ln10 * (logTauTop + ((logTauBottom - logTauTop) * i) / (n - 1));

  // Top boundary: P_0 = tau_0 (g - accrad(P_0)) / kappa(P_0), damped fixed point in ln P.
  const tau0 = Math.exp(sGrid[0]);
  let lnP = Math.log(tau0 * g);
  for (let it = 0; it < 200; it++) {
    const k = kappa(Math.exp(lnP), tau0);
    const target = Math.log(
      (tau0 * (g - radiativeAccelerationCms2(Math.exp(lnP), greyTemperatureK(teffK, tau0), teffK, g))) / k,
    );
    const step = 0.5 * (target - lnP);
    lnP += step;
    if (Math.abs(step) < 1e-13) break;
  }
  const pressure = new Array<number>(n);
  pressure[0] = Math.exp(lnP);
  for (let i = 1; i < n; i++) {
    const h = (sGrid[i] - sGrid[i - 1]) / substeps;
    let s = sGrid[i - 1];
    for (let j = 0; j < substeps; j++) {
      const a1 = rhs(s, lnP);
      const a2 = rhs(s + h / 2, lnP + (h / 2) * a1);
      const a3 = rhs(s + h / 2, lnP + (h / 2) * a2);
      const a4 = rhs(s + h, lnP + h * a3);
      lnP += (h / 6) * (a1 + 2 * a2 + 2 * a3 + a4);
      s += h;
    }
    pressure[i] = Math.exp(lnP);
  }

  const temperature = new Array<number>(n);
  const xne = new Array<number>(n);
  const abross = new Array<number>(n);
  const accrad = new Array<number>(n);
  const tauRosseland = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const tau = Math.exp(sGrid[i]);
    const t = greyTemperatureK(teffK, tau);
    const k = rosselandOpacityCm2G(pressure[i], t, mh);
    tauRosseland[i] = tau;
    temperature[i] = t;
    abross[i] = k;
    accrad[i] = radiativeAccelerationCms2(pressure[i], t, teffK, g);
    xne[i] = gasState(pressure[i], t, mh).xne;
  }
  // RHOX by the inverse of the project's tau convention (rosselandTau): tau_0 = ABROSS_0 RHOX_0,
  // then the trapezoid rule, so rosselandTau(rhox, abross) reproduces tauRosseland exactly.
  const rhoxArr = new Array<number>(n);
  rhoxArr[0] = tauRosseland[0] / abross[0];
  for (let i = 1; i < n; i++)
    rhoxArr[i] = rhoxArr[i - 1] + (2 * (tauRosseland[i] - tauRosseland[i - 1])) / (abross[i] + abross[i - 1]);
  for (const [name, arr] of [
    ['rhox', rhoxArr],
    ['pressure', pressure],
    ['xne', xne],
    ['abross', abross],
    ['temperature', temperature],
  ] as const) {
    for (let i = 0; i < n; i++) {
      if (!(Number.isFinite(arr[i]) && arr[i] > 0)) {
        throw new Error(
          `generateSyntheticAtmosphere: non-finite or non-positive ${name}[${i}]=${arr[i]} for Teff=${teffK}, logg=${logg}, [Fe/H]=${feh}, [a/Fe]=${afe}`,
        );
      }
    }
  }
  const vturbKms = opts.vturbKms ?? 2;
  const model: Omit<AtmosphereModel, 'id'> = {
    source: opts.source ?? 'synthetic:atmospheres',
    line: opts.line ?? 0,
    teffK,
    logg,
    mh,
    feh,
    afe,
    vturbKms,
    nLayers: n,
    rhox: rhoxArr,
    temperature,
    pressure,
    xne,
    abross,
    accrad,
    tauRosseland,
    synthetic: true,
    split: null,
  };
  return { id: atmosphereContentId(model), ...model };
}

/** Options of {@link syntheticAtmospheres}. */
export interface SyntheticAtmospheresOptions extends Omit<SyntheticAtmosphereOptions, 'source' | 'line'> {
  /** Number of models, a non-negative integer. */
  n: number;
  /** Seed of the label draws. */
  seed: number;
  /** Label box; default {@link KURUCZ_A1_LABEL_RANGES}. */
  ranges?: Record<keyof AtmosphereLabels, { min: number; max: number }>;
}

/**
 * Lazily generate `n` synthetic atmospheres with labels drawn uniformly in the box (default
 * Kurucz-a1). Records carry `source: 'synthetic:atmospheres:seed=S'` and `line` = index + 1.
 */
export function* syntheticAtmospheres(
  opts: SyntheticAtmospheresOptions,
): Generator<AtmosphereModel, void, undefined> {
  const { n, seed, ranges = KURUCZ_A1_LABEL_RANGES, ...rest } = opts;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`syntheticAtmospheres: n must be a non-negative integer, got ${n}`);
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++) {
    const labels = sampleLabels(rng, ranges);
    yield generateSyntheticAtmosphere(labels, {
      ...rest,
      source: `synthetic:atmospheres:seed=${seed}`,
      line: i + 1,
    });
  }
}
