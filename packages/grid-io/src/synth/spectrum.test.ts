import { ATOMIC_MASS_UNIT_G, BOLTZMANN_ERG_K, SPEED_OF_LIGHT_KM_S } from '@stellar-emu/numerics';
import { spectrumContentId } from '../dataset/content-hash.js';
import { SPECTRUM_DEFAULT_GRID } from '../spectra/grid.js';
import {
  dopplerSigmaAngstrom,
  instrumentalSigmaKms,
  rotationKernelSecondMoment,
  rotationKernelTaps,
} from './broadening.js';
import { CVAE_LABEL_RANGES, type SpectrumLabels } from './labels.js';
import {
  H_BETA_ANGSTROM,
  type SyntheticLine,
  lineFormationTemperatureK,
  lineStrength,
  syntheticLineList,
} from './linelist.js';
import {
  defaultSyntheticLineList,
  generateSyntheticSpectrum,
  synthesizeFlux,
  syntheticSpectra,
} from './spectrum.js';

const STEP = SPECTRUM_DEFAULT_GRID.stepAngstrom;
const OVERSAMPLE = 3;
/** Variance added by pixel averaging (box of one pixel) and by piecewise-linear fine sampling, Å². */
const SAMPLING_VAR = STEP ** 2 / 12 + (STEP / OVERSAMPLE) ** 2 / 6;

/** One weak 'fixed' line (tau0 = 1e-3, linear regime: depth ~ tau), no damping. */
function weakLine(wavelengthAngstrom: number, massAmu: number): SyntheticLine[] {
  return [
    {
      wavelengthAngstrom,
      species: 'X',
      kind: 'fixed',
      massAmu,
      ionizationEv: 7,
      secondIonizationEv: 15,
      lowerEnergyEv: 0,
      logTau0Ref: -3,
      lorentzHwhmRefAngstrom: 0,
    },
  ];
}

/** Depth-weighted centre and variance (Å, Å²) of 1 - flux within +-halfWindow of lambda0. */
function moments(
  flux: Float64Array,
  lambda0: number,
  halfWindow: number,
): { centre: number; variance: number } {
  let s0 = 0,
    s1 = 0;
  const idx: number[] = [];
  for (let i = 0; i < flux.length; i++) {
    const w = SPECTRUM_DEFAULT_GRID.startAngstrom + i * STEP;
    if (Math.abs(w - lambda0) <= halfWindow) idx.push(i);
  }
  for (const i of idx) {
    const d = 1 - flux[i];
    const w = SPECTRUM_DEFAULT_GRID.startAngstrom + i * STEP;
    s0 += d;
    s1 += d * w;
  }
  const centre = s1 / s0;
  let s2 = 0;
  for (const i of idx) s2 += (1 - flux[i]) * (SPECTRUM_DEFAULT_GRID.startAngstrom + i * STEP - centre) ** 2;
  return { centre, variance: s2 / s0 };
}

function fwhm(flux: Float64Array, lambda0: number): number {
  const depth = Array.from(flux, (f) => 1 - f);
  let iMax = 0;
  for (let i = 0; i < depth.length; i++) if (depth[i] > depth[iMax]) iMax = i;
  const half = depth[iMax] / 2;
  let l = iMax,
    r = iMax;
  while (depth[l] > half) l--;
  while (depth[r] > half) r++;
  const wl = l + (half - depth[l]) / (depth[l + 1] - depth[l]);
  const wr = r - 1 + (depth[r - 1] - half) / (depth[r - 1] - depth[r]);
  expect(Math.abs(SPECTRUM_DEFAULT_GRID.startAngstrom + iMax * STEP - lambda0)).toBeLessThan(STEP);
  return (wr - wl) * STEP;
}

const base: SpectrumLabels = { teffK: 5000, logg: 4, mh: 0, vsiniKms: 0, vmicKms: 0, resolution: Infinity };
const thin = { maxLineDepth: 1, oversample: OVERSAMPLE };

