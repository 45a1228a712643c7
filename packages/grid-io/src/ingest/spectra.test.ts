import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openDataset, rowToSpectrumRecord } from '../dataset/read.js';
import { assignSplit } from '../dataset/splits.js';
import type { SpectrumGrid } from '../spectra/grid.js';
import { generateSyntheticSpectrum } from '../synth/spectrum.js';
import type { SpectrumRecord } from '../types.js';
import { IngestError } from './ingest.js';
import { ingestSpectra, requiredCoverageAngstrom } from './spectra.js';

/** 5000–5009.95 Å at 0.05 Å (200 pixel centres, like the default grid the end 5010 is not one). */
const GRID: SpectrumGrid = { startAngstrom: 5000, stepAngstrom: 0.05, n: 200 };

interface Line {
  center: number;
  depth: number;
  sigma: number;
}
const LINES_A: Line[] = [
  { center: 5002.5, depth: 0.6, sigma: 0.08 },
  { center: 5006.2, depth: 0.35, sigma: 0.12 },
];
const LINES_B: Line[] = [
  { center: 5001.3, depth: 0.5, sigma: 0.1 },
  { center: 5008.75, depth: 0.7, sigma: 0.09 },
];

/** Closed form: continuum * (1 - Σ depth exp(-(λ-λ0)²/2σ²)). */
const profile = (lines: Line[], w: number, continuum = 1) =>
  continuum *
  (1 - lines.reduce((s, l) => s + l.depth * Math.exp(-((w - l.center) ** 2) / (2 * l.sigma ** 2)), 0));

/**
 * Tolerance of linear interpolation from samples h apart: |error| <= h²/8 max|f''|, and for a sum
 * of Gaussians max|f''| <= Σ depth/σ² (each Gaussian's |f''| peaks at its centre), plus 1e-6 for
 * float32 storage (~6e-8 relative) and the printed digits.
 */
const linearTolerance = (lines: Line[], h: number) =>
  ((h * h) / 8) * lines.reduce((s, l) => s + l.depth / l.sigma ** 2, 0) + 1e-6;

/** Samples from `from` while <= `to`, step h (integer multiples, so no drift). */
function sampleWavelengths(from: number, to: number, h: number): number[] {
  const out: number[] = [];
  for (let i = 0; from + i * h <= to + 1e-9; i++) out.push(from + i * h);
  return out;
}

/** A SYNSPEC fort.7-style two-column text spectrum. */
function fort7(lines: Line[], from: number, to: number, h: number, continuum = 1): string {
  return sampleWavelengths(from, to, h)
    .map((w) => `${w.toFixed(4).padStart(11)} ${profile(lines, w, continuum).toExponential(10)}`)
    .join('\n');
}

function csvSpectrum(lines: Line[], from: number, to: number, h: number): string {
  return [
    'wavelength,flux',
    ...sampleWavelengths(from, to, h).map((w) => `${w.toFixed(4)},${profile(lines, w).toFixed(12)}`),
  ].join('\n');
}

async function readBack(
  dir: string,
): Promise<{ records: SpectrumRecord[]; manifest: Awaited<ReturnType<typeof openDataset>>['manifest'] }> {
  const ds = await openDataset(dir);
  const records: SpectrumRecord[] = [];
  for await (const batch of ds.iterateRows())
    for (const r of batch) records.push(rowToSpectrumRecord(r, ds.manifest));
  return { records, manifest: ds.manifest };
}

function maxAbsDiff(flux: number[], lines: Line[]): number {
  let m = 0;
  flux.forEach(
    (f, i) => (m = Math.max(m, Math.abs(f - profile(lines, GRID.startAngstrom + i * GRID.stepAngstrom)))),
  );
  return m;
}

let dir = '';
const FIXTURES: Record<string, string | Buffer> = {};

