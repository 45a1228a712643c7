// Split vocabulary and functions, normalization primitives, and the one spectrum-dataset reader (NaN convention, old split spellings on disk).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import type { SpectrumRecord } from '../types.js';
import {
  minMaxScale,
  minMaxScalesFromManifest,
  minMaxUnscale,
  normalizeValues,
  standardize,
  SYMMETRIC_INTERVAL,
  UNIT_INTERVAL,
  unstandardize,
} from './normalization.js';
import { ParquetStreamWriter } from './parquet-stream.js';
import { openDataset, readFluxRowGroup } from './read.js';
import { fillMissingFlux, MISSING_FLUX_VALUE, openSpectrumDataset } from './spectra-source.js';
import {
  canonicalSplitName,
  parseSplitName,
  permutationSplit,
  seededSplit,
  SPLIT_NAMES,
  splitFractions,
  TEST_SPLIT,
  TRAIN_SPLIT,
  VAL_SPLIT,
} from './splits.js';
import { DATA_FILE, writeAtmosphereDataset, writeSpectrumDataset } from './write.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spectra-source-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SPLITS = ['train', 'validation', 'test', null, 'val', 'train'] as const;

function records(n: number, pixels = 4): SpectrumRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    source: 'test',
    line: i + 1,
    labels: { teffK: 5000 + i, logg: 4 + i / 10 },
    wavelengthStartAngstrom: 5000,
    wavelengthStepAngstrom: 0.05,
    flux: Array.from({ length: pixels }, (_, j) =>
      i % 3 === 1 && j === 2 ? Number.NaN : 1 - 0.1 * j - 0.01 * i,
    ),
    synthetic: true,
    split: SPLITS[i % SPLITS.length],
  }));
}

describe('split vocabulary', () => {
  test('one spelling per split; the old spelling is read as the one name, custom names pass through', () => {
    expect(SPLIT_NAMES).toEqual([TRAIN_SPLIT, VAL_SPLIT, TEST_SPLIT]);
    expect([TRAIN_SPLIT, VAL_SPLIT, TEST_SPLIT]).toEqual(['train', 'val', 'test']);
    expect(canonicalSplitName('validation')).toBe('val');
    expect(canonicalSplitName('val')).toBe('val');
    expect(canonicalSplitName('holdout')).toBe('holdout');
    expect(canonicalSplitName(null)).toBe(null);
    expect(parseSplitName('validation')).toBe('val');
    expect(parseSplitName('test')).toBe('test');
    expect(() => parseSplitName('holdout')).toThrow(/unknown split "holdout": expected train, val, test/);
    expect(() => parseSplitName('constructor')).toThrow(/unknown split/);
    expect(splitFractions('70/15/15')).toEqual({ train: 0.7, val: 0.15, test: 0.15 });
    expect(splitFractions('90/10')).toEqual({ train: 0.9, val: 0.1 });
  });

  test('permutation split: exact counts in the permutation order, every row once', () => {
    const perm = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    const a = permutationSplit(perm, '70/15/15');
    const count = (s: string) => a.filter((x) => x === s).length;
    expect([count('train'), count('val'), count('test')]).toEqual([700, 150, 150]);
    perm.forEach((row, rank) => expect(a[row]).toBe(rank < 700 ? 'train' : rank < 850 ? 'val' : 'test'));
    // 90/10 of 4 rows: round(3.6) = 4 train rows, so no validation row
    expect(permutationSplit([2, 0, 1, 3], '90/10')).toEqual(['train', 'train', 'train', 'train']);
    expect(permutationSplit([4, 3, 2, 1, 0, 9, 8, 7, 6, 5], '90/10').filter((s) => s === 'val')).toHaveLength(
      1,
    );
    expect(() => permutationSplit([0, 0, 1], '90/10')).toThrow(/not a permutation/);
    expect(() => permutationSplit([0, 3], '90/10')).toThrow(/not a permutation/);
    // seeded: exact counts, reproducible, another seed another split
    const c = seededSplit(1000, '70/15/15', 4);
    expect(['train', 'val', 'test'].map((s) => c.filter((x) => x === s).length)).toEqual([700, 150, 150]);
    expect(seededSplit(1000, '70/15/15', 4)).toEqual(c);
    expect(seededSplit(1000, '70/15/15', 5)).not.toEqual(c);
  });
});

