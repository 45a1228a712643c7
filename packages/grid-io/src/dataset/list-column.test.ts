import { closeSync, openSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import type { SpectrumRecord } from '../types.js';
import { decodeFluxRowGroup, fluxFile } from './list-column.js';
import { DATASET_SCHEMA_VERSION, MANIFEST_FILE } from './manifest.js';
import { ParquetStreamWriter } from './parquet-stream.js';
import { openDataset, readFluxRowGroup } from './read.js';
import { writeSpectrumDataset } from './write.js';

async function duck(sql: string) {
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  try {
    return (await con.runAndReadAll(sql)).getRowObjectsJS();
  } finally {
    con.closeSync();
    inst.closeSync();
  }
}

/** Bitwise float32 comparison (NaN payloads included). */
function expectSameFloat32(actual: Float32Array, expected: Float32Array, label: string) {
  expect(actual.length, label).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i]) throw new Error(`${label}: value ${i} is ${actual[i]}, expected ${expected[i]}`);
}

function spectra(n: number, pixels: number): SpectrumRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const flux = Array.from(
      { length: pixels },
      (_, j) => 1 - 0.3 * Math.sin(0.01 * (i + 1) * j) ** 2 + 1e-7 * j,
    );
    if (i % 4 === 0) flux[(7 * i) % pixels] = Number.NaN;
    return {
      id: `s-${i}`,
      source: 'synthetic:test',
      line: i,
      labels: { teffK: 4000 + i, logg: 4 },
      wavelengthStartAngstrom: 4450,
      wavelengthStepAngstrom: 0.05,
      flux,
      synthetic: true,
      split: null,
    };
  });
}

test('readFluxRowGroup: fast path, float32 bit-exact with NaN, split filter compacts rows in order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flux-fast-'));
  const recs = spectra(23, 257);
  await writeSpectrumDataset(recs, dir, { rowGroupSize: 10, split: { scheme: '70/15/15', seed: 1 } });
  const ds = await openDataset(dir);
  let seen = 0;
  for (const g of ds.rowGroups) {
    const all = await readFluxRowGroup(ds, g.index);
    expect(all).toMatchObject({ rows: g.numRows, nPixels: 257, path: 'fast' });
    const expected = Float32Array.from(recs.slice(g.rowStart, g.rowStart + g.numRows).flatMap((r) => r.flux));
    expectSameFloat32(all.flux, expected, `row group ${g.index}`);
    seen += all.rows;

    const meta = await ds.readRowGroup(g.index, ['id', 'split']);
    const train = await readFluxRowGroup(ds, g.index, ['train', 'val']);
    const kept = meta
      .map((r, i) => [r, i] as const)
      .filter(([r]) => r.split === 'train' || r.split === 'val');
    expect(Array.from(train.rowIndex)).toEqual(kept.map(([, i]) => i));
    expect(train.rows).toBe(kept.length);
    const expectedKept = Float32Array.from(kept.flatMap(([, i]) => recs[g.rowStart + i].flux));
    expectSameFloat32(train.flux, expectedKept, `row group ${g.index} train+val`);
  }
  expect(seen).toBe(23);
  await expect(readFluxRowGroup(ds, 0, undefined, 'id')).rejects.toThrow(/no list column "id"/);
});

test('LIST<double> with snappy: fast path, rows as number[] exactly, DuckDB reads the same; levels are a few RLE bytes per row', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flux-double-'));
  const recs = spectra(12, 1000);
  await writeSpectrumDataset(recs, dir, { rowGroupSize: 5, fluxType: 'double', fluxCompression: 'snappy' });
  const ds = await openDataset(dir);
  const rows = (await ds.readRowGroup(1)).concat(await ds.readRowGroup(0));
  expect(Array.isArray(rows[0].flux)).toBe(true);
  expect(rows[0].flux).toEqual(recs[5].flux);
  expect(rows[5].flux).toEqual(recs[0].flux);
  expect(rows[5].teff_k).toBe(4000);
  const f = await readFluxRowGroup(ds, 2);
  expect(f).toMatchObject({ rows: 2, nPixels: 1000, path: 'fast' });
  expectSameFloat32(f.flux, Float32Array.from(recs.slice(10).flatMap((r) => r.flux)), 'double -> float32');

  const file = join(dir, 'data.parquet');
  const back = await duck(
    `SELECT line, flux, list_count(list_filter(flux, x -> isnan(x))) AS nans FROM read_parquet('${file}') ORDER BY line`,
  );
  expect(back.length).toBe(12);
  back.forEach((r, i) => {
    expect(Number(r.nans)).toBe(i % 4 === 0 ? 1 : 0);
    expect(r.flux).toEqual(recs[i].flux);
  });
  const types = await duck(`SELECT column_type FROM (DESCRIBE SELECT flux FROM read_parquet('${file}'))`);
  expect(types[0].column_type).toBe('DOUBLE[]');

  // uncompressed float flux: the chunk is the float bytes plus header and a few level bytes per row
  const dir2 = await mkdtemp(join(tmpdir(), 'flux-size-'));
  await writeSpectrumDataset(recs, dir2, { rowGroupSize: 12 });
  const md = await parquetMetadataAsync(await asyncBufferFromFile(join(dir2, 'data.parquet')));
  const chunk = md.row_groups[0].columns.find((c) => c.meta_data?.path_in_schema[0] === 'flux')!.meta_data!;
  expect(chunk.encodings).toEqual(['PLAIN', 'RLE']);
  expect(Number(chunk.total_compressed_size) - 12 * 1000 * 4).toBeLessThan(12 * 8 + 64);
});

