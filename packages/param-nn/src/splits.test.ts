import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSpectrumDataset, type SpectrumRecord } from '@stellar-emu/grid-io';
import { collectSource, matrixSource } from './sources.js';
import { datasetSource, filterSource, generatedSource, seededSplit, splitSource } from './splits.js';

describe('splits and sources', () => {
  test('seeded 70/15/15 split: exact counts, reproducible, every row in one set', () => {
    const a = seededSplit(1000, 4);
    const counts = [0, 0, 0];
    for (const x of a) counts[x]++;
    expect(counts).toEqual([700, 150, 150]);
    expect(Array.from(seededSplit(1000, 4))).toEqual(Array.from(a));
    expect(Array.from(seededSplit(1000, 5))).not.toEqual(Array.from(a));
  });

  test('filtered sources re-block and keep rows with their labels, whatever the block size', async () => {
    const D = 3;
    const n = 50;
    const flux = Float32Array.from({ length: n * D }, (_, i) => Math.floor(i / D));
    const labels = Float64Array.from({ length: n }, (_, i) => i);
    const src = matrixSource(flux, D, { names: ['teffK'], values: labels });
    const sets = splitSource(src, 2);
    const all: number[] = [];
    for (const s of [sets.train, sets.validation, sets.test]) {
      const a = await collectSource(s, 7);
      const b = await collectSource(s, 64);
      expect(Array.from(a.flux)).toEqual(Array.from(b.flux));
      for (let i = 0; i < a.rows; i++) {
        expect(a.flux[i * D]).toBe(a.labels[i]);
        all.push(a.labels[i]);
      }
    }
    expect(all.sort((x, y) => x - y)).toEqual(Array.from(labels));
    expect(() => filterSource(src, new Uint8Array(3), 0)).toThrow(/assignments/);
  });

  test('dataset source: labels in the requested order, NaN pixels filled with the continuum and counted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'param-nn-ds-'));
    try {
      const recs: SpectrumRecord[] = Array.from({ length: 5 }, (_, i) => ({
        id: `s${i}`,
        source: 'test',
        line: i + 1,
        labels: { teffK: 5000 + i, logg: 4 + i / 10 },
        wavelengthStartAngstrom: 5000,
        wavelengthStepAngstrom: 0.05,
        flux: [1, 0.5, i === 2 ? Number.NaN : 0.9, 1],
        synthetic: true,
        split: null,
      }));
      await writeSpectrumDataset(recs, dir);
      const src = await datasetSource(dir, ['logg', 'teffK']);
      const all = await collectSource(src, 2);
      expect(all.rows).toBe(5);
      expect(Array.from(all.labels.subarray(0, 4))).toEqual([4, 5000, 4.1, 5001]);
      expect(all.flux[2 * 4 + 2]).toBe(1);
      expect(src.stats.nanFilled).toBe(1);
      await expect(datasetSource(dir, ['vsiniKms'])).rejects.toThrow(/no label 'vsiniKms'/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('generated source: labels uniform in the box, depending only on seed and index', async () => {
    const calls: number[] = [];
    const gen = generatedSource(
      (labels, { seed }) => {
        calls.push(seed);
        return labels.map((l) => [l.teffK, l.logg]);
      },
      {
        count: 10,
        numPixels: 2,
        labelNames: ['teffK', 'logg'],
        ranges: { teffK: { min: 4000, max: 5000 }, logg: { min: 1, max: 2 } },
        seed: 3,
      },
    );
    const a = await collectSource(gen, 4);
    const b = await collectSource(gen, 10);
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(Array.from(a.flux)).toEqual(Array.from(a.labels).map((x) => Math.fround(x)));
    for (let i = 0; i < 10; i++) {
      expect(a.labels[2 * i]).toBeGreaterThanOrEqual(4000);
      expect(a.labels[2 * i]).toBeLessThan(5000);
      expect(a.labels[2 * i + 1]).toBeGreaterThanOrEqual(1);
      expect(a.labels[2 * i + 1]).toBeLessThan(2);
    }
    expect(calls.length).toBe(4); // 3 batches of <= 4, then 1 of 10
  });
});
