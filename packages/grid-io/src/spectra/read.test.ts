import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SPECTRUM_DEFAULT_GRID } from './grid.js';
import { parseSpectrumCsv, parseSpectrumText, readSpectrumCsv, readSpectrumText } from './read.js';
import { normalizeContinuum, resampleSpectrum } from './resample.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spectra-read-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FORT7 = [
  '   4450.000  9.8765D-01',
  '   4450.010  9.7000E-01  0.5',
  '',
  '# comment',
  '   4450.020  0.95',
].join('\n');

describe('readSpectrumText (SYNSPEC fort.7 style)', () => {
  it('reads two columns, skips comments and blanks, accepts D exponents and gzip', async () => {
    const p = join(dir, 'fort.7');
    await writeFile(p, FORT7);
    const s = await readSpectrumText(p);
    expect(Array.from(s.wavelengthAngstrom)).toEqual([4450, 4450.01, 4450.02]);
    expect(Array.from(s.flux)).toEqual([0.98765, 0.97, 0.95]);
    const gz = join(dir, 'fort.7.gz');
    await writeFile(gz, gzipSync(FORT7));
    expect(Array.from((await readSpectrumText(gz)).flux)).toEqual([0.98765, 0.97, 0.95]);
  });

  it('names file and line for bad input', async () => {
    const bad: [string, RegExp][] = [
      ['4450 1\n4451', /f:2: expected 2 numbers/],
      ['4450 1\n4451 abc', /f:2: flux 'abc' is not a number/],
      ['4450 1\n4451 NaN', /f:2: flux 'NaN' is not a finite number/],
      ['4450 1\n-Inf 1', /f:2: wavelength '-Inf' is not a finite number/],
      ['4450 1\n4449 1', /f:2: wavelength 4449 does not increase \(previous 4450 on line 1\)/],
      ['# only a comment\n\n', /f: empty file/],
      ['', /f: empty file/],
      ['4450 1.2e', /f:1: flux '1.2e' is not a number/],
    ];
    for (const [text, re] of bad) expect(() => parseSpectrumText(text, 'f')).toThrow(re);
    const gz = join(dir, 'trunc.gz');
    await writeFile(gz, gzipSync(FORT7.repeat(50)).subarray(0, 40));
    await expect(readSpectrumText(gz)).rejects.toThrow(/trunc\.gz: truncated or corrupt gzip/);
    const empty = join(dir, 'empty.txt');
    await writeFile(empty, '');
    await expect(readSpectrumText(empty)).rejects.toThrow(/empty\.txt: empty file/);
  });
});

describe('readSpectrumCsv', () => {
  it('finds wavelength/flux columns from the header, or takes the first two', () => {
    const s = parseSpectrumCsv('# note\nflux_rel,wl_air_A\n0.5,5000\n0.6,5000.5\n', 'c');
    expect(Array.from(s.wavelengthAngstrom)).toEqual([5000, 5000.5]);
    expect(Array.from(s.flux)).toEqual([0.5, 0.6]);
    expect(Array.from(parseSpectrumCsv('5000;1\n5001;0.9', 'c').flux)).toEqual([1, 0.9]);
    expect(
      Array.from(parseSpectrumCsv('a,b,c\n1,2,3\n2,4,6', 'c', { wavelengthColumn: 'a', fluxColumn: 2 }).flux),
    ).toEqual([3, 6]);
  });

  it('names file and line for bad input', () => {
    expect(() => parseSpectrumCsv('wl,flux\n5000,1\n5001', 'c.csv')).toThrow(
      /c\.csv:3: expected at least 2 fields/,
    );
    expect(() => parseSpectrumCsv('wl,flux\n5000,1\n5001,inf', 'c.csv')).toThrow(
      /c\.csv:3: flux 'inf' is not a finite number/,
    );
    expect(() => parseSpectrumCsv('wl,flux\n5000,x', 'c.csv')).toThrow(/c\.csv:2: flux 'x' is not a number/);
    expect(() => parseSpectrumCsv('wl,flux\n', 'c.csv')).toThrow(/c\.csv: empty file/);
    expect(() => parseSpectrumCsv('wl,flux\n5000,1', 'c.csv', { fluxColumn: 'f' })).toThrow(
      /no flux column named 'f'/,
    );
  });
});

const HARPS_CSV = join(
  __dirname,
  '../../../../../shared/data/atomic/solar_spectrum/sun_harps_ganymede_4440-5410_air.csv',
);

describe.skipIf(!existsSync(HARPS_CSV))('real data: HARPS solar spectrum (CSV, ../shared/data)', () => {
  it('reads, resamples onto the default grid (gap -> NaN) and normalizes the continuum', async () => {
    const s = await readSpectrumCsv(HARPS_CSV);
    expect(s.wavelengthAngstrom.length).toBe(97002);
    expect(s.wavelengthAngstrom[0]).toBeCloseTo(4440.0007, 4);
    const flux = resampleSpectrum(s, { maskNonPositive: true, method: 'average' });
    expect(flux).toHaveLength(SPECTRUM_DEFAULT_GRID.n);
    const lam = Float64Array.from({ length: flux.length }, (_, i) => 4450 + i * 0.05);
    let nan = 0;
    for (let i = 0; i < flux.length; i++) {
      if (Number.isNaN(flux[i])) {
        nan++;
        expect(lam[i]).toBeGreaterThan(5304.5);
        expect(lam[i]).toBeLessThan(5337.8);
      }
    }
    expect(nan).toBeGreaterThan(600); // the 5304.66–5337.59 Å detector gap
    const { flux: norm, continuum } = normalizeContinuum(lam, flux, { windowAngstrom: 10, quantile: 0.97 });
    expect(continuum[0]).toBeGreaterThan(0.55); // continuum ~0.60 at 4500 Å, ~0.54 at 5400 Å (README)
    expect(continuum[0]).toBeLessThan(0.65);
    expect(continuum[continuum.length - 1]).toBeGreaterThan(0.5);
    expect(continuum[continuum.length - 1]).toBeLessThan(0.58);
    const finite = Array.from(norm)
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    expect(finite[Math.floor(0.99 * finite.length)]).toBeGreaterThan(0.98);
    expect(finite[Math.floor(0.99 * finite.length)]).toBeLessThan(1.03);
    // H-beta core of the Sun: deep line at 4861.3 Å (air).
    const ib = Math.round((4861.33 - 4450) / 0.05);
    expect(Math.min(...norm.subarray(ib - 3, ib + 4))).toBeLessThan(0.35);
  });
});
