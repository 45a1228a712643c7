import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  openDataset,
  parseDecks,
  rowToAtmosphereModel,
  syntheticAtmospheres,
  writeAtmosphereDataset,
} from '@stellar-emu/grid-io';

const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const run = (args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });
const ranges = {
  teffK: { min: 4500, max: 7000 },
  logg: { min: 3.5, max: 4.8 },
  feh: { min: -1, max: 0.3 },
  afe: { min: 0, max: 0.3 },
};

let root: string;
let data: string;
let model: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cli-pinn-'));
  data = join(root, 'ds');
  model = join(root, 'model');
  await writeAtmosphereDataset(syntheticAtmospheres({ n: 30, seed: 5, nLayers: 16, ranges }), data, {
    split: { scheme: '90/10', seed: 0 },
  });
  const r = run([
    'train',
    'pinn',
    '--data',
    data,
    '--out',
    model,
    '--preset',
    'small',
    '--epochs',
    '2',
    '--batch-size',
    '128',
    '--seed',
    '1',
    '--no-progress',
    '--json',
    '--metrics',
    join(root, 'metrics.json'),
  ]);
  expect(r.status, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout);
  expect(summary).toMatchObject({ epochsDone: 2, done: true, aborted: false });
  expect(Number.isFinite(summary.metrics.medianHydrostaticResidual)).toBe(true);
});

describe('stellar-emu train pinn / predict atmosphere (built CLI)', () => {
  test('a Kurucz deck that grid-io reads back, and the same atmosphere as JSON and CSV', () => {
    const star = ['--model', model, '--teff', '5770', '--logg', '4.44', '--feh', '0', '--afe', '0.1'];
    const j = run(['predict', 'atmosphere', ...star, '--format', 'json']);
    expect(j.status, j.stderr).toBe(0);
    const p = JSON.parse(j.stdout);
    const k = run(['predict', 'atmosphere', ...star, '--format', 'kurucz']);
    expect(k.status, k.stderr).toBe(0);
    const [deck, ...more] = parseDecks(k.stdout, 'predicted.dat');
    expect(more).toHaveLength(0);
    expect(deck.teffK).toBe(5770);
    expect(deck.logg).toBeCloseTo(4.44, 5);
    expect(deck.nLayers).toBe(p.nLayers);
    const names = deck.columnNames;
    const col = (n: string) => deck.columns[names.indexOf(n)];
    col('T').forEach((t: number, i: number) => expect(Math.abs(t / p.temperature[i] - 1)).toBeLessThan(1e-4));
    col('P').forEach((x: number, i: number) => expect(Math.abs(x / p.pressure[i] - 1)).toBeLessThan(1e-3));
    const c = run(['predict', 'atmosphere', ...star, '--format', 'csv']);
    expect(c.status, c.stderr).toBe(0);
    const csvLines = c.stdout.split('\n');
    expect(csvLines[0]).toMatch(
      new RegExp(
        `^# stellar-emu \\S+ PINN .*model \\(weights sha256 ${JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')).weights.sha256}\\)$`,
      ),
    );
    expect(csvLines[2]).toMatch(
      /^# units: tau_rosseland 1, rhox g cm\^-2, temperature K, pressure dyn cm\^-2/,
    );
    expect(csvLines[3]).toBe('tau_rosseland,rhox,temperature,pressure,xne,abross,accrad');
    expect(p.model.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(p.producer).toMatch(/^stellar-emu \d+\.\d+\.\d+/);
  });

  test('--labels: a CSV table and a dataset (own tau grids) become a grid-io atmosphere dataset', async () => {
    const csv = join(root, 'labels.csv');
    await writeFile(csv, 'teff_k,logg,feh,afe\n5500,4.1,-0.3,0.1\n6000,4.2,-0.2,0.15\n6200,4.0,0,0.2\n');
    const out = join(root, 'pred-csv');
    const r = run(['predict', 'atmosphere', '--model', model, '--labels', csv, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const ds = await openDataset(out);
    expect(ds.manifest.rowCount).toBe(3);
    const rows = (await ds.readRowGroup(0)).map(rowToAtmosphereModel);
    expect(rows.map((m) => m.teffK)).toEqual([5500, 6000, 6200]);

    const own = join(root, 'pred-own');
    const r2 = run([
      'predict',
      'atmosphere',
      '--model',
      model,
      '--labels',
      data,
      '--out',
      own,
      '--allow-extrapolation',
    ]);
    expect(r2.status, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/predicted 30 atmospheres \(30 on their own tau grid\)/);
    const src = (await (await openDataset(data)).readRowGroup(0)).map(rowToAtmosphereModel);
    const pred = (await (await openDataset(own)).readRowGroup(0)).map(rowToAtmosphereModel);
    pred.forEach((m, i) => {
      expect(m.tauRosseland).toEqual(src[i].tauRosseland);
      expect(m.split).toBe(src[i].split);
    });
  });

  test('clear errors: labels outside the training box, missing or corrupt model directory', () => {
    const hot = run(['predict', 'atmosphere', '--model', model, '--teff', '9000', '--logg', '4']);
    expect(hot.status).toBe(1);
    expect(hot.stderr).toMatch(/teffK = 9000 is outside the training range .*--allow-extrapolation/);
    expect(
      run([
        'predict',
        'atmosphere',
        '--model',
        model,
        '--teff',
        '9000',
        '--logg',
        '4',
        '--allow-extrapolation',
      ]).status,
    ).toBe(0);
    const missing = run([
      'predict',
      'atmosphere',
      '--model',
      join(root, 'nope'),
      '--teff',
      '5000',
      '--logg',
      '4',
    ]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/model directory .*nope: does not exist/);
    const w = join(model, 'model.safetensors');
    const bytes = readFileSync(w);
    bytes[bytes.length - 7] ^= 1;
    writeFileSync(w, bytes);
    const corrupt = run(['predict', 'atmosphere', '--model', model, '--teff', '5000', '--logg', '4']);
    expect(corrupt.status).toBe(1);
    expect(corrupt.stderr).toMatch(/does not match model\.json .*corrupt/);
  });
});
