// `synth spectrum` on a small PINN trained on real ATLAS9 decks: the deck `predict atmosphere
// --format kurucz` exports gives the spectrum of the in-memory atmosphere; a deck's spectrum
// against the CSV it writes; the PINN at a deck's labels on its tau grid.
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { realDataDir } from '@stellar-emu/grid-io/testing';
import { absDifferenceStats } from '@stellar-emu/numerics';
import { pysmeAvailable, SmeEngine } from '@stellar-emu/synthesis';
import { synthSpectrum } from './synth-spectrum.js';

const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const runCli = (args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });
const data = realDataDir();
const run = data !== null && (pysmeAvailable() || process.env.CI === 'true');

function readCsv(text: string): { wave: number[]; flux: number[]; comments: string[] } {
  const lines = text.trim().split('\n');
  const comments = lines.filter((l) => l.startsWith('#'));
  const rows = lines.filter((l) => !l.startsWith('#')).slice(1);
  return {
    wave: rows.map((r) => Number(r.split(',')[0])),
    flux: rows.map((r) => Number(r.split(',')[1])),
    comments,
  };
}

describe.skipIf(!run)('stellar-emu synth spectrum (PySME, real decks)', () => {
  let root: string;
  let model: string;
  let engine: SmeEngine;
  const linelist = () => join(data!, 'atomic/linelists/korg_vald_solar_threshold01/linelist.vald');
  const settings = () => ({ linelist: linelist(), window: ['5165-5185'], out: '' });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cli-synth-spectrum-'));
    const grid = join(root, 'grid');
    await mkdir(grid);
    await symlink(join(data!, 'atlas9-kurucz1993', 'ap00k2.dat.gz'), join(grid, 'ap00k2.dat.gz'));
    const ds = join(root, 'ds');
    const ing = runCli(['ingest', 'atmospheres', grid, '--out', ds, '--split', '90/10']);
    expect(ing.status, ing.stderr).toBe(0);
    model = join(root, 'model');
    const tr = runCli([
      'train',
      'pinn',
      '--data',
      ds,
      '--out',
      model,
      '--preset',
      'small',
      '--epochs',
      '12',
      '--batch-size',
      '512',
      '--seed',
      '1',
      '--no-progress',
    ]);
    expect(tr.status, tr.stderr).toBe(0);
    engine = await SmeEngine.start();
  }, 600_000);

  afterAll(async () => engine?.close());

  test('the deck exported by `predict atmosphere --format kurucz` and the in-memory atmosphere give the same spectrum (|ΔF| <= 1e-4)', async () => {
    const deck = join(root, 'sun-pinn.dat');
    const star = ['--teff', '5750', '--logg', '4.5', '--feh', '0', '--afe', '0'];
    const p = runCli([
      'predict',
      'atmosphere',
      '--model',
      model,
      ...star,
      '--format',
      'kurucz',
      '--out',
      deck,
    ]);
    expect(p.status, p.stderr).toBe(0);
    const fromDeck = await synthSpectrum({ ...settings(), atmosphere: deck }, engine);
    const inMemory = await synthSpectrum(
      { ...settings(), atmospheres: `pinn:${model}`, teff: '5750', logg: '4.5', feh: '0', afe: '0' },
      engine,
    );
    expect(fromDeck.flux.length).toBe(1000);
    const d = absDifferenceStats(fromDeck.flux, inMemory.flux);
    expect(d.max).toBeLessThanOrEqual(1e-4);
    // A real spectrum: Mg b lines.
    expect(Math.min(...inMemory.flux)).toBeLessThan(0.3);
    expect(inMemory.atmosphere).toMatch(/^pinn:.*weights sha256 [0-9a-f]{64}/);
  }, 300_000);

  test('the CLI writes the spectrum of a deck as CSV naming the atmosphere, settings and units; the PINN at the deck’s labels differs from it by its atmosphere only', async () => {
    const ksun = join(data!, 'atomic/atmosphere/ksun.mod');
    const out = join(root, 'ksun.csv');
    const r = runCli([
      'synth',
      'spectrum',
      '--atmosphere',
      ksun,
      '--linelist',
      linelist(),
      '--window',
      '5165-5185',
      '--out',
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const csv = readCsv(await readFile(out, 'utf8'));
    expect(csv.comments.join('\n')).toMatch(/atmosphere: .*ksun\.mod:1 \(sha256 [0-9a-f]{64}\)/);
    expect(csv.comments.join('\n')).toMatch(
      /columns: wavelength_angstrom \(air\), flux \(continuum-normalized/,
    );
    expect(csv.wave[0]).toBe(5165);
    expect(csv.wave[1] - csv.wave[0]).toBeCloseTo(0.02, 9);
    const direct = await synthSpectrum({ ...settings(), atmosphere: ksun }, engine);
    expect(absDifferenceStats(csv.flux, direct.flux).max).toBeLessThan(1e-6);
    const both = await synthSpectrum(
      { ...settings(), atmosphere: ksun, atmospheres: `pinn:${model}`, allowExtrapolation: true },
      engine,
    );
    expect(both.labels).toEqual({ teffK: 5777, logg: 4.437, feh: 0, afe: 0 });
    expect(both.atmosphere).toMatch(/at the labels, tau grid and abundances of .*ksun\.mod:1/);
    const d = absDifferenceStats(both.flux, direct.flux);
    expect(d.max).toBeGreaterThan(0);
    expect(d.median).toBeLessThan(0.2);
    // Refused inputs.
    const bad = runCli([
      'synth',
      'spectrum',
      '--atmospheres',
      'grid:x',
      '--linelist',
      linelist(),
      '--out',
      out,
    ]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--atmospheres must be pinn:<model-dir>/);
  }, 300_000);
});
