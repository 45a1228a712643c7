import { GAUSSIAN_FWHM_PER_SIGMA, rotationKernelTaps, type SpectrumGrid } from '@stellar-emu/grid-io';
import { SPEED_OF_LIGHT_KM_S } from '@stellar-emu/numerics';
import {
  annulusWeights,
  IntensityBroadener,
  INTENSITY_BROADENER_DEFAULTS,
  type BroadeningSettings,
  type SpecificIntensities,
} from './broaden.js';

const C = SPEED_OF_LIGHT_KM_S;
/** PySME's default μ. */
const PYSME_MU = Float64Array.from([0.9636, 0.8864, 0.8018, 0.7071, 0.5976, 0.4629, 0.2673]);

/** Deterministic uniform numbers in [0, 1) (Park–Miller). */
function uniforms(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

/** Ascending non-uniform grid from lo to ≥ hi Å; local step stepKms(λ) × a random factor in [0.5, 1.5). */
function adaptiveGrid(
  loAngstrom: number,
  hiAngstrom: number,
  stepKms: (lam: number) => number,
  seed = 1,
): Float64Array {
  const rnd = uniforms(seed);
  const out: number[] = [];
  let lam = loAngstrom;
  while (lam < hiAngstrom) {
    out.push(lam);
    lam *= 1 + (stepKms(lam) * (0.5 + rnd())) / C;
  }
  out.push(lam);
  return Float64Array.from(out);
}

/** A Gaussian absorption line in velocity (ln λ): depth and σ may depend on μ. */
interface Line {
  centerAngstrom: number;
  depth: (mu: number) => number;
  sigmaKms: (mu: number) => number;
}

/** Velocity of λ relative to λ0, km/s (the broadening works in ln λ). */
const vel = (lam: number, lam0: number): number => C * Math.log(lam / lam0);

/**
 * I(μ, λ) = Ic(μ) (1 − Σ d(μ) exp(−v²/2σ(μ)²)), Ic(μ) = 1 − ε (1 − μ) (linear limb darkening), constant in λ.
 */
function lineIntensities(
  wl: Float64Array,
  mu: Float64Array,
  lines: Line[],
  limbDarkening: number,
): SpecificIntensities {
  const intensity: Float64Array[] = [];
  const continuum: Float64Array[] = [];
  for (const m of mu) {
    const ic = 1 - limbDarkening * (1 - m);
    const row = new Float64Array(wl.length);
    for (let j = 0; j < wl.length; j++) {
      let p = 0;
      for (const ln of lines) {
        const x = vel(wl[j], ln.centerAngstrom) / ln.sigmaKms(m);
        if (Math.abs(x) < 12) p += ln.depth(m) * Math.exp(-0.5 * x * x);
      }
      row[j] = ic * (1 - p);
    }
    intensity.push(row);
    continuum.push(new Float64Array(wl.length).fill(ic));
  }
  return { wavelengthAngstrom: wl, mu, intensity, continuum };
}

/** Step function for adaptiveGrid: `fineKms` within ±halfWidthKms of any centre, `coarseKms` elsewhere. */
function fineNear(
  centers: number[],
  halfWidthKms: number,
  fineKms: number,
  coarseKms: number,
): (lam: number) => number {
  return (lam) => (centers.some((c) => Math.abs(vel(lam, c)) < halfWidthKms) ? fineKms : coarseKms);
}

const pixels = (grid: SpectrumGrid): Float64Array =>
  Float64Array.from({ length: grid.n }, (_, i) => grid.startAngstrom + i * grid.stepAngstrom);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
  return e;
}

/** Equivalent width Σ (1 − f) Δλ over the grid, Å. */
function equivalentWidth(flux: Float64Array, grid: SpectrumGrid): number {
  let s = 0;
  for (const f of flux) s += 1 - f;
  return s * grid.stepAngstrom;
}

const sigmaInstrumental = (resolution: number): number => C / (resolution * GAUSSIAN_FWHM_PER_SIGMA);

