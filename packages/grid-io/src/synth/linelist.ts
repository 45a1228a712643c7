// A synthetic, element-like line list for 4450–5400 Å and the smooth dependence of line strengths on Teff, log g, [M/H].
import { Rng } from '@stellar-emu/numerics';

/** One absorption line of the synthetic list. */
export interface SyntheticLine {
  /** Central wavelength, Å. */
  wavelengthAngstrom: number;
  /** Label such as 'Fe I', 'Ti II', 'H I' (synthetic: element-like, not real atomic data). */
  species: string;
  /**
   * 'neutral' / 'ion': strength from a Saha–Boltzmann model (metals, scale with 10^[M/H]);
   * 'hydrogen': Balmer line (H-beta); 'fixed': constant central optical depth (tests).
   */
  kind: 'neutral' | 'ion' | 'hydrogen' | 'fixed';
  /** Atomic mass of the absorber, u (thermal Doppler width). */
  massAmu: number;
  /** First ionization energy of the element, eV. */
  ionizationEv: number;
  /** Second ionization energy, eV. */
  secondIonizationEv: number;
  /** Excitation energy of the lower level, eV. */
  lowerEnergyEv: number;
  /** log10 of the central line optical depth in the reference star (Teff 5777 K, log g 4.44, [M/H] 0); for 'fixed' lines in every star. */
  logTau0Ref: number;
  /** Lorentzian (damping) half width at half maximum in the reference star, Å (for 'fixed' lines always). */
  lorentzHwhmRefAngstrom: number;
}

/** Seed of the default line list; fixed, independent of any per-spectrum seed. */
export const SYNTHETIC_LINE_LIST_SEED = 4861;

/** H-beta (air wavelength 4861.33 Å). */
export const H_BETA_ANGSTROM = 4861.33;

const METALS = [
  // name, mass (u), chi_I (eV), chi_II (eV), weight in the list
  { el: 'Fe', mass: 55.845, chi1: 7.902, chi2: 16.2, w: 0.5 },
  { el: 'Ti', mass: 47.867, chi1: 6.828, chi2: 13.58, w: 0.15 },
  { el: 'Cr', mass: 51.996, chi1: 6.767, chi2: 16.49, w: 0.12 },
  { el: 'Ni', mass: 58.693, chi1: 7.64, chi2: 18.17, w: 0.13 },
  { el: 'Ca', mass: 40.078, chi1: 6.113, chi2: 11.87, w: 0.1 },
] as const;

/** Options of {@link syntheticLineList}. */
export interface LineListOptions {
  /** Seed; default {@link SYNTHETIC_LINE_LIST_SEED}. */
  seed?: number;
  /** Number of random metal lines (H-beta and the Mg b triplet are added); default 300. */
  nLines?: number;
  /** Wavelength range of the random lines, Å; default [4440, 5410]. */
  rangeAngstrom?: readonly [number, number];
}

/**
 * Build the synthetic line list: H-beta, the Mg b triplet (5167.32, 5172.68, 5183.60 Å) and
 * `nLines` random metal lines (about 70 % neutral, 30 % singly ionized; element-like masses
 * and ionization energies of Fe, Ti, Cr, Ni, Ca; lower levels 0–5 eV for neutrals (skewed to
 * low excitation, 5 u²), 2–4 eV for ions; reference central optical depths log-uniform-ish between 0.01 and 20; damping
 * HWHM 0.005–0.05 Å). Sorted by wavelength. Deterministic for a given seed.
 */
