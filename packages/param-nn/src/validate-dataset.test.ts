// The one CVAE/emulator → recovery wiring: checks before any training (pixel count, labels in the emulator's box).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSpectrumDataset, type SpectrumRecord } from '@stellar-emu/grid-io';
import { validateEmulatorOnDataset } from './validate-dataset.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'param-nn-vod-'));
  const recs: SpectrumRecord[] = Array.from({ length: 20 }, (_, i) => ({
    id: `s${i}`,
    source: 'test',
    line: i + 1,
    labels: { teffK: 5000 + i, logg: 4 },
    wavelengthStartAngstrom: 5000,
    wavelengthStepAngstrom: 0.05,
    flux: [1, 0.5, 0.9, 1, 0.8],
    synthetic: true,
    split: null,
  }));
  await writeSpectrumDataset(recs, join(dir, 'data'), { split: { scheme: '70/15/15', seed: 1 } });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = () => ({
  dataset: join(dir, 'data'),
  labelNames: ['teffK', 'logg'],
  outDir: join(dir, 'out'),
  epochs: 1,
  run: { id: 't' },
});
const generator = () => new Float32Array(0);

test('an emulator with another pixel count or without one of the labels is refused before training', async () => {
  await expect(
    validateEmulatorOnDataset({
      ...base(),
      emulator: {
        name: 'CVAE',
        generator,
        numPixels: 7,
        labelRanges: { teffK: { min: 0, max: 1 }, logg: { min: 0, max: 1 } },
      },
    }),
  ).rejects.toThrow(/the CVAE generates 7 pixels, the dataset has 5/);
  await expect(
    validateEmulatorOnDataset({
      ...base(),
      emulator: { generator, labelRanges: { teffK: { min: 0, max: 1 } } },
    }),
  ).rejects.toThrow(/the emulator has no label logg \(labels: teffK\)/);
  await expect(
    validateEmulatorOnDataset({ ...base(), emulator: { generatedDataset: join(dir, 'missing') } }),
  ).rejects.toThrow(/missing/);
});
