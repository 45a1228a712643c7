import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST_FILE, syntheticSpectra, writeSpectrumDataset } from '@stellar-emu/grid-io';

const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const run = (args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });

test('train cvae, then generate spectrum: CSV, same seed reproducible, training-box and model-dir errors, label table to Parquet', async () => {
  const root = await mkdtemp(join(tmpdir(), 'cli-cvae-'));
  const ds = join(root, 'ds');
  await writeSpectrumDataset(syntheticSpectra({ n: 60, seed: 5, grid: { startAngstrom: 5000, stepAngstrom: 0.1, n: 300 } }), ds, { split: { scheme: '90/10', seed: 0 } });
  const model = join(root, 'model');
  const t = run(['train', 'cvae', '--data', ds, '--out', model, '--epochs', '2', '--batch-size', '16', '--json']);
  expect(t.status, t.stderr).toBe(0);
  const summary = JSON.parse(t.stdout);
  expect(summary).toMatchObject({ nPixels: 300, epochsDone: 2, labels: ['teff_k', 'logg', 'vsini_kms', 'mh', 'vmic_kms', 'resolution'] });

  const meta = JSON.parse(await readFile(join(model, 'model.json'), 'utf8'));
  const mid = Object.fromEntries(meta.labels.map((l: { key: string; rangeMin: number; rangeMax: number }) => [l.key, (l.rangeMin + l.rangeMax) / 2]));
  const args = ['--teff', mid.teffK, '--logg', mid.logg, '--vsini', mid.vsiniKms, '--mh', mid.mh, '--vmic', mid.vmicKms, '--resolution', mid.resolution].map(String);
  const g1 = run(['generate', 'spectrum', '--model', model, ...args, '--n', '3', '--seed', '3', '--out', join(root, 'a.csv')]);
  expect(g1.status, g1.stderr).toBe(0);
  const g2 = run(['generate', 'spectrum', '--model', model, ...args, '--n', '3', '--seed', '3', '--out', join(root, 'b.csv')]);
  expect(g2.status, g2.stderr).toBe(0);
  const a = await readFile(join(root, 'a.csv'), 'utf8');
  expect(await readFile(join(root, 'b.csv'), 'utf8')).toBe(a);
  const lines = a.trim().split('\n');
  expect(lines[0]).toBe('wavelength_angstrom,flux_0,flux_1,flux_2');
  expect(lines).toHaveLength(301);
  expect(Number(lines[1].split(',')[0])).toBe(5000);

  const out = run(['generate', 'spectrum', '--model', model, ...args.slice(0, 1), '99999', ...args.slice(2), '--out', join(root, 'x.csv')]);
  expect(out.status).not.toBe(0);
  expect(out.stderr).toMatch(/teffK = 99999 is outside the training box/);
  const none = run(['generate', 'spectrum', '--model', join(root, 'nope'), ...args, '--out', join(root, 'x.csv')]);
  expect(none.status).not.toBe(0);
  expect(none.stderr).toMatch(/no model\.json/);

  await writeFile(join(root, 'labels.csv'), `teffK,logg,vsiniKms,mh,vmicKms,resolution\n${args.filter((_, i) => i % 2).join(',')}\n`);
  const many = run(['generate', 'spectrum', '--model', model, '--labels', join(root, 'labels.csv'), '--n', '2', '--out', join(root, 'gen')]);
  expect(many.status, many.stderr).toBe(0);
  const manifest = JSON.parse(await readFile(join(root, 'gen', MANIFEST_FILE), 'utf8'));
  expect(manifest).toMatchObject({ kind: 'spectra', rowCount: 2, pixels: { min: 300, max: 300 } });
});