export function syntheticLineList(opts: LineListOptions = {}): SyntheticLine[] {
  const seed = opts.seed ?? SYNTHETIC_LINE_LIST_SEED;
  const nLines = opts.nLines ?? 300;
  const [lo, hi] = opts.rangeAngstrom ?? [4440, 5410];
  if (!Number.isInteger(nLines) || nLines < 0)
    throw new Error(`syntheticLineList: nLines must be a non-negative integer, got ${nLines}`);
  if (!(hi > lo)) throw new Error(`syntheticLineList: empty range [${lo}, ${hi}]`);
  const rng = new Rng(seed);
  const lines: SyntheticLine[] = [
    {
      wavelengthAngstrom: H_BETA_ANGSTROM,
      species: 'H I',
      kind: 'hydrogen',
      massAmu: 1.008,
      ionizationEv: 13.598,
      secondIonizationEv: Infinity,
      lowerEnergyEv: 10.199,
      logTau0Ref: 2.5,
      lorentzHwhmRefAngstrom: 0.14,
    },
  ];
  for (const [w, logTau] of [
    [5167.32, 1.6],
    [5172.68, 1.9],
    [5183.6, 2.1],
  ] as const) {
    lines.push({
      wavelengthAngstrom: w,
      species: 'Mg I',
      kind: 'neutral',
      massAmu: 24.305,
      ionizationEv: 7.646,
      secondIonizationEv: 15.035,
      lowerEnergyEv: 2.71,
      logTau0Ref: logTau,
      lorentzHwhmRefAngstrom: 0.15,
    });
  }
  for (let i = 0; i < nLines; i++) {
    const wavelengthAngstrom = rng.uniform(lo, hi);
    const ionized = rng.uniform() < 0.3;
    let pick = rng.uniform();
    let m: (typeof METALS)[number] = METALS[0];
    for (const cand of METALS) {
      if (pick < cand.w) {
        m = cand;
        break;
      }
      pick -= cand.w;
    }
    const lowerEnergyEv = ionized ? rng.uniform(2, 4) : 5 * rng.uniform() ** 2;
    const logTau0Ref = -2 + 3.3 * rng.uniform() ** 1.5;
    const lorentzHwhmRefAngstrom = 10 ** rng.uniform(-2.3, -1.3);
    lines.push({
      wavelengthAngstrom,
      species: `${m.el} ${ionized ? 'II' : 'I'}`,
      kind: ionized ? 'ion' : 'neutral',
      massAmu: m.mass,
      ionizationEv: m.chi1,
      secondIonizationEv: m.chi2,
      lowerEnergyEv,
      logTau0Ref,
      lorentzHwhmRefAngstrom,
    });
  }
  return lines.sort((a, b) => a.wavelengthAngstrom - b.wavelengthAngstrom);
}

/** Temperature at which the synthetic lines form, K: 0.9 Teff (used for ionization and Doppler widths). */
export function lineFormationTemperatureK(teffK: number): number {
  return 0.9 * teffK;
}

/** Labels that set line strengths. */
export interface LineStrengthLabels {
  teffK: number;
  logg: number;
  mh: number;
}

interface StarState {
  theta: number;
  logT: number;
  logPe: number;
  pe: number;
  fH0: number;
  kappaCont: number;
}

/**
 * log10 electron pressure (dyn/cm^2) of the line-forming layer: a smooth fit,
 * 1.1 + 0.6 (log g - 4.44) + 3 log10(Teff / 5777) + 0.3 [M/H], clipped to [-2, 4].
 */
export function lineFormingLogPe(teffK: number, logg: number, mh: number): number {
  return Math.min(4, Math.max(-2, 1.1 + 0.6 * (logg - 4.44) + 3 * Math.log10(teffK / 5777) + 0.3 * mh));
}

/** log10(N_{i+1} / N_i) by Saha with partition-function ratio 1 (Gray eq. 1.20 form). */
function logSaha(logT: number, theta: number, chiEv: number, logPe: number): number {
  return 2.5 * logT - theta * chiEv - 0.1762 + Math.LOG10E * Math.LN2 - logPe;
}