describe('normalization primitives', () => {
  test('min-max onto [-1, 1] or [0, 1], constants to the middle, inverses; z-scores', () => {
    expect(minMaxScale(5, 0, 10)).toBe(0);
    expect(minMaxScale(0, 0, 10)).toBe(-1);
    expect(minMaxScale(10, 0, 10, UNIT_INTERVAL)).toBe(1);
    expect(minMaxScale(2.5, 0, 10, UNIT_INTERVAL)).toBe(0.25);
    expect(minMaxScale(3, 3, 3)).toBe(0);
    expect(minMaxScale(3, 3, 3, UNIT_INTERVAL)).toBe(0.5);
    for (const to of [SYMMETRIC_INTERVAL, UNIT_INTERVAL])
      for (const v of [-2, 0.3, 7, 12])
        expect(minMaxUnscale(minMaxScale(v, -2, 12, to), -2, 12, to)).toBeCloseTo(v, 12);
    expect(minMaxUnscale(0.5, 3, 3, UNIT_INTERVAL)).toBe(3);
    expect(standardize(7, 5, 2)).toBe(1);
    expect(standardize(7, 5, 0)).toBe(0);
    expect(unstandardize(1, 5, 2)).toBe(7);
    // the dataset-statistics form is the same arithmetic
    const st = { transform: 'linear' as const, count: 3, min: 0, max: 10, mean: 4, std: 2 };
    expect(normalizeValues([0, 5, 10], st, 'minmax')).toEqual([0, 5, 10].map((v) => minMaxScale(v, 0, 10)));
    expect(normalizeValues([0, 5, 10], st, 'standard')).toEqual([0, 5, 10].map((v) => standardize(v, 4, 2)));
  });

  test('min-max scales from a manifest: physical ranges of linear statistics', async () => {
    const m = await writeSpectrumDataset(records(6), dir);
    expect(minMaxScalesFromManifest(m, ['teff_k', 'logg'])).toEqual([
      { column: 'teff_k', min: 5000, max: 5005 },
      { column: 'logg', min: m.normalization.logg.min, max: m.normalization.logg.max },
    ]);
    expect(() => minMaxScalesFromManifest(m, ['vsini_kms'])).toThrow(
      /no normalization statistics for "vsini_kms"/,
    );
    expect(() =>
      minMaxScalesFromManifest(
        { ...m, normalization: { x: { ...m.normalization.logg, transform: 'log10' } } },
        ['x'],
      ),
    ).toThrow(/log10 normalization/);
  });
});

