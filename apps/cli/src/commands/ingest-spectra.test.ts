import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDataset, rowToSpectrumRecord } from '@stellar-emu/grid-io';

const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const run = (args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });

/** 1 - 0.6 exp(-(λ - 5002.5)² / 2 (0.08 Å)²), times `continuum`. */
const profile = (w: number, continuum = 1) =>
  continuum * (1 - 0.6 * Math.exp(-((w - 5002.5) ** 2) / (2 * 0.08 ** 2)));
function fort7(from: number, to: number, h: number, continuum = 1): string {
  const rows: string[] = [];
  for (let i = 0; from + i * h <= to + 1e-9; i++)
    rows.push(`${(from + i * h).toFixed(4)} ${profile(from + i * h, continuum).toExponential(10)}`);
  return `${rows.join('\n')}\n`;
}

describe('stellar-emu ingest spectra (built CLI)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-ingest-spectra-'));
    await writeFile(join(dir, 'a.txt'), fort7(4999.5, 5010.5, 0.013));
    await writeFile(
      join(dir, 'b.csv'),
      `wavelength,flux\n${fort7(4999.9, 5010.1, 0.02, 3e5).replaceAll(' ', ',')}`,
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('ingest two spectra on a custom grid with --normalize and --split 70/15/15; a missing file is rejected naming labels.csv:line (exit 0, 2 with --strict), a table of missing files only exits 1', async () => {
    const labels = join(dir, 'labels.csv');
    await writeFile(
      labels,
      'file,teff,logg,vsini,feh,vmic,resolution\na.txt,5800,4.4,2,0,1,50000\nb.csv,6200,4.1,10,-0.5,1.5,20000\n',
    );
    const out = join(dir, 'ds');
    const r = run([
      'ingest',
      'spectra',
      '--labels',
      labels,
      '--out',
      out,
      '--grid',
      '5000,0.05,200',
      '--normalize',
      '--split',
      '70/15/15',
      '--seed',
      '3',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(
      /^ingested 2 spectra from .*labels\.csv into .*ds in [\d.]+ s \([\d.]+\/s; 200 px 5000–5009\.95 Å, linear, continuum-normalized; split 70\/15\/15 seed 3: /,
    );
    expect(r.stderr).toMatch(/ingest spectra 2\/2/);
    expect(r.stderr).toMatch(
      /header 'teff' read as teff_k, 'vsini' read as vsini_kms, 'feh' read as mh, 'vmic' read as vmic_kms/,
    );

    const ds = await openDataset(out);
    expect(ds.manifest.rowCount).toBe(2);
    expect(ds.manifest.split).toEqual({ scheme: '70/15/15', seed: 3 });
    expect(ds.manifest.labels).toEqual(['teff_k', 'logg', 'vsini_kms', 'mh', 'vmic_kms', 'resolution']);
    const rows = [];
    for await (const batch of ds.iterateRows())
      rows.push(...batch.map((row) => rowToSpectrumRecord(row, ds.manifest)));
    // Linear interpolation from samples h apart: |error| <= h²/8 · max|f''| = h²/8 · 0.6/σ² (2.0e-3 for
    // a.txt, h = 0.013 Å; 4.7e-3 for b.csv, h = 0.02 Å), plus 1e-6 for float32 and printed digits.
    rows.forEach((rec, k) => {
      const h = [0.013, 0.02][k];
      const bound = ((h * h) / 8) * (0.6 / 0.08 ** 2) + 1e-6;
      const err = Math.max(...rec.flux.map((f, i) => Math.abs(f - profile(5000 + i * 0.05))));
      expect(err).toBeLessThan(bound);
    });
    expect(rows[0].flux[50]).toBeLessThan(0.45);
    expect(rows.map((rec) => [rec.line, rec.labels.mh])).toEqual([
      [2, 0],
      [3, -0.5],
    ]);

    await writeFile(
      labels,
      'file,teff_k,logg,vsini_kms,mh,vmic_kms,resolution\na.txt,5800,4.4,2,0,1,50000\nnope.txt,6200,4.1,10,-0.5,1.5,20000\n',
    );
    const bad = run([
      'ingest',
      'spectra',
      '--labels',
      labels,
      '--out',
      join(dir, 'bad'),
      '--grid',
      '5000,0.05,200',
    ]);
    // The good row is ingested; the missing file is rejected, named on stdout and counted on stderr.
    expect(bad.status, bad.stderr).toBe(0);
    expect(bad.stdout).toMatch(/labels\.csv:3: spectrum file 'nope\.txt' not found/);
    expect(bad.stderr).toMatch(/1 row rejected \(see .*bad\/_quarantine\.json\)/);
    expect((await openDataset(join(dir, 'bad'))).manifest.rowCount).toBe(1);
    const strict = run([
      'ingest',
      'spectra',
      '--labels',
      labels,
      '--out',
      join(dir, 'strict'),
      '--grid',
      '5000,0.05,200',
      '--strict',
    ]);
    expect(strict.status).toBe(2);
    expect(strict.stderr).toMatch(/--strict and some rows were rejected/);
    // Nothing good: exit 1, nothing written.
    await writeFile(
      labels,
      'file,teff_k,logg,vsini_kms,mh,vmic_kms,resolution\nnope.txt,6200,4.1,10,-0.5,1.5,20000\n',
    );
    const none = run([
      'ingest',
      'spectra',
      '--labels',
      labels,
      '--out',
      join(dir, 'none'),
      '--grid',
      '5000,0.05,200',
    ]);
    expect(none.status).toBe(1);
    expect(none.stdout).toMatch(/labels\.csv:2: spectrum file 'nope\.txt' not found/);
    expect(none.stderr).toMatch(/nothing was ingested/);
    expect(existsSync(join(dir, 'none'))).toBe(false);
  });
});