/** A folder `dir/<name>` holding every fixture spectrum and `labels.csv` with `rows`; returns the table path. */
async function table(name: string, rows: string[]): Promise<string> {
  const sub = join(dir, name);
  await mkdir(sub, { recursive: true });
  for (const [file, content] of Object.entries(FIXTURES)) await writeFile(join(sub, file), content);
  await writeFile(join(sub, 'labels.csv'), `${rows.join('\n')}\n`);
  return join(sub, 'labels.csv');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingest-spectra-'));
  FIXTURES['a.txt'] = `# SYNSPEC fort.7\n${fort7(LINES_A, 4999.5, 5010.5, 0.013)}\n`;
  FIXTURES['b.csv'] = `${csvSpectrum(LINES_B, 4999.9, 5010.1, 0.02)}\n`;
  // Same lines as a, in erg/s/cm²/Å-like units (continuum 2.5e6), gzip: only sensible with normalize.
  FIXTURES['c.txt.gz'] = gzipSync(`${fort7(LINES_A, 4999.0, 5011.0, 0.017, 2.5e6)}\n`);
  FIXTURES['short.txt'] = `${fort7(LINES_A, 5001.0, 5010.5, 0.01)}\n`;
  FIXTURES['edge.txt'] = `${fort7(LINES_A, 5000, 5010.5, 0.01)}\n`;
  FIXTURES['gap.txt'] = `${fort7(LINES_A, 4999.5, 5004.0, 0.01)}\n${fort7(LINES_A, 5006.5, 5010.5, 0.01)}\n`;
  FIXTURES['bad.txt'] = '4999.0 1.0\n5000.0 abc\n5011.0 1.0\n';
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HEADER = 'file,teff_k,logg,vsini_kms,mh,vmic_kms,resolution';

describe('ingestSpectra', () => {
  it('reads text, gzip text and CSV spectra from a label table: flux = closed form within the linear-interpolation bound, labels, source/line, 90/10 split', async () => {
    const labels = await table('plain', [
      HEADER,
      '# two test spectra',
      'a.txt,5800,4.4,2,0,1,50000',
      '',
      'b.csv,6200,4.1,10.5,-0.5,1.5,20000',
    ]);
    const sub = join(dir, 'plain');
    const out = join(dir, 'ds-plain');
    const progress: string[] = [];
    const r = await ingestSpectra({
      labels,
      out,
      grid: GRID,
      onProgress: (p) => progress.push(`${p.done}/${p.total}`),
    });
    expect(r.ingested).toBe(2);
    expect(progress).toEqual(['1/2', '2/2']);
    expect(r.ignoredColumns).toEqual([]);
    expect(r.columns.every((c) => !c.alias)).toBe(true);

    const { records, manifest } = await readBack(out);
    // Same label columns, keys and order as the synthetic generator's records.
    const synth = generateSyntheticSpectrum(
      { teffK: 5800, logg: 4.4, vsiniKms: 2, mh: 0, vmicKms: 1, resolution: 50000 },
      { grid: GRID },
    );
    expect(Object.keys(records[0].labels)).toEqual(Object.keys(synth.labels));
    expect(manifest.labels).toEqual(['teff_k', 'logg', 'vsini_kms', 'mh', 'vmic_kms', 'resolution']);
    expect(manifest.kind).toBe('spectra');
    expect(manifest.synthetic).toBe(false);
    expect(manifest.rowCount).toBe(2);
    expect(manifest.pixels).toEqual({ min: 200, max: 200, nanCount: 0 });
    expect(manifest.split).toEqual({ scheme: '90/10', seed: 0 });
    expect(Object.values(manifest.splitCounts).reduce((x, y) => x + y, 0)).toBe(2);
    expect(manifest.inputs.map((i) => i.path)).toEqual([labels, join(sub, 'a.txt'), join(sub, 'b.csv')]);
    expect(manifest.inputs.every((i) => /^[0-9a-f]{64}$/.test(i.sha256))).toBe(true);

    const [a, b] = records;
    expect(a.labels).toEqual({ teffK: 5800, logg: 4.4, vsiniKms: 2, mh: 0, vmicKms: 1, resolution: 50000 });
    expect(b.labels).toEqual({
      teffK: 6200,
      logg: 4.1,
      vsiniKms: 10.5,
      mh: -0.5,
      vmicKms: 1.5,
      resolution: 20000,
    });
    expect([a.source, a.line, b.source, b.line]).toEqual([join(sub, 'a.txt'), 3, join(sub, 'b.csv'), 5]);
    for (const rec of records) {
      expect(rec.synthetic).toBe(false);
      expect(rec.wavelengthStartAngstrom).toBe(5000);
      expect(rec.wavelengthStepAngstrom).toBe(0.05);
      expect(rec.flux).toHaveLength(200);
      expect(rec.split).toBe(assignSplit(rec.id, '90/10', 0));
    }
    // Bounds 2.5e-3 (h = 0.013 Å) and 6.8e-3 (h = 0.02 Å), reached only at a sample midpoint on a line centre.
    expect(maxAbsDiff(a.flux, LINES_A)).toBeLessThan(linearTolerance(LINES_A, 0.013));
    expect(maxAbsDiff(b.flux, LINES_B)).toBeLessThan(linearTolerance(LINES_B, 0.02));
    // The line cores really are there (not a flat spectrum passing a loose tolerance).
    expect(a.flux[50]).toBeLessThan(0.45);
    expect(b.flux[175]).toBeLessThan(0.35);
  });

  it('header aliases (Teff, vsini, [Fe/H], vmic), extra columns ignored, normalize divides out the continuum, 70/15/15 with a seed', async () => {
    const labels = await table('aliases', [
      'Teff,logg,vsini,[Fe/H],vmic,resolution,file,note',
      '7000,3.9,40,0.2,2,11500,c.txt.gz,"flux in cgs, continuum 2.5e6"',
      '5800,4.4,2,0,1,50000,a.txt,plain',
    ]);
    const out = join(dir, 'ds-norm');
    const r = await ingestSpectra({
      labels,
      out,
      grid: GRID,
      normalize: true,
      split: { scheme: '70/15/15', seed: 5 },
    });
    expect(r.columns.map((c) => [c.column, c.header, c.alias])).toEqual([
      ['teff_k', 'Teff', true],
      ['logg', 'logg', false],
      ['vsini_kms', 'vsini', true],
      ['mh', '[Fe/H]', true],
      ['vmic_kms', 'vmic', true],
      ['resolution', 'resolution', false],
    ]);
    expect(r.ignoredColumns).toEqual(['note']);
    const { records, manifest } = await readBack(out);
    expect(manifest.split).toEqual({ scheme: '70/15/15', seed: 5 });
    expect(manifest.notes).toMatchObject({
      normalize: { windowAngstrom: 20, quantile: 0.95 },
      resample: 'linear',
    });
    const [c, a] = records;
    expect(c.labels).toEqual({
      teffK: 7000,
      logg: 3.9,
      vsiniKms: 40,
      mh: 0.2,
      vmicKms: 2,
      resolution: 11500,
    });
    expect(c.line).toBe(2);
    // The continuum (0.95 quantile of the single 20 Å window) is the line-free level to ~1e-15, so
    // the normalized flux is the closed-form profile within the same interpolation bound.
    expect(maxAbsDiff(c.flux, LINES_A)).toBeLessThan(linearTolerance(LINES_A, 0.017));
    expect(maxAbsDiff(a.flux, LINES_A)).toBeLessThan(linearTolerance(LINES_A, 0.013));
    for (const rec of records) expect(rec.split).toBe(assignSplit(rec.id, '70/15/15', 5));
  });

  it('a missing spectrum file is quarantined with the table line and the good rows are kept; a table of missing files only is an error, before anything is written', async () => {
    const labels = await table('missing', [
      HEADER,
      'a.txt,5800,4.4,2,0,1,50000',
      '# comment',
      'b.csv,6200,4.1,10,-0.5,1.5,20000',
      '',
      'a.txt,5900,4.4,2,0,1,50000',
      'x.txt,6000,4.0,2,0,1,50000',
    ]);
    const out = join(dir, 'ds-missing');
    const r = await ingestSpectra({ labels, out, grid: GRID });
    expect(r.ingested).toBe(3);
    expect(r.rejected).toEqual([
      {
        file: labels,
        line: 7,
        code: 'not-found',
        reason: `${labels}:7: spectrum file 'x.txt' not found (${join(dir, 'missing', 'x.txt')})`,
        input: join(dir, 'missing', 'x.txt'),
      },
    ]);
    const q = JSON.parse(await readFile(r.quarantinePath, 'utf8'));
    expect(r.quarantinePath).toBe(join(out, '_quarantine.json'));
    expect(q).toMatchObject({ labels, rows: 4, ingested: 3, rejected: r.rejected });
    const { records, manifest } = await readBack(out);
    expect(records.map((x) => x.line)).toEqual([2, 4, 6]);
    expect(manifest.notes).toMatchObject({ rejected: 1 });

    const none = await table('missing-only', [
      HEADER,
      'x.txt,6000,4.0,2,0,1,50000',
      'y.txt,6000,4.0,2,0,1,50000',
    ]);
    const out2 = join(dir, 'ds-missing-only');
    const err = await ingestSpectra({ labels: none, out: out2, grid: GRID }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IngestError);
    expect((err as Error).message).toContain(`labels.csv:2: spectrum file 'x.txt' not found`);
    expect((err as Error).message).toContain(`labels.csv:3: spectrum file 'y.txt' not found`);
    expect((err as IngestError).rejected.map((e) => e.line)).toEqual([2, 3]);
    expect(existsSync(out2)).toBe(false);
  });

  it('a non-numeric label is quarantined naming the table line and column; the other rows are kept', async () => {
    const labels = await table('bad-number', [
      HEADER,
      'a.txt,5800,4.4,2,0,1,50000',
      'a.txt,5800,4.4,2,0,1,50000',
      '#',
      '#',
      '',
      'b.csv,6200,abc,10,-0.5,1.5,20000',
    ]);
    const r = await ingestSpectra({ labels, out: join(dir, 'ds-bad'), grid: GRID });
    expect(r.ingested).toBe(2);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]).toMatchObject({ file: labels, line: 7, code: 'label' });
    expect(r.rejected[0].reason).toBe(`${labels}:7: column logg: expected a number, found 'abc'`);
    expect((await readBack(join(dir, 'ds-bad'))).records.map((x) => x.line)).toEqual([2, 3]);
  });

  it('file paths resolve relative to the table; files outside its folder (../, absolute, links leading out) are refused unless allowOutside', async () => {
    const labels = await table('paths', [
      HEADER,
      'a.txt,5800,4.4,2,0,1,50000',
      `${join(dir, 'paths', 'b.csv')},6200,4.1,10,-0.5,1.5,20000`,
      '../outside.txt,5800,4.4,2,0,1,50000',
      `${join(dir, 'outside.txt')},5800,4.4,2,0,1,50000`,
      'link.txt,5800,4.4,2,0,1,50000',
      'sub/../a.txt,5900,4.4,2,0,1,50000',
    ]);
    await writeFile(join(dir, 'outside.txt'), FIXTURES['a.txt']);
    await rm(join(dir, 'paths', 'link.txt'), { force: true });
    await symlink(join(dir, 'outside.txt'), join(dir, 'paths', 'link.txt'));
    await mkdir(join(dir, 'paths', 'sub'), { recursive: true });
    // Run from another working directory: paths are relative to the table, not to the cwd.
    const cwd = process.cwd();
    process.chdir(tmpdir());
    try {
      const r = await ingestSpectra({ labels, out: join(dir, 'ds-paths'), grid: GRID });
      expect(r.ingested).toBe(3);
      expect((await readBack(join(dir, 'ds-paths'))).records.map((x) => [x.line, x.source])).toEqual([
        [2, join(dir, 'paths', 'a.txt')],
        [3, join(dir, 'paths', 'b.csv')],
        [7, join(dir, 'paths', 'sub/../a.txt')],
      ]);
      expect(r.rejected.map((e) => [e.line, e.code])).toEqual([
        [4, 'outside'],
        [5, 'outside'],
        [6, 'outside'],
      ]);
      expect(r.rejected[0].reason).toBe(
        `${labels}:4: spectrum file '../outside.txt' (${join(dir, 'paths', '../outside.txt')}) is outside the label table's folder ${join(dir, 'paths')}; refused (allowOutside / --allow-outside reads it)`,
      );
      expect(r.rejected[2].reason).toMatch(
        /labels\.csv:6: spectrum file 'link\.txt' .*links outside the label table's folder/,
      );
      const all = await ingestSpectra({
        labels,
        out: join(dir, 'ds-paths-all'),
        grid: GRID,
        allowOutside: true,
      });
      expect(all.ingested).toBe(6);
      expect(all.rejected).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });

  it('a missing label column is an error naming the header line', async () => {
    const labels = await table('no-column', [
      'file,teff,logg,vsini,mh,resolution',
      'a.txt,5800,4.4,2,0,50000',
    ]);
    await expect(ingestSpectra({ labels, out: join(dir, 'ds-nocol'), grid: GRID })).rejects.toThrow(
      /labels\.csv:1: missing label column vmic_kms \(or vmic\)/,
    );
  });

  it('a spectrum not covering the grid is quarantined with the range it has and needs; no NaN flux, no partial file left', async () => {
    expect(requiredCoverageAngstrom(GRID)).toEqual({ min: 5000, max: 5009.95 });
    expect(requiredCoverageAngstrom(GRID, 'average')).toEqual({ min: 4999.975, max: 5009.975 });
    const labels = await table('short', [
      HEADER,
      'a.txt,5800,4.4,2,0,1,50000',
      'short.txt,5800,4.4,2,0,1,50000',
    ]);
    const out = join(dir, 'ds-short');
    const r = await ingestSpectra({ labels, out, grid: GRID });
    expect(r.ingested).toBe(1);
    expect(r.rejected.map((e) => [e.line, e.code])).toEqual([[3, 'coverage']]);
    expect(r.rejected[0].reason).toContain(
      `labels.csv:3: spectrum file 'short.txt' covers 5001–5010.5 Å but the grid needs 5000–5009.95 Å`,
    );
    expect(r.manifest.pixels?.nanCount).toBe(0);
    expect(r.manifest.rowCount).toBe(1);
    expect(existsSync(join(out, 'data.parquet.partial'))).toBe(false);
    // Average resampling needs the outer pixel edges: a spectrum starting at the first centre is not enough.
    const edge = await table('edge', [HEADER, 'edge.txt,5800,4.4,2,0,1,50000']);
    await expect(
      ingestSpectra({ labels: edge, out: join(dir, 'ds-edge'), grid: GRID, method: 'average' }),
    ).rejects.toThrow(
      `labels.csv:2: spectrum file 'edge.txt' covers 5000–5010.5 Å but the grid needs 4999.975–5009.975 Å (outer pixel edges`,
    );
    expect(existsSync(join(dir, 'ds-edge'))).toBe(false);
    const e = await ingestSpectra({ labels: edge, out: join(dir, 'ds-edge'), grid: GRID, method: 'linear' });
    expect(e.manifest.pixels?.nanCount).toBe(0);
  });

  it('a gap wider than maxGapAngstrom inside the grid is an error naming the gap', async () => {
    const labels = await table('gap', [HEADER, 'gap.txt,5800,4.4,2,0,1,50000']);
    await expect(ingestSpectra({ labels, out: join(dir, 'ds-gap'), grid: GRID })).rejects.toThrow(
      /labels\.csv:2: spectrum file 'gap\.txt' \(4999\.5–5010\.5 Å\) leaves \d+ of 200 grid pixels without flux: a gap in its samples between 5004 and 5006\.5 Å/,
    );
    const r = await ingestSpectra({ labels, out: join(dir, 'ds-gap'), grid: GRID, maxGapAngstrom: 3 });
    expect(r.ingested).toBe(1);
  });

  it('a bad row inside a spectrum file is reported with the table line and the file line, never quoting the file', async () => {
    const labels = await table('bad-file', [HEADER, 'bad.txt,5800,4.4,2,0,1,50000']);
    const err = await ingestSpectra({ labels, out: join(dir, 'ds-badfile'), grid: GRID }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IngestError);
    expect((err as Error).message).toContain(
      `labels.csv:2: ${join(dir, 'bad-file', 'bad.txt')}:2: flux is not a number`,
    );
    expect((err as Error).message).not.toContain('abc');
  });
});