describe('spectrum dataset reader', () => {
  test('labels by key or column, splits in the one vocabulary, raw flux keeps NaN, blocks fill it with the continuum', async () => {
    const recs = records(13);
    const m = await writeSpectrumDataset(recs, dir, { rowGroupSize: 5 });
    // written with the one name: 'validation' records are stored as 'val'
    expect(Object.keys(m.splitCounts).sort()).toEqual(['test', 'train', 'val']);
    expect(m.splitCounts.val).toBe(4);
    const r = await openSpectrumDataset(dir, { keys: ['logg', 'teffK'] });
    expect(r.numRows).toBe(13);
    expect(r.numPixels).toBe(4);
    expect(r.labelColumns).toEqual(['logg', 'teff_k']);
    expect(r.labelKeys).toEqual(['logg', 'teffK']);
    expect(Array.from(r.labels.subarray(0, 4))).toEqual([4, 5000, 4.1, 5001]);
    expect(r.splits).toEqual(recs.map((x) => canonicalSplitName(x.split)));
    expect(r.ids).toEqual(recs.map((x) => x.id));
    expect(r.wavelengthGrid()).toEqual({ startAngstrom: 5000, stepAngstrom: 0.05 });
    expect(r.rowGroups.map((g) => [g.firstRow, g.numRows])).toEqual([
      [0, 5],
      [5, 5],
      [10, 3],
    ]);
    const raw = r.readRowGroupFlux(0).flux;
    expect(Number.isNaN(raw[1 * 4 + 2])).toBe(true);
    r.close();

    const byColumn = await openSpectrumDataset(dir, { columns: ['teff_k'] });
    expect(byColumn.labelKeys).toEqual(['teffK']);
    const rows = [1, 2, 4, 5, 6, 12];
    for (const step of [1, 2, 4, 100]) {
      const seen: number[] = [];
      let flux: number[] = [];
      for await (const b of byColumn.blocks(step, rows)) {
        expect(b.rows).toBeLessThanOrEqual(step);
        seen.push(...b.labels);
        flux = flux.concat(Array.from(b.flux));
      }
      expect(seen).toEqual(rows.map((i) => 5000 + i));
      rows.forEach((i, k) => {
        for (let j = 0; j < 4; j++)
          expect(flux[k * 4 + j]).toBe(
            i % 3 === 1 && j === 2 ? MISSING_FLUX_VALUE : Math.fround(1 - 0.1 * j - 0.01 * i),
          );
      });
    }
    // rows 1 and 4 have a NaN pixel; four passes
    expect(byColumn.stats.nanFilled).toBe(8);
    let all = 0;
    for await (const b of byColumn.blocks(6)) all += b.rows;
    expect(all).toBe(13);
    await expect(async () => {
      for await (const _ of byColumn.blocks(2, [3, 1])) void _;
    }).rejects.toThrow(/ascending/);

    await expect(openSpectrumDataset(dir, { keys: ['vsiniKms'] })).rejects.toThrow(/no label 'vsiniKms'/);
    await expect(openSpectrumDataset(dir, { columns: ['vsini_kms'] })).rejects.toThrow(
      /dataset has no label "vsini_kms"/,
    );
  });

  test('fillMissingFlux: NaN to 1 in place, with a mask of measured pixels', () => {
    const f = Float32Array.from([0.5, Number.NaN, 1.2, Number.NaN]);
    const mask = new Float32Array(4);
    expect(fillMissingFlux(f, mask)).toBe(2);
    expect(Array.from(f)).toEqual([0.5, 1, 1.2, 1].map(Math.fround));
    expect(Array.from(mask)).toEqual([1, 0, 1, 0]);
    expect(() => fillMissingFlux(f, new Float32Array(3))).toThrow(/mask/);
  });

  test('several wavelength grids are an error when one is needed; atmosphere datasets are refused', async () => {
    const recs = records(4).map((x, i) => ({ ...x, wavelengthStartAngstrom: i === 3 ? 5001 : 5000 }));
    await writeSpectrumDataset(recs, join(dir, 'grids'));
    const r = await openSpectrumDataset(join(dir, 'grids'), { keys: ['teffK'] });
    expect(r.wavelengthGrid([0, 1, 2])).toEqual({ startAngstrom: 5000, stepAngstrom: 0.05 });
    expect(() => r.wavelengthGrid()).toThrow(/row s3 is on a different wavelength grid/);
    await writeAtmosphereDataset([], join(dir, 'atm'));
    await expect(openSpectrumDataset(join(dir, 'atm'), { keys: [] })).rejects.toThrow(
      /is a 'atmospheres' dataset, not spectra/,
    );
  });

  test("a split column written with the old spelling 'validation' reads as 'val' everywhere", async () => {
    const m = await writeSpectrumDataset(records(12), dir, { rowGroupSize: 100 });
    // Rewrite the data file as an older writer would have: 'val' stored as 'validation'.
    const ds0 = await openDataset(dir);
    const rows = await ds0.readRowGroup(0);
    const w = new ParquetStreamWriter(join(dir, DATA_FILE), m.columns);
    w.writeRowGroup(
      Object.fromEntries(
        m.columns.map((c) => [
          c.name,
          rows.map((row) => (c.name === 'split' && row.split === 'val' ? 'validation' : row[c.name])),
        ]),
      ),
    );
    await w.finish();
    const onDisk = (await parquetReadObjects({
      file: await asyncBufferFromFile(join(dir, DATA_FILE)),
      columns: ['split'],
    })) as { split: string | null }[];
    expect(onDisk.filter((x) => x.split === 'validation')).toHaveLength(m.splitCounts.val);
    const ds = await openDataset(dir);
    const stored = await ds.readRowGroup(0, ['split']);
    expect(stored.filter((x) => x.split === 'val')).toHaveLength(m.splitCounts.val);
    expect(stored.some((x) => x.split === 'validation')).toBe(false);
    for (const name of ['val', 'validation']) {
      let n = 0;
      for await (const b of ds.iterateRows({ split: name, columns: ['id'] })) n += b.length;
      expect(n).toBe(m.splitCounts.val);
      expect((await readFluxRowGroup(ds, 0, name)).rows).toBe(m.splitCounts.val);
    }
    const r = await openSpectrumDataset(ds, { keys: ['teffK'] });
    expect(r.splits.filter((s) => s === 'val')).toHaveLength(m.splitCounts.val);
    r.close();
  });
});
