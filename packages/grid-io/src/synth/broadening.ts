// Line broadening: thermal + microturbulent Doppler width, rotation kernel (Gray) and instrumental Gaussian.
import { ATOMIC_MASS_UNIT_G, BOLTZMANN_ERG_K, SPEED_OF_LIGHT_KM_S } from '@stellar-emu/numerics';

/** FWHM / sigma of a Gaussian, 2 sqrt(2 ln 2). */
export const GAUSSIAN_FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.LN2);

/**
 * Gaussian sigma (Å) of the thermal + microturbulent Doppler profile. Convention: the Doppler
 * width is Δλ_D = (λ/c) sqrt(2kT/m + ξ²) and the profile exp(-(Δλ/Δλ_D)²), so
 * sigma = Δλ_D / sqrt(2) = (λ/c) sqrt(kT/m + ξ²/2).
 * @param massAmu atomic mass of the absorber in u
 * @param vmicKms microturbulence ξ in km/s
 */
export function dopplerSigmaAngstrom(
  wavelengthAngstrom: number,
  temperatureK: number,
  massAmu: number,
  vmicKms: number,
): number {
  const vth2Kms2 = (2 * BOLTZMANN_ERG_K * temperatureK) / (massAmu * ATOMIC_MASS_UNIT_G) / 1e10; // (cm/s)^2 -> (km/s)^2
  return ((wavelengthAngstrom / SPEED_OF_LIGHT_KM_S) * Math.sqrt(vth2Kms2 + vmicKms * vmicKms)) / Math.SQRT2;
}

/** Gaussian sigma (km/s) of an instrument with resolving power R = λ / FWHM: c / (R 2 sqrt(2 ln 2)). */
export function instrumentalSigmaKms(resolution: number): number {
  return SPEED_OF_LIGHT_KM_S / (resolution * GAUSSIAN_FWHM_PER_SIGMA);
}

/**
 * Cumulative distribution of the rotation kernel with linear limb darkening ε (Gray, The
 * Observation and Analysis of Stellar Photospheres, eq. 18.14):
 * G(u) = [2 (1-ε) sqrt(1-u²) + (π ε / 2)(1-u²)] / [π (1 - ε/3)], u = Δv / (v sin i) in [-1, 1].
 */
export function rotationKernelCdf(u: number, limbDarkening: number): number {
  if (u <= -1) return 0;
  if (u >= 1) return 1;
  const e = limbDarkening;
  const ellipse = (1 - e) * (u * Math.sqrt(1 - u * u) + Math.asin(u) + Math.PI / 2);
  const parabola = ((Math.PI * e) / 2) * (u - (u * u * u) / 3 + 2 / 3);
  return (ellipse + parabola) / (Math.PI * (1 - e / 3));
}

/**
 * Second moment <u²> of the rotation kernel in units of (v sin i)²: for linear limb darkening
 * [(1-ε)/4 + 2ε/15] / (1 - ε/3) (0.25 for ε = 0, 0.225 for ε = 0.6).
 */
export function rotationKernelSecondMoment(limbDarkening: number): number {
  const e = limbDarkening;
  return ((1 - e) / 4 + (2 * e) / 15) / (1 - e / 3);
}

/**
 * Rotation kernel on a velocity grid of step `stepKms`, each tap the exact integral of G over
 * its pixel (so the taps are >= 0 and sum to 1). Length 2h + 1, centre tap at index h.
 */
export function rotationKernelTaps(vsiniKms: number, stepKms: number, limbDarkening: number): Float64Array {
  if (!(vsiniKms > 0 && Number.isFinite(vsiniKms)))
    throw new Error(`rotationKernelTaps: vsiniKms must be > 0, got ${vsiniKms}`);
  if (!(stepKms > 0)) throw new Error(`rotationKernelTaps: stepKms must be > 0, got ${stepKms}`);
  if (!(limbDarkening >= 0 && limbDarkening <= 1))
    throw new Error(`rotationKernelTaps: limb darkening must be in [0, 1], got ${limbDarkening}`);
  const h = Math.ceil(vsiniKms / stepKms + 0.5);
  const taps = new Float64Array(2 * h + 1);
  for (let j = -h; j <= h; j++) {
    const lo = ((j - 0.5) * stepKms) / vsiniKms;
    const hi = ((j + 0.5) * stepKms) / vsiniKms;
    taps[j + h] = rotationKernelCdf(hi, limbDarkening) - rotationKernelCdf(lo, limbDarkening);
  }
  return taps;
}

/** Bessel function of the first kind J1 (rational approximations, Numerical Recipes; |error| < 1e-8). */
export function besselJ1(x: number): number {
  const ax = Math.abs(x);
  if (ax < 8) {
    const y = x * x;
    const a1 =
      x *
      (72362614232.0 +
        y * (-7895059235.0 + y * (242396853.1 + y * (-2972611.439 + y * (15704.4826 + y * -30.16036606)))));
    const a2 =
      144725228442.0 + y * (2300535178.0 + y * (18583304.74 + y * (99447.43394 + y * (376.9991397 + y))));
    return a1 / a2;
  }
  const z = 8 / ax;
  const y = z * z;
  const xx = ax - 2.356194491;
  const a1 = 1.0 + y * (0.183105e-2 + y * (-0.3516396496e-4 + y * (0.2457520174e-5 + y * -0.240337019e-6)));
  const a2 =
    0.04687499995 +
    y * (-0.2002690873e-3 + y * (0.8449199096e-5 + y * (-0.88228987e-6 + y * 0.105787412e-6)));
  const ans = Math.sqrt(0.636619772 / ax) * (Math.cos(xx) * a1 - z * Math.sin(xx) * a2);
  return x < 0 ? -ans : ans;
}

/**
 * Fourier transform of the normalized rotation kernel (linear limb darkening ε) at angular
 * argument ω = 2 π f v sin i (f in cycles per unit velocity):
 * [(1-ε) 2 J1(ω)/ω + (2ε/3) 3 (sin ω - ω cos ω)/ω³] / (1 - ε/3); equals 1 at ω = 0.
 */
export function rotationKernelTransfer(omega: number, limbDarkening: number): number {
  const e = limbDarkening;
  const w = Math.abs(omega);
  let ellipse: number;
  let parabola: number;
  if (w < 0.01) {
    const w2 = w * w;
    ellipse = 1 - w2 / 8 + (w2 * w2) / 192;
    parabola = 1 - w2 / 10 + (w2 * w2) / 280;
  } else {
    ellipse = (2 * besselJ1(w)) / w;
    parabola = (3 * (Math.sin(w) - w * Math.cos(w))) / (w * w * w);
  }
  return ((1 - e) * ellipse + ((2 * e) / 3) * parabola) / (1 - e / 3);
}
