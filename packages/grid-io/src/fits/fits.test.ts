// FITS spectra against astropy and specutils: files astropy writes read back to astropy's own values
// (wavelengths by astropy.wcs), files grid-io writes open in specutils with their units; the real HARPS Sun.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDataset, rowToSpectrumRecord } from '../dataset/read.js';
import { ingestSpectra } from '../ingest/spectra.js';
import { SPECTRUM_DEFAULT_GRID } from '../spectra/grid.js';
import { runPython, testPython } from '../testing/python.js';
import { realDataDir } from '../testing/real-data.js';
import { encodeFits, fitsCard, parseFits, readFitsImage } from './fits.js';
import { encodeFitsSpectra, parseFitsSpectrum, readFitsSpectrum, writeFitsSpectra } from './spectrum.js';

const python = testPython();
const script = fileURLToPath(new URL('../../python/fits_fixtures.py', import.meta.url));

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fits-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Written {
  file: string;
  hdu: number;
  wavelength: (number | null)[];
  flux: (number | null)[];
  medium: 'air' | 'vacuum' | null;
}

/** Max |a − b| / |b| over the pairs (0 where they are equal, Infinity where only one is NaN). */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    if (a[i] === b[i]) continue;
    const r = Math.abs(a[i] - b[i]) / Math.abs(b[i]);
    m = Math.max(m, Number.isNaN(r) ? Infinity : r);
  }
  return m;
}

describe.skipIf(!python)('reading FITS spectra written by astropy', () => {
  let cases: Written[] = [];
  beforeAll(async () => {
    cases = JSON.parse(await runPython(python!, [script, 'write', join(dir, 'astropy')])) as Written[];
  });

  it('covers every layout: BITPIX -32 -64 16 32 with BSCALE/BZERO/BLANK, log WCS, IRAF DC-FLAG, tables, gzip', () => {
    expect(cases.map((c) => c.file).sort()).toEqual(
      [
        'float32.fits',
        'float32.fits.gz',
        'float64.fits',
        'int16.fits',
        'int32.fits',
        'iraf-log10.fits',
        'loglinear.fits',
        'table-rows.fits',
        'table-sdp.fits',
      ].sort(),
    );
  });

  it('gives astropy’s wavelengths (to 1e-12 relative) and flux (exactly), dropping only NaN/BLANK samples', async () => {
    for (const c of cases) {
      const s = await readFitsSpectrum(join(dir, 'astropy', c.file));
      // astropy's samples with a finite flux, in increasing wavelength.
      let ref = c.wavelength.map((w, i) => ({ w: w!, f: c.flux[i] })).filter((p) => p.f !== null) as {
        w: number;
        f: number;
      }[];
      if (ref[0].w > ref[ref.length - 1].w) ref = ref.reverse();
      expect(s.droppedSamples, c.file).toBe(c.wavelength.length - ref.length);
      expect(s.wavelengthAngstrom.length, c.file).toBe(ref.length);
      expect(
        maxRel(
          s.wavelengthAngstrom,
          ref.map((p) => p.w),
        ),
        c.file,
      ).toBeLessThan(1e-12);
      // Scaled integers: astropy computes BZERO + BSCALE·raw in float32 for 16-bit data, in float64 otherwise.
      const tol = c.file === 'int16.fits' ? 1e-7 : 0;
      expect(
        maxRel(
          s.flux,
          ref.map((p) => p.f),
        ),
        c.file,
      ).toBeLessThanOrEqual(tol);
      expect(s.hdu, c.file).toBe(c.hdu);
      if (c.medium) expect(s.medium, c.file).toBe(c.medium);
    }
  });
});