function starState(l: LineStrengthLabels): StarState {
  const t = lineFormationTemperatureK(l.teffK);
  const theta = 5040 / t;
  const logT = Math.log10(t);
  const logPe = lineFormingLogPe(l.teffK, l.logg, l.mh);
  const pe = 10 ** logPe;
  // Hydrogen: U(H I) = 2, U(H II) = 1, so the 2 U+/U0 factor is 1 (drop log 2).
  const sH = 10 ** (logSaha(logT, theta, 13.598, logPe) - Math.LOG10E * Math.LN2);
  const fH0 = 1 / (1 + sH);
  // Continuum per H nucleus (cm^2): H- bound-free, H I Paschen bound-free (n = 3), electron scattering.
  const hMinus = 4.158e-10 * pe * theta ** 2.5 * 10 ** (0.754 * theta) * 4e-17;
  const paschen = 9 * 10 ** (-12.088 * theta) * 5e-18;
  const kappaCont = fH0 * (hMinus + paschen) + (1 - fH0) * 6.652e-25;
  return { theta, logT, logPe, pe, fH0, kappaCont };
}

let refState: StarState | null = null;
const REFERENCE: LineStrengthLabels = { teffK: 5777, logg: 4.44, mh: 0 };

function lineOpacity(line: SyntheticLine, s: StarState): number {
  const s1 = 10 ** logSaha(s.logT, s.theta, line.ionizationEv, s.logPe);
  const s2 = Number.isFinite(line.secondIonizationEv)
    ? 10 ** logSaha(s.logT, s.theta, line.secondIonizationEv, s.logPe)
    : 0;
  const denom = 1 + s1 + s1 * s2;
  const stage = line.kind === 'ion' ? s1 / denom : 1 / denom;
  return stage * 10 ** (-s.theta * line.lowerEnergyEv);
}

/**
 * Wing strength of H-beta relative to the reference star: a log-normal peak in Teff at
 * 9500 K (width 0.2 dex) times 10^(0.3 (log g - 4.44)) (Stark broadening grows with density).
 */
export function hydrogenWingStrength(teffK: number, logg: number): number {
  const peak = (t: number, g: number) =>
    10 ** (-(((Math.log10(t) - Math.log10(9500)) / 0.2) ** 2) + 0.3 * (g - 4.44));
  return peak(teffK, logg) / peak(REFERENCE.teffK, REFERENCE.logg);
}

/**
 * Central optical depth and damping width of `line` in a star with `labels`.
 *
 * Metals: the reference value times 10^[M/H] times the square root of the ratio of
 * (stage fraction x Boltzmann factor / continuum opacity) in this star to that in the reference
 * star — a Saha–Boltzmann model at the line-forming temperature
 * ({@link lineFormationTemperatureK}) and electron pressure ({@link lineFormingLogPe}) over an
 * H- + Paschen + electron-scattering continuum, softened by the square root so that strengths
 * stay in a plausible range over 4000–11000 K: neutral lines strengthen towards low Teff, ions
 * peak at higher Teff. Damping HWHM_ref 10^(0.4 (log g - 4.44)) (van der Waals-like).
 *
 * H-beta: with W = {@link hydrogenWingStrength}, tau0 = tau0_ref W^(1/2) and
 * HWHM = HWHM_ref W^(1/4), so the Lorentzian wing tau0 HWHM^2 scales as W (peak near 9500 K).
 */
export function lineStrength(
  line: SyntheticLine,
  labels: LineStrengthLabels,
): { tau0: number; lorentzHwhmAngstrom: number } {
  if (line.kind === 'fixed')
    return { tau0: 10 ** line.logTau0Ref, lorentzHwhmAngstrom: line.lorentzHwhmRefAngstrom };
  if (line.kind === 'hydrogen') {
    const w = hydrogenWingStrength(labels.teffK, labels.logg);
    return {
      tau0: 10 ** line.logTau0Ref * Math.sqrt(w),
      lorentzHwhmAngstrom: line.lorentzHwhmRefAngstrom * w ** 0.25,
    };
  }
  refState ??= starState(REFERENCE);
  const s = starState(labels);
  const ratio = lineOpacity(line, s) / s.kappaCont / (lineOpacity(line, refState) / refState.kappaCont);
  const tau0 = Math.min(1e8, 10 ** line.logTau0Ref * 10 ** labels.mh * Math.sqrt(ratio));
  return { tau0, lorentzHwhmAngstrom: line.lorentzHwhmRefAngstrom * 10 ** (0.4 * (labels.logg - 4.44)) };
}
