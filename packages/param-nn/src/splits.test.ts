import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededSplit, writeSpectrumDataset, type SpectrumRecord } from '@stellar-emu/grid-io';
import { collectSource, matrixSource } from './sources.js';
import { datasetSource, datasetSplits, filterSource, generatedSource, splitSource } from './splits.js';

describe('splits and sources', () => {
  test('seeded 70/15/15 split: exact counts, reproducible, every row in one set', () => {
    const a = seededSplit(1000, '70/15/15', 4);
    const counts = { train: 0, val: 0, test: 0 };
    for (const x of a) counts[x]++;
    expect(counts).toEqual({ train: 700, val: 150, test: 150 });
    expect(seededSplit(1000, '70/15/15', 4)).toEqual(a);
    expect(seededSplit(1000, '70/15/15', 5)).not.toEqual(a);
  });

  test('filtered sources re-block and keep rows with their labels, whatever the block size', async () => {
    const D = 3;
    const n = 50;
    const flux = Float32Array.from({ length: n * D }, (_, i) => Math.floor(i / D));
    const labels = Float64Array.from({ length: n }, (_, i) => i);
    const src = matrixSource(flux, D, { names: ['teffK'], values: labels });
    const sets = splitSource(src, 2);
    const all: number[] = [];
    for (const s of [sets.train, sets.val, sets.test]) {
      const a = await collectSource(s, 7);
      const b = await collectSource(s, 64);
      expect(Array.from(a.flux)).toEqual(Array.from(b.flux));
      for (let i = 0; i < a.rows; i++) {
        expect(a.flux[i * D]).toBe(a.labels[i]);
        all.push(a.labels[i]);
      }
    }
    expect(all.sort((x, y) => x - y)).toEqual(Array.from(labels));
    expect(() => filterSource(src, ['train', 'val', 'test'], 'train')).toThrow(/assignments/);
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

  test("dataset splits: the dataset's 70/15/15 column when it has one, else the seeded split; NaN filled", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'param-nn-splits-'));
    try {
      const recs: SpectrumRecord[] = Array.from({ length: 40 }, (_, i) => ({
        id: `s${i}`,
        source: 'test',
        line: i + 1,
        labels: { teffK: 5000 + i },
        wavelengthStartAngstrom: 5000,
        wavelengthStepAngstrom: 0.05,
        flux: [1, i % 4 === 0 ? Number.NaN : 0.5, 0.9],
        synthetic: true,
        split: null,
      }));
      const m = await writeSpectrumDataset(recs, join(dir, 'hash'), {
        split: { scheme: '70/15/15', seed: 3 },
        rowGroupSize: 7,
      });
      const a = await datasetSplits(join(dir, 'hash'), ['teffK'], 1);
      expect(a.scheme).toBe('dataset');
      const ds = await datasetSource(join(dir, 'hash'), ['teffK']);
      for (const name of ['train', 'val', 'test'] as const) {
        expect(a[name].numSpectra).toBe(m.splitCounts[name] ?? 0);
        const got = await collectSource(a[name], 3);
        const want = ds.reader.splits.flatMap((s, i) => (s === name ? [5000 + i] : []));
        expect(Array.from(got.labels)).toEqual(want);
        for (let r = 0; r < got.rows; r++)
          expect(got.flux[r * 3 + 1]).toBe((got.labels[r] - 5000) % 4 === 0 ? 1 : Math.fround(0.5));
      }
      expect(a.stats.nanFilled).toBe(10);

      await writeSpectrumDataset(recs, join(dir, 'none'), { split: { scheme: '90/10', seed: 3 } });
      const b = await datasetSplits(join(dir, 'none'), ['teffK'], 2);
      expect(b.scheme).toBe('seeded');
      const assignment = seededSplit(40, '70/15/15', 2);
      for (const name of ['train', 'val', 'test'] as const) {
        const got = await collectSource(b[name], 64);
        expect(Array.from(got.labels)).toEqual(assignment.flatMap((s, i) => (s === name ? [5000 + i] : [])));
      }
      expect([b.train.numSpectra, b.val.numSpectra, b.test.numSpectra]).toEqual([28, 6, 6]);
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