describe('FITS errors name the file and the HDU', () => {
  it('refuses non-FITS bytes, truncated data, several spectra in one array and a missing wavelength solution', async () => {
    expect(() => parseFitsSpectrum(Buffer.from('wavelength,flux\n1,2\n'), 'x.csv')).toThrow(
      /x\.csv: not a FITS file/,
    );
    const good = encodeFitsSpectra({
      startAngstrom: 4450,
      stepAngstrom: 0.05,
      nPixels: 10,
      flux: new Float32Array(20).fill(1),
      fluxUnit: '',
      fluxDescription: 'continuum-normalized flux',
      medium: 'air',
    });
    expect(() => parseFitsSpectrum(good.subarray(0, good.length - 2880), 'cut.fits')).toThrow(
      /cut\.fits: HDU 0: truncated: its data need 80 bytes/,
    );
    expect(() => parseFitsSpectrum(good, 'two.fits')).toThrow(
      /two\.fits: HDU 0: a 10 × 2 array holds several spectra/,
    );
    const nowcs = encodeFits([
      { kind: 'image', axes: [4], bitpix: -32, data: new Float32Array([1, 2, 3, 4]) },
    ]);
    expect(() => parseFitsSpectrum(nowcs, 'nowcs.fits')).toThrow(
      /nowcs\.fits: HDU 0: a 1D array without a wavelength solution \(no CRVAL1\)/,
    );
    const metres = encodeFits([
      {
        kind: 'image',
        axes: [4],
        bitpix: -32,
        data: new Float32Array([1, 2, 3, 4]),
        cards: [fitsCard('CTYPE1', 'WAVE'), fitsCard('CRVAL1', 4450), fitsCard('CDELT1', 0.05)],
      },
    ]);
    expect(() => parseFitsSpectrum(metres, 'm.fits')).toThrow(
      /m\.fits: HDU 0: wavelengths .* Å are not those of a spectrum \(check CUNIT1/,
    );
  });

  it('reads back what it writes (float64 labels, header values, long cards refused)', () => {
    const buf = encodeFits([
      {
        kind: 'image',
        axes: [3],
        bitpix: -64,
        data: new Float64Array([1.5, -2.25, 1e-300]),
        cards: [fitsCard('X', 0.1), fitsCard('NAME', "it's")],
      },
    ]);
    const [h] = parseFits(buf, 'rt.fits');
    expect(h.header.get('X')).toBe(0.1);
    expect(h.header.get('NAME')).toBe("it's");
    expect(Array.from(readFitsImage(buf, h, 'rt.fits').values)).toEqual([1.5, -2.25, 1e-300]);
    expect(buf.length % 2880).toBe(0);
    expect(() => fitsCard('TOOLONGKEY', 1)).toThrow(/1–8/);
    expect(() => fitsCard('S', 'x'.repeat(70))).toThrow(/does not fit one card/);
  });
});

interface SpecutilsView {
  format: string | string[];
  hdus: { name: string; kind: string; shape: number[] | null }[];
  header: Record<string, unknown>;
  comments: string[];
  flux_unit: string;
  flux_dimensionless: boolean;
  flux_shape: number[];
  flux: number[];
  spectral_axis_angstrom: number[];
  spectral_axis_physical_type: string;
  labels: { names: string[]; units: string[]; values: number[][] } | null;
  warnings: string[];
}

describe.skipIf(!python)('FITS written by grid-io, read by astropy and specutils', () => {
  it('identifies as wcs1d-fits, with the spectral axis in Å, dimensionless flux, labels with units', async () => {
    const nPixels = 200;
    const flux = Float32Array.from(
      { length: 3 * nPixels },
      (_, i) => 1 - 0.3 * Math.exp(-(((i % nPixels) - 100) ** 2) / 50) + 0.001 * Math.floor(i / nPixels),
    );
    const labels = {
      names: ['teff_k', 'logg', 'vsini_kms'],
      units: ['K', '', 'km/s'],
      values: Float64Array.from([5772, 4.44, 1.6, 6000, 4, 10, 4500.5, 2.5, 0]),
    };
    const many = join(dir, 'many.fits');
    const one = join(dir, 'one.fits');
    const common = {
      startAngstrom: 4450,
      stepAngstrom: 0.05,
      nPixels,
      fluxUnit: '',
      fluxDescription: 'continuum-normalized flux',
    };
    await writeFitsSpectra(many, {
      ...common,
      medium: 'air',
      flux,
      labels,
      provenance: { ORIGIN: 'stellar-emu', MODELSHA: 'ab'.repeat(32) },
      comments: ['generated by a test'],
    });
    await writeFitsSpectra(one, {
      ...common,
      flux: flux.subarray(0, nPixels),
      labels: { ...labels, values: labels.values.subarray(0, 3) },
    });
    const [m, o] = JSON.parse(await runPython(python!, [script, 'read', many, one])) as SpecutilsView[];
    for (const v of [m, o]) {
      expect(v.format).toBe('wcs1d-fits'); // one format only: no ambiguity with tabular-fits
      expect(v.flux_dimensionless).toBe(true);
      expect(v.spectral_axis_physical_type).toBe('length');
      expect(v.spectral_axis_angstrom.length).toBe(nPixels);
      for (let i = 0; i < nPixels; i++)
        expect(Math.abs(v.spectral_axis_angstrom[i] - (4450 + 0.05 * i))).toBeLessThan(1e-9);
      expect(v.warnings).toEqual([]);
    }
    expect(m.flux_shape).toEqual([3, nPixels]);
    expect(o.flux_shape).toEqual([nPixels]);
    expect(m.flux).toEqual(Array.from(flux));
    expect(m.hdus.map((h) => [h.name, h.kind, h.shape])).toEqual([
      ['PRIMARY', 'PrimaryHDU', [3, nPixels]],
      ['LABELS', 'ImageHDU', [3, 3]],
    ]);
    expect(m.labels!.names).toEqual(labels.names);
    expect(m.labels!.units).toEqual(labels.units);
    expect(m.labels!.values.flat()).toEqual(Array.from(labels.values));
    expect(m.header.CTYPE1).toBe('AWAV');
    expect(m.header.MODELSHA).toBe('ab'.repeat(32));
    expect(m.comments).toEqual(['generated by a test']);
    expect(o.header.TEFF_K).toBe(5772);
    expect(o.header.LOGG).toBe(4.44);
    expect(o.header.CTYPE1).toBe('WAVE');
    expect(o.header.AIRORVAC).toBe('unknown'); // medium not given: said so, and read back as unknown
    // and the project's own reader takes the single spectrum back
    const back = parseFitsSpectrum(await readFile(one), one);
    expect(Array.from(back.flux)).toEqual(Array.from(flux.subarray(0, nPixels)));
    expect(back.medium).toBeUndefined();
    expect(
      parseFitsSpectrum(
        encodeFitsSpectra({ ...common, medium: 'air', flux: flux.subarray(0, nPixels) }),
        'air.fits',
      ).medium,
    ).toBe('air');
  });
});

const data = realDataDir();
const HARPS = data ? join(data, 'atomic/solar_spectrum/Sun_HARPS_Ganymede_2007.fits') : '';

describe.skipIf(!python || !data || !existsSync(HARPS))(
  'real data: the HARPS Sun FITS (../shared/data)',
  () => {
    it('reads as astropy does: 313,025 float32 samples from 3783 Å at 0.01 Å (IRAF CTYPE1 ANGSTROM)', async () => {
      const ref = join(dir, 'harps-ref.json');
      await runPython(python!, [
        '-c',
        [
          'import json, sys, numpy as np',
          'from astropy.io import fits',
          `h = fits.open(${JSON.stringify(HARPS)})[0]`,
          'n = h.header["NAXIS1"]',
          'w = h.header["CRVAL1"] + h.header["CDELT1"] * (np.arange(n) + 1 - h.header["CRPIX1"])',
          `json.dump({"w": w.tolist(), "f": np.asarray(h.data, np.float64).tolist()}, open(${JSON.stringify(ref)}, "w"))`,
        ].join('\n'),
      ]);
      const r = JSON.parse(await readFile(ref, 'utf8')) as { w: number[]; f: number[] };
      const s = await readFitsSpectrum(HARPS);
      expect(s.wavelengthAngstrom.length).toBe(313025);
      expect(s.droppedSamples).toBe(0);
      expect(maxRel(s.wavelengthAngstrom, r.w)).toBeLessThan(1e-13);
      expect(Array.from(s.flux)).toEqual(r.f);
    });

    it('ingests through ingestSpectra with its label row onto the 0.05 Å grid, equal to numpy.interp of astropy’s data', async () => {
      const table = join(dir, 'sun-labels.csv');
      await writeFile(
        table,
        `file,teff_k,logg,vsini_kms,mh,vmic_kms,resolution\n${HARPS},5772,4.44,1.6,0,1,115000\n`,
      );
      const out = join(dir, 'sun-ds');
      const res = await ingestSpectra({ labels: table, out, allowOutside: true, split: null });
      expect(res.ingested).toBe(1);
      expect(res.rejected).toEqual([]);
      const ds = await openDataset(out);
      const rows: { flux: number[]; labels: Record<string, number> }[] = [];
      for await (const batch of ds.iterateRows())
        for (const row of batch) rows.push(rowToSpectrumRecord(row, ds.manifest));
      expect(rows.length).toBe(1);
      expect(rows[0].labels).toMatchObject({ teffK: 5772, logg: 4.44, resolution: 115000 });
      const ref = join(dir, 'harps-interp.json');
      const g = SPECTRUM_DEFAULT_GRID;
      await runPython(python!, [
        '-c',
        [
          'import json, numpy as np',
          'from astropy.io import fits',
          `h = fits.open(${JSON.stringify(HARPS)})[0]`,
          'n = h.header["NAXIS1"]',
          'w = h.header["CRVAL1"] + h.header["CDELT1"] * (np.arange(n) + 1 - h.header["CRPIX1"])',
          `x = ${g.startAngstrom} + ${g.stepAngstrom} * np.arange(${g.n})`,
          `json.dump(np.interp(x, w, np.asarray(h.data, np.float64)).astype(np.float32).tolist(), open(${JSON.stringify(ref)}, "w"))`,
        ].join('\n'),
      ]);
      const expected = JSON.parse(await readFile(ref, 'utf8')) as number[];
      expect(rows[0].flux.length).toBe(g.n);
      // float32 storage of both: equal to 2 ulp (the interpolation is done in float64 by both)
      expect(maxRel(rows[0].flux, expected)).toBeLessThan(2.5e-7);
      expect(res.manifest.inputs.some((i) => i.path.endsWith('Sun_HARPS_Ganymede_2007.fits'))).toBe(true);
    });
  },
);

describe('FITS cards', () => {
  it('writes fixed-format values astropy parses the same (checked above); reals keep a decimal point', () => {
    expect(fitsCard('A', 5)).toBe(`A       =                    5${' '.repeat(50)}`);
    expect(fitsCard('A', 1e-30).slice(10, 30).trim()).toBe('1.E-30');
    expect(fitsCard('A', 4450.05).slice(10, 30).trim()).toBe('4450.05');
    expect(fitsCard('A', 1e20).slice(10, 30).trim()).toBe('1.E+20');
    expect(Number(fitsCard('A', 0.1 + 0.2).slice(10, 30))).toBe(0.1 + 0.2);
  });
});
