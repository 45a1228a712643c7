import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST_FILE, syntheticSpectra, writeSpectrumDataset } from '@stellar-emu/grid-io';
import { runPython, testPython } from '@stellar-emu/grid-io/testing';

const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const run = (args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });

test('train cvae, then generate spectrum: CSV, same seed reproducible, training-box and model-dir errors, label table to Parquet', async () => {
  const root = await mkdtemp(join(tmpdir(), 'cli-cvae-'));
  const ds = join(root, 'ds');
  await writeSpectrumDataset(
    syntheticSpectra({ n: 60, seed: 5, grid: { startAngstrom: 5000, stepAngstrom: 0.1, n: 300 } }),
    ds,
    { split: { scheme: '90/10', seed: 0 } },
  );
  const model = join(root, 'model');
  const t = run([
    'train',
    'cvae',
    '--data',
    ds,
    '--out',
    model,
    '--epochs',
    '2',
    '--batch-size',
    '16',
    '--json',
  ]);
  expect(t.status, t.stderr).toBe(0);
  const summary = JSON.parse(t.stdout);
  expect(summary).toMatchObject({
    nPixels: 300,
    epochsDone: 2,
    labels: ['teff_k', 'logg', 'vsini_kms', 'mh', 'vmic_kms', 'resolution'],
  });

  const meta = JSON.parse(await readFile(join(model, 'model.json'), 'utf8'));
  const mid = Object.fromEntries(
    meta.labels.map((l: { key: string; rangeMin: number; rangeMax: number }) => [
      l.key,
      (l.rangeMin + l.rangeMax) / 2,
    ]),
  );
  const args = [
    '--teff',
    mid.teffK,
    '--logg',
    mid.logg,
    '--vsini',
    mid.vsiniKms,
    '--mh',
    mid.mh,
    '--vmic',
    mid.vmicKms,
    '--resolution',
    mid.resolution,
  ].map(String);
  const g1 = run([
    'generate',
    'spectrum',
    '--model',
    model,
    ...args,
    '--n',
    '3',
    '--seed',
    '3',
    '--out',
    join(root, 'a.csv'),
  ]);
  expect(g1.status, g1.stderr).toBe(0);
  const g2 = run([
    'generate',
    'spectrum',
    '--model',
    model,
    ...args,
    '--n',
    '3',
    '--seed',
    '3',
    '--out',
    join(root, 'b.csv'),
  ]);
  expect(g2.status, g2.stderr).toBe(0);
  const a = await readFile(join(root, 'a.csv'), 'utf8');
  expect(await readFile(join(root, 'b.csv'), 'utf8')).toBe(a);
  const all = a.trim().split('\n');
  const weights = createHash('sha256')
    .update(await readFile(join(model, meta.weightsFile)))
    .digest('hex');
  expect(all[0]).toMatch(
    new RegExp(`^# stellar-emu \\S+ CVAE .*model \\(weights sha256 ${weights}\\); z ~ N\\(0, I\\), seed 3$`),
  );
  expect(all[1]).toMatch(/^# units: wavelength_angstrom Å .*flux_i continuum-normalized \(dimensionless\)$/);
  const lines = all.filter((l) => !l.startsWith('#'));
  expect(lines[0]).toBe('wavelength_angstrom,flux_0,flux_1,flux_2');
  expect(lines).toHaveLength(301);
  expect(Number(lines[1].split(',')[0])).toBe(5000);
  const typo = run(['generate', 'spectrum', '--model', model, ...args, '--out', join(root, 'g.fit5')]);
  expect(typo.status).toBe(1);
  expect(typo.stderr).toMatch(
    /--out .*g\.fit5: '\.fit5' is not an output this command writes; use \.fits, \.csv, \.parquet/,
  );

  const out = run([
    'generate',
    'spectrum',
    '--model',
    model,
    ...args.slice(0, 1),
    '99999',
    ...args.slice(2),
    '--out',
    join(root, 'x.csv'),
  ]);
  expect(out.status).not.toBe(0);
  expect(out.stderr).toMatch(/teffK = 99999 is outside the training box/);
  const none = run([
    'generate',
    'spectrum',
    '--model',
    join(root, 'nope'),
    ...args,
    '--out',
    join(root, 'x.csv'),
  ]);
  expect(none.status).not.toBe(0);
  expect(none.stderr).toMatch(/no model\.json/);

  await writeFile(
    join(root, 'labels.csv'),
    `teffK,logg,vsiniKms,mh,vmicKms,resolution\n${args.filter((_, i) => i % 2).join(',')}\n`,
  );
  const many = run([
    'generate',
    'spectrum',
    '--model',
    model,
    '--labels',
    join(root, 'labels.csv'),
    '--n',
    '2',
    '--out',
    join(root, 'gen'),
  ]);
  expect(many.status, many.stderr).toBe(0);
  const manifest = JSON.parse(await readFile(join(root, 'gen', MANIFEST_FILE), 'utf8'));
  expect(manifest).toMatchObject({ kind: 'spectra', rowCount: 2, pixels: { min: 300, max: 300 } });
});

test('generate spectrum --out x.fits: specutils reads the flux with units, the wavelengths in Å, the labels and the model hash', async () => {
  const python = testPython();
  if (!python) return;
  const root = await mkdtemp(join(tmpdir(), 'cli-cvae-fits-'));
  const ds = join(root, 'ds');
  await writeSpectrumDataset(
    syntheticSpectra({ n: 40, seed: 6, grid: { startAngstrom: 5000, stepAngstrom: 0.1, n: 200 } }),
    ds,
    { split: { scheme: '90/10', seed: 0 } },
  );
  const model = join(root, 'model');
  const t = run([
    'train',
    'cvae',
    '--data',
    ds,
    '--out',
    model,
    '--epochs',
    '1',
    '--batch-size',
    '16',
    '--json',
  ]);
  expect(t.status, t.stderr).toBe(0);
  const meta = JSON.parse(await readFile(join(model, 'model.json'), 'utf8'));
  const rows = [0.25, 0.75].map((f) =>
    meta.labels.map(
      (l: { rangeMin: number; rangeMax: number }) => l.rangeMin + f * (l.rangeMax - l.rangeMin),
    ),
  );
  await writeFile(
    join(root, 'labels.csv'),
    `${meta.labels.map((l: { key: string }) => l.key).join(',')}\n${rows.map((r: number[]) => r.join(',')).join('\n')}\n`,
  );
  const fits = join(root, 'g.fits');
  const csv = join(root, 'g.csv');
  for (const out of [fits, csv]) {
    const g = run([
      'generate',
      'spectrum',
      '--model',
      model,
      '--labels',
      join(root, 'labels.csv'),
      '--seed',
      '4',
      '--out',
      out,
    ]);
    expect(g.status, g.stderr).toBe(0);
  }
  const script = fileURLToPath(
    new URL('../../../../packages/grid-io/python/fits_fixtures.py', import.meta.url),
  );
  const [v] = JSON.parse(await runPython(python, [script, 'read', fits])) as {
    format: string;
    flux_dimensionless: boolean;
    flux_shape: number[];
    flux: number[];
    spectral_axis_angstrom: number[];
    header: Record<string, unknown>;
    labels: { names: string[]; units: string[]; values: number[][] };
    warnings: string[];
  }[];
  expect(v.format).toBe('wcs1d-fits');
  expect(v.flux_dimensionless).toBe(true);
  expect(v.flux_shape).toEqual([2, 200]);
  v.spectral_axis_angstrom.forEach((w, i) => expect(Math.abs(w - (5000 + 0.1 * i))).toBeLessThan(1e-9));
  expect(v.warnings).toEqual([]);
  // the same spectra as the CSV output of the same command (CSV prints float32 values exactly)
  const cols = (await readFile(csv, 'utf8'))
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .slice(1)
    .map((l) => l.split(',').map(Number));
  for (let i = 0; i < 2; i++)
    for (let p = 0; p < 200; p++) expect(v.flux[i * 200 + p]).toBe(Math.fround(cols[p][i + 1]));
  expect(v.labels.names).toEqual(meta.labels.map((l: { key: string }) => l.key));
  expect(v.labels.units).toEqual(['K', '', 'km/s', '', 'km/s', '']);
  v.labels.values.forEach((r, i) => r.forEach((x, j) => expect(x).toBeCloseTo(rows[i][j], 9)));
  expect(v.header.MODELSHA).toBe(
    createHash('sha256')
      .update(await readFile(join(model, meta.weightsFile)))
      .digest('hex'),
  );
  expect(v.header.SEED).toBe(4);
  expect(v.header.AIRORVAC).toBe('unknown'); // the toy training set records no medium
});