// ---------------------------------------------------------------------------------------------------------
// An independent, PySME-style real-space implementation (integrate_flux + gaussbroad + np.interp), used as
// the reference of the macroturbulence test: a geometric wavelength grid of step vstep, np.interp of every
// μ row, per annulus a sampled, sum-normalized rotation kernel and R–T macroturbulence kernel (10σ), direct
// convolutions with mode='nearest', the instrumental Gaussian (±6σ, constant in velocity), F/Fc and a
// linear interpolation at the pixels.

function npInterp(x: number, xp: Float64Array, fp: Float64Array): number {
  if (x <= xp[0]) return fp[0];
  const n = xp.length;
  if (x >= xp[n - 1]) return fp[n - 1];
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xp[mid] <= x) lo = mid;
    else hi = mid;
  }
  return fp[lo] + ((fp[hi] - fp[lo]) * (x - xp[lo])) / (xp[hi] - xp[lo]);
}

/** scipy.ndimage.convolve(y, kernel, mode='nearest') for an odd, symmetric kernel. */
function convolveNearest(y: Float64Array, kernel: Float64Array): Float64Array {
  const n = y.length;
  const h = (kernel.length - 1) / 2;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = -h; t <= h; t++) {
      const j = i - t;
      s += kernel[t + h] * y[j < 0 ? 0 : j >= n ? n - 1 : j];
    }
    out[i] = s;
  }
  return out;
}

function normalized(k: Float64Array): Float64Array {
  let s = 0;
  for (const v of k) s += v;
  return k.map((v) => v / s);
}

function gaussianKernel(sigmaPts: number, halfPts: number): Float64Array {
  const k = new Float64Array(2 * halfPts + 1);
  for (let t = -halfPts; t <= halfPts; t++)
    k[t + halfPts] = sigmaPts > 0 ? Math.exp(-0.5 * (t / sigmaPts) ** 2) : t === 0 ? 1 : 0;
  return normalized(k);
}

function pysmeStyleReference(
  si: SpecificIntensities,
  grid: SpectrumGrid,
  s: BroadeningSettings,
  vstepKms: number,
): Float64Array {
  const wl = si.wavelengthAngstrom;
  const w0 = wl[0];
  const nx = Math.floor(Math.log(wl[wl.length - 1] / w0) / (vstepKms / C)) + 1;
  const x = Float64Array.from({ length: nx }, (_, j) => w0 * Math.exp((j * vstepKms) / C));
  // Annuli exactly as integrate_flux writes them (μ given in descending order).
  const nmu = si.mu.length;
  const rmu = Array.from(si.mu, (m) => Math.sqrt(1 - m * m));
  const r = [0, ...rmu.slice(1).map((v, i) => Math.sqrt(0.5 * (rmu[i] ** 2 + v ** 2))), 1];
  const flux = new Float64Array(nx);
  const cont = new Float64Array(nx);
  for (let i = 0; i < nmu; i++) {
    const wt = r[i + 1] ** 2 - r[i] ** 2;
    let y: Float64Array = x.map((lam) => npInterp(lam, wl, si.intensity[i]));
    const ic = x.map((lam) => npInterp(lam, wl, si.continuum[i]));
    if (s.vsiniKms > 0) {
      const a1 = s.vsiniKms * r[i];
      const a2 = s.vsiniKms * r[i + 1];
      const nrk = 2 * Math.floor(a2 / vstepKms) + 3;
      const k = new Float64Array(nrk);
      for (let t = 0; t < nrk; t++) {
        const v = vstepKms * (t - (nrk - 1) / 2);
        if (Math.abs(v) < a1) k[t] = Math.sqrt(a2 * a2 - v * v) - Math.sqrt(a1 * a1 - v * v);
        else if (Math.abs(v) <= a2) k[t] = Math.sqrt(a2 * a2 - v * v);
      }
      y = convolveNearest(y, normalized(k));
    }
    const sigma = s.vmacKms / Math.SQRT2 / vstepKms;
    const nmk = Math.max(3, Math.floor(10 * sigma));
    const mr = gaussianKernel(sigma * si.mu[i], nmk);
    const mt = gaussianKernel(sigma * Math.sqrt(1 - si.mu[i] ** 2), nmk);
    y = convolveNearest(
      y,
      mr.map((v, t) => 0.5 * v + 0.5 * mt[t]),
    );
    for (let j = 0; j < nx; j++) {
      flux[j] += wt * y[j];
      cont[j] += wt * ic[j];
    }
  }
  let f: Float64Array = flux;
  if (s.resolution !== null && Number.isFinite(s.resolution)) {
    const sp = sigmaInstrumental(s.resolution) / vstepKms;
    f = convolveNearest(flux, gaussianKernel(sp, Math.ceil(6 * sp)));
  }
  const ratio = f.map((v, j) => v / cont[j]);
  return pixels(grid).map((lam) => npInterp(lam, x, ratio));
}