describe('synthetic spectra: broadening matches closed forms', () => {
  it('pure thermal + microturbulent Doppler: centre < 0.02 Å, variance within 1 %', () => {
    for (const [lambda0, mass, teffK, vmicKms] of [
      [4920, 1.008, 10000, 0],
      [4920, 1.008, 10000, 3],
      [5300, 4.0, 8000, 4],
    ] as const) {
      const flux = synthesizeFlux(
        { ...base, teffK, vmicKms },
        { ...thin, lineList: weakLine(lambda0, mass) },
      );
      const { centre, variance } = moments(flux, lambda0, 3);
      const t = lineFormationTemperatureK(teffK);
      const sigma =
        (lambda0 / SPEED_OF_LIGHT_KM_S) *
        Math.sqrt((BOLTZMANN_ERG_K * t) / (mass * ATOMIC_MASS_UNIT_G) / 1e10 + (vmicKms * vmicKms) / 2);
      expect(dopplerSigmaAngstrom(lambda0, t, mass, vmicKms)).toBeCloseTo(sigma, 12);
      expect(Math.abs(centre - lambda0)).toBeLessThan(0.02);
      console.log(
        `Doppler ${lambda0} Å m=${mass} ξ=${vmicKms}: centre ${(centre - lambda0).toFixed(4)} Å, variance ratio - 1 = ${(variance / (sigma * sigma + SAMPLING_VAR) - 1).toExponential(2)}`,
      );
      expect(Math.abs(variance / (sigma * sigma + SAMPLING_VAR) - 1)).toBeLessThan(0.01);
    }
  });

  it('instrumental Gaussian (FWHM = lambda/R) adds in quadrature: variance within 1 %, FWHM within 2 %', () => {
    for (const [lambda0, resolution] of [
      [4500, 20000],
      [5350, 20000],
      [4900, 5000],
    ] as const) {
      const flux = synthesizeFlux({ ...base, resolution }, { ...thin, lineList: weakLine(lambda0, 55.845) });
      const sD = dopplerSigmaAngstrom(lambda0, lineFormationTemperatureK(base.teffK), 55.845, 0);
      const sI = (lambda0 * instrumentalSigmaKms(resolution)) / SPEED_OF_LIGHT_KM_S;
      expect(sI * 2 * Math.sqrt(2 * Math.LN2)).toBeCloseTo(lambda0 / resolution, 12);
      const { centre, variance } = moments(flux, lambda0, 10 * sI);
      expect(Math.abs(centre - lambda0)).toBeLessThan(0.02);
      console.log(
        `instrument ${lambda0} Å R=${resolution}: centre ${(centre - lambda0).toFixed(4)} Å, variance ratio - 1 = ${(variance / (sD * sD + sI * sI + SAMPLING_VAR) - 1).toExponential(2)}, FWHM ratio - 1 = ${(fwhm(flux, lambda0) / (2 * Math.sqrt(2 * Math.LN2) * Math.sqrt(sD * sD + sI * sI + SAMPLING_VAR)) - 1).toExponential(2)}`,
      );
      expect(Math.abs(variance / (sD * sD + sI * sI + SAMPLING_VAR) - 1)).toBeLessThan(0.01);
      const expectedFwhm = 2 * Math.sqrt(2 * Math.LN2) * Math.sqrt(sD * sD + sI * sI + SAMPLING_VAR);
      expect(Math.abs(fwhm(flux, lambda0) / expectedFwhm - 1)).toBeLessThan(0.02);
    }
  });

  it('rotation: variance = sigma_D^2 + <u^2>(lambda v sin i / c)^2, <u^2> = [(1-e)/4 + 2e/15]/(1 - e/3), within 1 %', () => {
    expect(rotationKernelSecondMoment(0)).toBeCloseTo(0.25, 12);
    expect(rotationKernelSecondMoment(0.6)).toBeCloseTo(0.225, 12);
    for (const [lambda0, vsiniKms, eps] of [
      [4920, 50, 0.6],
      [5200, 150, 0.6],
      [4600, 30, 0],
      [5000, 300, 0.6],
    ] as const) {
      const flux = synthesizeFlux(
        { ...base, vsiniKms },
        { ...thin, limbDarkening: eps, lineList: weakLine(lambda0, 55.845) },
      );
      const sD = dopplerSigmaAngstrom(lambda0, lineFormationTemperatureK(base.teffK), 55.845, 0);
      const dl = (lambda0 * vsiniKms) / SPEED_OF_LIGHT_KM_S;
      const { centre, variance } = moments(flux, lambda0, dl + 1);
      expect(Math.abs(centre - lambda0)).toBeLessThan(0.02);
      const rel = variance / (sD * sD + rotationKernelSecondMoment(eps) * dl * dl + SAMPLING_VAR) - 1;
      console.log(
        `rotation ${lambda0} Å vsini=${vsiniKms} ε=${eps}: centre ${(centre - lambda0).toFixed(4)} Å, variance ratio - 1 = ${rel.toExponential(2)}`,
      );
      expect(Math.abs(rel)).toBeLessThan(0.01);
    }
  });

  it('rotation kernel taps are non-negative and sum to 1', () => {
    for (const v of [0.3, 5, 120, 300]) {
      const taps = rotationKernelTaps(v, 1.12, 0.6);
      expect(Math.min(...taps)).toBeGreaterThanOrEqual(0);
      expect(taps.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });

  it('rotation and instrument together: variances add (within 3 %)', () => {
    const lambda0 = 5100;
    const flux = synthesizeFlux(
      { ...base, vsiniKms: 40, resolution: 10000 },
      { ...thin, lineList: weakLine(lambda0, 55.845) },
    );
    const sD = dopplerSigmaAngstrom(lambda0, lineFormationTemperatureK(base.teffK), 55.845, 0);
    const dl = (lambda0 * 40) / SPEED_OF_LIGHT_KM_S;
    const sI = lambda0 / 10000 / (2 * Math.sqrt(2 * Math.LN2));
    const { variance } = moments(flux, lambda0, dl + 8 * sI);
    expect(Math.abs(variance / (sD * sD + 0.225 * dl * dl + sI * sI + SAMPLING_VAR) - 1)).toBeLessThan(0.03);
  });
});

describe('synthetic spectra: default line list', () => {
  const lines = defaultSyntheticLineList();

  it('has a few hundred lines in 4440–5410 Å, H-beta and Mg b among them, and is fixed', () => {
    expect(lines.length).toBeGreaterThanOrEqual(200);
    expect(lines.length).toBeLessThan(600);
    expect(lines.some((l) => l.kind === 'hydrogen' && l.wavelengthAngstrom === H_BETA_ANGSTROM)).toBe(true);
    expect(lines.filter((l) => l.species === 'Mg I')).toHaveLength(3);
    expect(syntheticLineList()).toEqual(lines);
  });

  it('puts isolated lines at their wavelengths (flux minimum, parabolic vertex, < 0.02 Å)', () => {
    const labels: SpectrumLabels = {
      teffK: 5500,
      logg: 4.5,
      mh: 0,
      vsiniKms: 0,
      vmicKms: 1,
      resolution: 60000,
    };
    const flux = synthesizeFlux(labels);
    let checked = 0;
    for (const [k, l] of lines.entries()) {
      const prev = lines[k - 1]?.wavelengthAngstrom ?? -Infinity;
      const next = lines[k + 1]?.wavelengthAngstrom ?? Infinity;
      if (l.kind === 'hydrogen' || l.wavelengthAngstrom < 4452 || l.wavelengthAngstrom > 5398) continue;
      if (l.wavelengthAngstrom - prev < 1.5 || next - l.wavelengthAngstrom < 1.5) continue;
      const { tau0 } = lineStrength(l, labels);
      if (tau0 < 0.1 || tau0 > 1.5) continue; // measurable, and not flat-bottomed by saturation
      const i = Math.round((l.wavelengthAngstrom - SPECTRUM_DEFAULT_GRID.startAngstrom) / STEP);
      let j = i;
      for (let t = i - 2; t <= i + 2; t++) if (flux[t] < flux[j]) j = t;
      const [a, b, c] = [flux[j - 1], flux[j], flux[j + 1]];
      const vertex = SPECTRUM_DEFAULT_GRID.startAngstrom + (j + (0.5 * (a - c)) / (a - 2 * b + c)) * STEP;
      if (Math.abs(vertex - l.wavelengthAngstrom) >= 0.02) console.log(l, tau0, vertex);
      expect(Math.abs(vertex - l.wavelengthAngstrom)).toBeLessThan(0.02);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('H-beta equivalent width peaks near 9000–10000 K; metal lines scale with [M/H]', () => {
    const ew = (labels: Partial<SpectrumLabels>, lo: number, hi: number) => {
      const f = synthesizeFlux({
        teffK: 9500,
        logg: 4,
        mh: 0,
        vsiniKms: 10,
        vmicKms: 2,
        resolution: 20000,
        ...labels,
      });
      let s = 0;
      for (let i = 0; i < f.length; i++) {
        const w = SPECTRUM_DEFAULT_GRID.startAngstrom + i * STEP;
        if (w >= lo && w <= hi) s += (1 - f[i]) * STEP;
      }
      return s;
    };
    const hb = (teffK: number) => ew({ teffK }, H_BETA_ANGSTROM - 15, H_BETA_ANGSTROM + 15);
    const byT = [4500, 6000, 8000, 9500, 11000].map(hb);
    expect(byT[3]).toBeGreaterThan(byT[0] * 3);
    expect(byT[3]).toBeGreaterThan(byT[1]);
    expect(byT[3]).toBeGreaterThan(byT[2]);
    expect(byT[3]).toBeGreaterThan(byT[4]);
    const metals = [-1.5, 0, 1.5].map((mh) => ew({ teffK: 5500, mh }, 5000, 5150));
    expect(metals[1]).toBeGreaterThan(metals[0] * 1.5);
    expect(metals[2]).toBeGreaterThan(metals[1] * 1.5);
  });

  it('neutral metal lines strengthen towards low Teff, ionized lines towards higher Teff', () => {
    const neutral = lines.find((l) => l.kind === 'neutral' && l.lowerEnergyEv < 1)!;
    const ion = lines.find((l) => l.kind === 'ion')!;
    const at = (l: SyntheticLine, teffK: number) => lineStrength(l, { teffK, logg: 4, mh: 0 }).tau0;
    expect(at(neutral, 4500)).toBeGreaterThan(at(neutral, 6000));
    expect(at(neutral, 6000)).toBeGreaterThan(at(neutral, 9000));
    expect(at(ion, 7000)).toBeGreaterThan(at(ion, 4500));
  });
});

describe('syntheticSpectra', () => {
  it('is seeded, labelled as synthetic, inside the CVAE box, on the default grid, finite in [0.1, 1]', () => {
    const a = [...syntheticSpectra({ n: 3, seed: 7 })];
    const b = [...syntheticSpectra({ n: 3, seed: 7 })];
    expect(a.map((r) => r.id)).toEqual(b.map((r) => r.id));
    expect([...syntheticSpectra({ n: 1, seed: 8 })][0].id).not.toBe(a[0].id);
    for (const [i, r] of a.entries()) {
      expect(r.synthetic).toBe(true);
      expect(r.source).toBe('synthetic:spectra:seed=7');
      expect(r.line).toBe(i + 1);
      expect(r.split).toBeNull();
      expect(r.wavelengthStartAngstrom).toBe(4450);
      expect(r.wavelengthStepAngstrom).toBe(0.05);
      expect(r.flux).toHaveLength(19000);
      const { id, ...rest } = r;
      expect(spectrumContentId(rest)).toBe(id);
      expect(Object.keys(r.labels).sort()).toEqual(Object.keys(CVAE_LABEL_RANGES).sort());
      for (const [k, range] of Object.entries(CVAE_LABEL_RANGES)) {
        expect(r.labels[k]).toBeGreaterThanOrEqual(range.min);
        expect(r.labels[k]).toBeLessThanOrEqual(range.max);
      }
      let lo = Infinity,
        hi = -Infinity;
      for (const f of r.flux) {
        if (!Number.isFinite(f)) throw new Error(`non-finite flux in ${r.id}`);
        lo = Math.min(lo, f);
        hi = Math.max(hi, f);
      }
      expect(lo).toBeGreaterThan(0.0999);
      expect(hi).toBeLessThan(1 + 1e-6);
    }
  });

  it('stays in [0.1, 1] up to 1e-4 at the corners of the label box (ringing of the analytic kernels)', () => {
    let over = 0,
      under = 0;
    for (const vsiniKms of [0, 0.5, 3, 300])
      for (const resolution of [1000, 115000])
        for (const teffK of [4000, 11000])
          for (const mh of [-1.5, 1.5]) {
            const f = synthesizeFlux({ teffK, logg: 2, mh, vsiniKms, vmicKms: 0, resolution });
            for (const v of f) {
              over = Math.max(over, v - 1);
              under = Math.max(under, 0.1 - v);
            }
          }
    console.log(`worst overshoot above 1: ${over.toExponential(2)}, below 0.1: ${under.toExponential(2)}`);
    expect(over).toBeLessThan(1e-4);
    expect(under).toBeLessThan(1e-4);
  });

  it('adds seeded Gaussian noise of sd 1/snr when asked', () => {
    const labels: SpectrumLabels = {
      teffK: 6000,
      logg: 4,
      mh: 0,
      vsiniKms: 10,
      vmicKms: 1,
      resolution: 20000,
    };
    const clean = generateSyntheticSpectrum(labels).flux;
    const [noisy] = [
      ...syntheticSpectra({
        n: 1,
        seed: 3,
        snr: 100,
        ranges: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, { min: v, max: v }])) as never,
      }),
    ];
    let s2 = 0;
    for (let i = 0; i < clean.length; i++) s2 += (noisy.flux[i] - clean[i]) ** 2;
    expect(Math.sqrt(s2 / clean.length)).toBeCloseTo(0.01, 3);
  });

  it('rejects bad labels and options with clear errors', () => {
    const ok: SpectrumLabels = { teffK: 6000, logg: 4, mh: 0, vsiniKms: 10, vmicKms: 1, resolution: 20000 };
    expect(() => synthesizeFlux({ ...ok, teffK: Number.NaN })).toThrow(/teffK = NaN/);
    expect(() => synthesizeFlux({ ...ok, vsiniKms: -1 })).toThrow(/vsiniKms = -1/);
    expect(() => synthesizeFlux({ ...ok, resolution: 0 })).toThrow(/resolution = 0/);
    expect(() => synthesizeFlux(ok, { oversample: 0 })).toThrow(/oversample/);
    expect(() => synthesizeFlux(ok, { grid: { startAngstrom: 4450, stepAngstrom: 0, n: 10 } })).toThrow(
      /invalid grid/,
    );
    expect(() => [...syntheticSpectra({ n: 1.5, seed: 1 })]).toThrow(/n must be/);
  });
});
