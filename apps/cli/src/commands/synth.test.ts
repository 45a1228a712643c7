import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset, rowToAtmosphereModel } from '@stellar-emu/grid-io';
import { runSynth } from './synth.js';

describe('stellar-emu synth', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-synth-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('atmospheres: writes a synthetic dataset directory (atm.parquet), rows labelled and reproducible', async () => {
    const out = join(dir, 'atm.parquet');
    const r = await runSynth('atmospheres', { n: '12', seed: '1', out, quiet: true });
    expect(r.rows).toBe(12);
    expect(r.manifest.synthetic).toBe(true);
    expect(r.manifest.kind).toBe('atmospheres');
    const { batches } = await readDataset(out);
    const models = [];
    for await (const b of batches) models.push(...b.map(rowToAtmosphereModel));
    expect(models.map((m) => m.line)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (const m of models) {
      expect(m.synthetic).toBe(true);
      expect(m.source).toBe('synthetic:atmospheres:seed=1');
      expect(m.nLayers).toBe(80);
    }
    const again = await runSynth('atmospheres', { n: '12', seed: '1', out: join(dir, 'atm2'), quiet: true });
    expect(again.manifest.normalization).toEqual(r.manifest.normalization);
  });

  it('spectra: writes n spectra with the six labels', async () => {
    const out = join(dir, 'spectra.parquet');
    const r = await runSynth('spectra', { n: '3', seed: '7', out, quiet: true, split: '90/10' });
    expect(r.rows).toBe(3);
    expect(r.manifest.synthetic).toBe(true);
    expect(r.manifest.labels.sort()).toEqual(['logg', 'mh', 'resolution', 'teff_k', 'vmic_kms', 'vsini_kms']);
  });

  it('rejects bad arguments', async () => {
    await expect(runSynth('spectra', { n: 'x', out: join(dir, 'bad'), quiet: true })).rejects.toThrow(
      /--n must be an integer/,
    );
    await expect(runSynth('spectra', { n: '0', out: join(dir, 'bad'), quiet: true })).rejects.toThrow(
      /--n must be >= 1/,
    );
    await expect(
      runSynth('spectra', { n: '1', snr: '-3', out: join(dir, 'bad'), quiet: true }),
    ).rejects.toThrow(/--snr must be > 0/);
  });
});