test('variable-length lists (one value up to many) round-trip through the direct writer and reader; DuckDB agrees', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ragged-'));
  const path = join(dir, 'data.parquet');
  const lens = [1, 2, 9, 64, 1, 130, 7];
  const lists = lens.map((n, i) =>
    Array.from({ length: n }, (_, j) => (i === 3 && j === 5 ? Number.NaN : i * 1000 + j + 0.25)),
  );
  const w = new ParquetStreamWriter(path, [
    { name: 'id', kind: 'string' },
    { name: 'v', kind: 'list<double>' },
  ]);
  w.writeRowGroup({ id: lens.slice(0, 4).map((_, i) => `r${i}`), v: lists.slice(0, 4) });
  w.writeRowGroup({ id: lens.slice(4).map((_, i) => `r${i + 4}`), v: lists.slice(4) });
  await w.finish();
  expect(() => w.writeRowGroup({ id: ['x'], v: [[]] })).toThrow(/empty list/);
  const manifest = {
    schemaVersion: DATASET_SCHEMA_VERSION,
    kind: 'atmospheres',
    createdAt: new Date().toISOString(),
    rowCount: 7,
    files: [{ path: 'data.parquet', rowCount: 7, rowGroups: 2 }],
    columns: [
      { name: 'id', kind: 'string' },
      { name: 'v', kind: 'list<double>' },
    ],
    labels: [],
    labelRanges: {},
    normalization: {},
    synthetic: false,
    syntheticCount: 0,
    split: null,
    splitCounts: {},
    inputs: [],
  };
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
  const ds = await openDataset(dir);
  const rows = [...(await ds.readRowGroup(0)), ...(await ds.readRowGroup(1))];
  expect(rows.map((r) => r.v)).toEqual(lists);
  expect((await ds.readRowGroup(1, ['v'])).map((r) => Object.keys(r))).toEqual([['v'], ['v'], ['v']]);
  await expect(readFluxRowGroup(ds, 0, undefined, 'v')).rejects.toThrow(/row 1: v has 2 values, expected 1/);
  const back = await duck(`SELECT id, v FROM read_parquet('${path}') ORDER BY id`);
  expect(back.map((r) => r.v)).toEqual(lists);
});

describe('flux decoding of files written by DuckDB (nullable 3-level lists, v1 pages)', () => {
  const cases = [
    {
      name: 'PLAIN, uncompressed',
      codec: 'uncompressed',
      expr: `CASE WHEN (i * 7 + j) % 97 = 0 THEN 'NaN'::FLOAT ELSE (sin(i * 300 + j) * 100)::FLOAT END`,
      path: 'fast',
    },
    { name: 'PLAIN, snappy', codec: 'snappy', expr: `(sin(i * 300 + j) * 100)::FLOAT`, path: 'fast' },
    {
      name: 'dictionary, snappy (hyparquet fallback)',
      codec: 'snappy',
      expr: `((i + j) % 5)::FLOAT`,
      path: 'generic',
    },
  ] as const;
  for (const c of cases) {
    test(c.name, async () => {
      const file = join(await mkdtemp(join(tmpdir(), 'duck-flux-')), 'd.parquet');
      await duck(
        `COPY (SELECT i, list_transform(range(300), j -> ${c.expr}) AS flux FROM range(1500) t(i) ORDER BY i) TO '${file}' (FORMAT parquet, COMPRESSION ${c.codec})`,
      );
      const md = await parquetMetadataAsync(await asyncBufferFromFile(file));
      const fd = openSync(file, 'r');
      try {
        const ff = fluxFile(fd, file, md);
        const ref = await duck(`SELECT flux FROM read_parquet('${file}') ORDER BY i`);
        let row = 0;
        md.row_groups.forEach((rg, k) => {
          const { flux, path } = decodeFluxRowGroup(ff, k, 'flux', 300);
          expect(path).toBe(c.path);
          const n = Number(rg.num_rows);
          expectSameFloat32(
            flux,
            Float32Array.from(ref.slice(row, row + n).flatMap((r) => r.flux as number[])),
            `row group ${k}`,
          );
          row += n;
        });
        expect(row).toBe(1500);
        expect(() => decodeFluxRowGroup(ff, 0, 'flux', 299)).toThrow(
          /row 0: flux has 300 values, expected 299/,
        );
      } finally {
        closeSync(fd);
      }
    });
  }
});