// ---------------------------------------------------------------------------------------------------------

describe('annulusWeights', () => {
  it('mu = [1, 0.5]: r = 0, √0.375, 1 and weights 0.375, 0.625 (hand computation, 1e-15)', () => {
    // rmu = 0 and √0.75; the middle boundary bisects the area: r² = (0 + 0.75) / 2.
    const a = annulusWeights([1, 0.5]);
    expect(a.order).toEqual([0, 1]);
    expect(maxAbsDiff(a.rInner, [0, Math.sqrt(0.375)])).toBeLessThan(1e-15);
    expect(maxAbsDiff(a.rOuter, [Math.sqrt(0.375), 1])).toBeLessThan(1e-15);
    expect(maxAbsDiff(a.weight, [0.375, 0.625])).toBeLessThan(1e-15);
    // Input order does not matter: annuli are sorted by projected radius.
    const b = annulusWeights([0.5, 1]);
    expect(b.order).toEqual([1, 0]);
    expect(maxAbsDiff(b.weight, a.weight)).toBe(0);
  });

  it("PySME's default mu: weights sum to 1 (1e-15) and equal integrate_flux's formula (1e-15)", () => {
    const a = annulusWeights(PYSME_MU);
    expect(a.order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Math.abs(a.weight.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-15);
    const rmu = Array.from(PYSME_MU, (m) => Math.sqrt(1 - m * m));
    const r = [0, ...rmu.slice(1).map((v, i) => Math.sqrt(0.5 * (rmu[i] ** 2 + v ** 2))), 1];
    expect(
      maxAbsDiff(
        a.weight,
        r.slice(1).map((v, i) => v * v - r[i] * r[i]),
      ),
    ).toBeLessThan(1e-15);
    expect(maxAbsDiff(a.rInner, r.slice(0, 7))).toBeLessThan(1e-15);
  });

  it('a single mu is one annulus of weight 1; mu outside (0, 1] is an error', () => {
    expect(Array.from(annulusWeights([0.7]).weight)).toEqual([1]);
    expect(() => annulusWeights([0.5, 0])).toThrow(/mu\[1\] = 0 is not in \(0, 1\]/);
    expect(() => annulusWeights([1.2])).toThrow(/not in \(0, 1\]/);
    expect(() => annulusWeights([])).toThrow(/empty/);
  });
});

describe('IntensityBroadener', () => {
  it('flat intensities (line = continuum, limb-darkened) give flux 1 within 1e-12 for any settings', () => {
    const mu = PYSME_MU;
    const wl = adaptiveGrid(4960, 5040, () => 3);
    const level = Array.from(mu, (m) => 2.5e15 * (1 - 0.7 * (1 - m) - 0.1 * (1 - m) ** 2));
    const rows = level.map((v) => new Float64Array(wl.length).fill(v));
    const si = { wavelengthAngstrom: wl, mu, intensity: rows, continuum: rows.map((r) => r.slice()) };
    const grid = { startAngstrom: 4990, stepAngstrom: 0.05, n: 400 };
    const b = new IntensityBroadener(si, grid, { maxVsiniKms: 300, maxVmacKms: 20, minResolution: 5000 });
    const settings: BroadeningSettings[] = [
      { vsiniKms: 0, vmacKms: 0, resolution: null },
      { vsiniKms: 0, vmacKms: 0, resolution: Infinity },
      { vsiniKms: 3, vmacKms: 0, resolution: 115000 },
      { vsiniKms: 0, vmacKms: 20, resolution: null },
      { vsiniKms: 300, vmacKms: 20, resolution: 5000 },
      { vsiniKms: 47.3, vmacKms: 6.1, resolution: 22000 },
    ];
    for (const s of settings) {
      const f = b.spectrum(s);
      expect(f.length).toBe(grid.n);
      expect(maxAbsDiff(f, new Float64Array(grid.n).fill(1))).toBeLessThan(1e-12);
    }
    const wt = annulusWeights(mu).weight;
    const fc = Math.PI * level.reduce((s, v, i) => s + wt[i] * v, 0);
    expect(
      maxAbsDiff(
        b.continuumFlux().map((v) => v / fc),
        new Float64Array(grid.n).fill(1),
      ),
    ).toBeLessThan(1e-12);
  });

  it("rotation: 400 annuli reproduce Gray's limb-darkened kernel (ε = 0.6) within 2e-5 at v sin i = 20 and 100 km/s", () => {
    // I(μ, λ) = Ic(μ) (1 − d G(v)) with Ic = 1 − ε(1 − μ): the normalized flux is 1 − d (G ⊛ K_Gray,ε).
    // Reference: G convolved in real space with grid-io's pixel-integrated Gray kernel taps (0.005 km/s).
    const eps = 0.6;
    const lam0 = 5000;
    const d = 0.6;
    const sigma0 = 3;
    const nmu = 400;
    const mu = Float64Array.from({ length: nmu }, (_, i) => Math.sqrt(1 - ((i + 0.5) / nmu) ** 2));
    const wl = adaptiveGrid(4994.5, 5005.5, fineNear([lam0], 40, 0.1, 1));
    const si = lineIntensities(
      wl,
      mu,
      [{ centerAngstrom: lam0, depth: () => d, sigmaKms: () => sigma0 }],
      eps,
    );
    const grid = { startAngstrom: 4997.5, stepAngstrom: 0.02, n: 251 };
    const b = new IntensityBroadener(si, grid, { maxVsiniKms: 100, maxVmacKms: 0, minResolution: Infinity });
    for (const vsini of [20, 100]) {
      const f = b.spectrum({ vsiniKms: vsini, vmacKms: 0, resolution: null });
      const dx = 0.005;
      const taps = rotationKernelTaps(vsini, dx, eps);
      const h = (taps.length - 1) / 2;
      const ref = pixels(grid).map((lam) => {
        const v = vel(lam, lam0);
        let s = 0;
        for (let j = 0; j < taps.length; j++)
          s += taps[j] * Math.exp(-0.5 * ((v - (j - h) * dx) / sigma0) ** 2);
        return 1 - d * s;
      });
      const err = maxAbsDiff(f, ref);
      expect(err).toBeLessThan(2e-5);
      // and the line is really broadened: the core is far shallower than the intrinsic 0.6
      expect(Math.min(...f)).toBeGreaterThan(1 - d * 0.5);
    }
  });

  it('instrumental only: a Gaussian line of σ0 becomes a Gaussian of √(σ0² + σR²) (closed form within 1e-4), equivalent width conserved (1e-4)', () => {
    const lam0 = 5000;
    const cases = [
      { sigma0: 1.5, depth: 0.8, resolution: 115000 },
      { sigma0: 3, depth: 0.5, resolution: 50000 },
      { sigma0: 2, depth: 0.7, resolution: 8000 },
    ];
    for (const { sigma0, depth, resolution } of cases) {
      const sr = sigmaInstrumental(resolution);
      const sigma = Math.hypot(sigma0, sr);
      // Limb darkening and μ do not matter here: the same line at every μ.
      const wl = adaptiveGrid(4990, 5010, fineNear([lam0], 12 * sigma0, 0.03, 1.5));
      const si = lineIntensities(
        wl,
        PYSME_MU,
        [{ centerAngstrom: lam0, depth: () => depth, sigmaKms: () => sigma0 }],
        0.5,
      );
      const grid = { startAngstrom: 4995, stepAngstrom: 0.01, n: 1001 };
      const b = new IntensityBroadener(si, grid, { maxVsiniKms: 0, maxVmacKms: 0, minResolution: 5000 });
      const f = b.spectrum({ vsiniKms: 0, vmacKms: 0, resolution });
      const ref = pixels(grid).map(
        (lam) => 1 - depth * (sigma0 / sigma) * Math.exp(-0.5 * (vel(lam, lam0) / sigma) ** 2),
      );
      expect(maxAbsDiff(f, ref)).toBeLessThan(1e-4);
      // EW in Å of d exp(−v²/2σ0²) in velocity: d σ0 √(2π) λ0 / c (× e^{σ²/2c²} = 1 + 1e-10).
      const ewExact = (depth * sigma0 * Math.sqrt(2 * Math.PI) * lam0) / C;
      expect(Math.abs(equivalentWidth(f, grid) / ewExact - 1)).toBeLessThan(1e-4);
    }
  });

  it('macroturbulence (and rotation + R): agrees with an independent PySME-style real-space implementation within 1e-4', () => {
    const rnd = uniforms(11);
    const centers = Array.from({ length: 12 }, () => 4997.5 + 5 * rnd());
    const lines: Line[] = centers.map((c) => {
      const d0 = 0.2 + 0.7 * rnd();
      const s0 = 1 + 1.5 * rnd();
      return { centerAngstrom: c, depth: (m) => d0 * (0.7 + 0.3 * m), sigmaKms: (m) => s0 * (0.9 + 0.2 * m) };
    });
    const wl = adaptiveGrid(4996.5, 5003.5, fineNear(centers, 15, 0.12, 1.5), 5);
    const grid = { startAngstrom: 4998, stepAngstrom: 0.01, n: 401 };
    // PySME's μ are nearly symmetric (μ_{6−i} ≈ √(1 − μ_i²)), which hides a radial/tangential mix-up: also an
    // asymmetric set. (Not μ = 1: with ζ alone its tangential half is not smoothed at all, and the comparison
    // would measure how the two sides sample the kinks of the adaptive grid's linear interpolation, ~1e-4.)
    for (const mu of [PYSME_MU, Float64Array.from([0.98, 0.85, 0.6, 0.35, 0.1])]) {
      const si = lineIntensities(wl, mu, lines, 0.6);
      const b = new IntensityBroadener(si, grid, { maxVsiniKms: 10, maxVmacKms: 6, minResolution: 30000 });
      const cases: BroadeningSettings[] = [
        { vsiniKms: 0, vmacKms: 5, resolution: null },
        { vsiniKms: 8, vmacKms: 4, resolution: 50000 },
      ];
      for (const s of cases) {
        const f = b.spectrum(s);
        const ref = pysmeStyleReference(si, grid, s, 0.02);
        expect(maxAbsDiff(f, ref)).toBeLessThan(1e-4);
        // the comparison is not vacuous: macroturbulence changes the profile by far more than the tolerance
        const none = b.spectrum({ vsiniKms: 0, vmacKms: 0, resolution: null });
        expect(maxAbsDiff(f, none)).toBeGreaterThan(0.02);
      }
    }
  });

  it('equivalent width is conserved by rotation + macroturbulence + instrument (1e-4 relative)', () => {
    const rnd = uniforms(3);
    const lam0 = 5000;
    const centers = Array.from({ length: 6 }, () => lam0 - 1 + 2 * rnd());
    const spec = centers.map(() => ({ d0: 0.1 + 0.3 * rnd(), s0: 1.2 + rnd() }));
    const lines: Line[] = centers.map((c, l) => ({
      centerAngstrom: c,
      depth: (m) => spec[l].d0 * (0.6 + 0.4 * m),
      sigmaKms: (m) => spec[l].s0 * (0.8 + 0.3 * m),
    }));
    const eps = 0.6;
    const wl = adaptiveGrid(4990, 5010, fineNear(centers, 15, 0.05, 1.5), 9);
    const si = lineIntensities(wl, PYSME_MU, lines, eps);
    const grid = { startAngstrom: 4995, stepAngstrom: 0.01, n: 1001 };
    const b = new IntensityBroadener(si, grid, { maxVsiniKms: 30, maxVmacKms: 6, minResolution: 20000 });
    // Exact EW of the disk-integrated intrinsic spectrum: Σ wt Ic EW(μ) / Σ wt Ic, EW(μ) = Σ d σ √(2π) λc / c.
    const { order, weight } = annulusWeights(PYSME_MU);
    let num = 0;
    let den = 0;
    order.forEach((k, i) => {
      const m = PYSME_MU[k];
      const ic = 1 - eps * (1 - m);
      const ew = lines.reduce(
        (s, ln) => s + (ln.depth(m) * ln.sigmaKms(m) * Math.sqrt(2 * Math.PI) * ln.centerAngstrom) / C,
        0,
      );
      num += weight[i] * ic * ew;
      den += weight[i] * ic;
    });
    const ewExact = num / den;
    for (const s of [
      { vsiniKms: 0, vmacKms: 0, resolution: null },
      { vsiniKms: 25, vmacKms: 4, resolution: 60000 },
      { vsiniKms: 7, vmacKms: 6, resolution: 20000 },
    ]) {
      expect(Math.abs(equivalentWidth(b.spectrum(s), grid) / ewExact - 1)).toBeLessThan(1e-4);
    }
  });

  it(`default step (${INTENSITY_BROADENER_DEFAULTS.stepKms} km/s) agrees with 0.05 km/s within 1e-4 for a σ = 1.5 km/s, depth 0.8 line at v sin i = 0, R = 115,000`, () => {
    const lam0 = 5000;
    const wl = adaptiveGrid(4992, 5008, fineNear([lam0], 20, 0.03, 1.5));
    const si = lineIntensities(
      wl,
      PYSME_MU,
      [{ centerAngstrom: lam0, depth: () => 0.8, sigmaKms: () => 1.5 }],
      0.6,
    );
    const grid = { startAngstrom: 4997, stepAngstrom: 0.01, n: 601 };
    const opts = { maxVsiniKms: 20, maxVmacKms: 5, minResolution: 50000 };
    const coarse = new IntensityBroadener(si, grid, opts);
    expect(coarse.stepKms).toBe(INTENSITY_BROADENER_DEFAULTS.stepKms);
    const fine = new IntensityBroadener(si, grid, { ...opts, stepKms: 0.05 });
    const s = { vsiniKms: 0, vmacKms: 0, resolution: 115000 };
    expect(maxAbsDiff(coarse.spectrum(s), fine.spectrum(s))).toBeLessThan(1e-4);
  });

  describe('errors', () => {
    const lam0 = 5000;
    const wl = adaptiveGrid(4990, 5010, () => 0.5);
    const si = lineIntensities(
      wl,
      PYSME_MU,
      [{ centerAngstrom: lam0, depth: () => 0.5, sigmaKms: () => 2 }],
      0.6,
    );
    const grid = { startAngstrom: 4996, stepAngstrom: 0.01, n: 801 };
    const opts = { maxVsiniKms: 50, maxVmacKms: 5, minResolution: 20000 };

    it('intensities that do not cover the grid plus the margin: says by how many Å', () => {
      // margin at R = ∞: maxVsini + 6 maxVmac/√2 + 8 steps = 50 + 21.21 + 2 km/s; the grid now starts at 4990.8 Å
      const needBlue = 4990.8 * Math.exp(-(50 + (6 * 5) / Math.SQRT2 + 8 * 0.25) / C);
      expect(() => new IntensityBroadener(si, { ...grid, startAngstrom: 4990.8, n: 1321 }, opts)).toThrow(
        new RegExp(`fall short by ${(wl[0] - needBlue).toFixed(3)} Å on the blue side`),
      );
      expect(() => new IntensityBroadener(si, grid, { ...opts, maxVsiniKms: 400 })).toThrow(
        /fall short by [0-9.]+ Å on the blue side .* and [0-9.]+ Å on the red side/,
      );
      // per call: R too low for the working range
      const b = new IntensityBroadener(si, grid, opts);
      expect(() => b.spectrum({ vsiniKms: 0, vmacKms: 0, resolution: 2000 })).toThrow(/short by [0-9.]+ Å/);
    });

    it('non-finite intensity: names the μ index and the wavelength', () => {
      const bad = { ...si, intensity: si.intensity.map((r) => r.slice()) };
      bad.intensity[3][123] = Number.NaN;
      expect(() => new IntensityBroadener(bad, grid, opts)).toThrow(
        new RegExp(`intensity\\[3\\] \\(mu = 0.7071\\) is NaN at ${wl[123]} Å`),
      );
      const badC = { ...si, continuum: si.continuum.map((r) => r.slice()) };
      badC.continuum[0][7] = Infinity;
      expect(() => new IntensityBroadener(badC, grid, opts)).toThrow(
        /continuum\[0\] \(mu = 0.9636\) is Infinity at/,
      );
    });

    it('v sin i or ζ above the prepared maximum, negative or non-finite settings', () => {
      const b = new IntensityBroadener(si, grid, opts);
      expect(() => b.spectrum({ vsiniKms: 60, vmacKms: 0, resolution: null })).toThrow(
        /vsiniKms 60 exceeds the prepared maximum 50 km\/s/,
      );
      expect(() => b.spectrum({ vsiniKms: 0, vmacKms: 5.5, resolution: null })).toThrow(
        /vmacKms 5.5 exceeds the prepared maximum 5 km\/s/,
      );
      expect(() => b.spectrum({ vsiniKms: -1, vmacKms: 0, resolution: null })).toThrow(
        /vsiniKms must be a finite number >= 0/,
      );
      expect(() => b.spectrum({ vsiniKms: 0, vmacKms: Number.NaN, resolution: null })).toThrow(
        /vmacKms must be/,
      );
      expect(() => b.spectrum({ vsiniKms: 0, vmacKms: 0, resolution: 0 })).toThrow(/resolution must be/);
    });

    it('shapes, wavelength order, μ range, a single μ with rotation', () => {
      expect(() => new IntensityBroadener({ ...si, intensity: si.intensity.slice(1) }, grid, opts)).toThrow(
        /intensity must have one row per mu \(7\), got 6/,
      );
      expect(
        () =>
          new IntensityBroadener(
            { ...si, continuum: [...si.continuum.slice(1), si.continuum[0].subarray(1)] },
            grid,
            opts,
          ),
      ).toThrow(new RegExp(`continuum\\[6\\] has ${wl.length - 1} values, expected ${wl.length}`));
      const rev = Float64Array.from(wl);
      [rev[10], rev[11]] = [rev[11], rev[10]];
      expect(() => new IntensityBroadener({ ...si, wavelengthAngstrom: rev }, grid, opts)).toThrow(
        /strictly ascending, but \[10\]/,
      );
      expect(
        () =>
          new IntensityBroadener(
            { ...si, mu: Float64Array.from([1, 0.9, 0.8, 0.7, 0.6, 0.5, 0]) },
            grid,
            opts,
          ),
      ).toThrow(/mu\[6\] = 0 is not in \(0, 1\]/);
      const one = new IntensityBroadener(
        {
          ...si,
          mu: PYSME_MU.subarray(0, 1),
          intensity: si.intensity.slice(0, 1),
          continuum: si.continuum.slice(0, 1),
        },
        grid,
        opts,
      );
      expect(() => one.spectrum({ vsiniKms: 5, vmacKms: 0, resolution: null })).toThrow(/more than one μ/);
      expect(
        one.spectrum({ vsiniKms: 0, vmacKms: 3, resolution: 50000 }).every((v) => v > 0 && v <= 1 + 1e-9),
      ).toBe(true);
    });
  });
});
