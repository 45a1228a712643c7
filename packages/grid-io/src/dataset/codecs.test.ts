// Files written by pyarrow in every codec (zstd is polars' default) read back unchanged through every grid-io reader.
import { closeSync, openSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { runPython, testPython } from '../testing/python.js';
import { parquetCompressors } from './codecs.js';
import { decodeFluxRowGroup, fluxFile } from './list-column.js';
import { DATASET_SCHEMA_VERSION, MANIFEST_FILE } from './manifest.js';
import { openDataset, readFluxRowGroup } from './read.js';

const python = testPython();
const script = fileURLToPath(new URL('../../python/write_parquet_fixtures.py', import.meta.url));

interface Fixture {
  dir: string;
  rows: number;
  pixels: number;
  columns: Record<string, unknown[]>;
  flux: Float32Array;
  files: { file: string; codec: string; encodings: string[]; rowGroups: number }[];
}

/** Codec name in the Parquet footer for each pyarrow `compression=` (pyarrow's "lz4" is LZ4_RAW). */
const FOOTER_CODEC: Record<string, string[]> = {
  snappy: ['SNAPPY'],
  gzip: ['GZIP'],
  brotli: ['BROTLI'],
  lz4: ['LZ4_RAW', 'LZ4'],
  zstd: ['ZSTD'],
};

let fx: Fixture;

beforeAll(async () => {
  if (!python) return;
  const dir = await mkdtemp(join(tmpdir(), 'pyarrow-codecs-'));
  const out = JSON.parse(await runPython(python, [script, dir, '300', '200'])) as { files: Fixture['files'] };
  const ref = JSON.parse(await readFile(join(dir, 'reference.json'), 'utf8')) as {
    rows: number;
    pixels: number;
    columns: Record<string, unknown[]>;
  };
  const raw = await readFile(join(dir, 'flux.f32'));
  const flux = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  fx = { dir, rows: ref.rows, pixels: ref.pixels, columns: ref.columns, flux, files: out.files };
});

afterAll(async () => {
  if (fx) await rm(fx.dir, { recursive: true, force: true });
});

/** Bitwise float32 comparison (NaN included). */
function expectSameFloat32(actual: ArrayLike<number>, expected: Float32Array, label: string) {
  const a = actual instanceof Float32Array ? actual : Float32Array.from(actual);
  expect(a.length, label).toBe(expected.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < ua.length; i++)
    if (ua[i] !== ub[i]) throw new Error(`${label}: value ${i} is ${a[i]}, expected ${expected[i]}`);
}

/** The pyarrow file as a grid-io dataset: data.parquet plus a manifest naming its columns. */
async function asDataset(file: string, rowGroups: number): Promise<string> {
  const dir = join(fx.dir, `ds-${file.replace(/\.parquet$/, '')}`);
  await mkdir(dir, { recursive: true });
  await copyFile(join(fx.dir, file), join(dir, 'data.parquet'));
  const labels = ['teff_k', 'logg', 'mh'];
  const manifest = {
    schemaVersion: DATASET_SCHEMA_VERSION,
    kind: 'spectra',
    createdAt: new Date().toISOString(),
    rowCount: fx.rows,
    files: [{ path: 'data.parquet', rowCount: fx.rows, rowGroups }],
    columns: [
      { name: 'id', kind: 'string' },
      { name: 'source', kind: 'string' },
      { name: 'line', kind: 'int32' },
      ...labels.map((name) => ({ name, kind: 'double' })),
      { name: 'wavelength_start_angstrom', kind: 'double' },
      { name: 'wavelength_step_angstrom', kind: 'double' },
      { name: 'flux', kind: 'list<float>' },
      { name: 'synthetic', kind: 'boolean' },
      { name: 'split', kind: 'string', nullable: true },
    ],
    labels,
    labelKeys: { teffK: 'teff_k', logg: 'logg', mh: 'mh' },
    labelRanges: {},
    normalization: {},
    synthetic: false,
    syntheticCount: 0,
    split: null,
    splitCounts: {},
    inputs: [],
    pixels: { min: fx.pixels, max: fx.pixels, nanCount: 0 },
  };
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
  return dir;
}

describe.skipIf(!python)('Parquet files written by pyarrow in every codec', () => {
  for (const codec of Object.keys(FOOTER_CODEC)) {
    for (const layout of ['dict', 'plain'] as const) {
      test(`${codec}, ${layout === 'dict' ? "pyarrow's defaults (dictionary, v1 pages)" : 'PLAIN values, v2 pages'}: every column and every flux value as pyarrow wrote it`, async () => {
        const name = `${codec}-${layout}.parquet`;
        const info = fx.files.find((f) => f.file === name)!;
        expect(info.rowGroups).toBe(3);
        const path = join(fx.dir, name);
        const md = await parquetMetadataAsync(await asyncBufferFromFile(path));
        for (const rg of md.row_groups)
          for (const c of rg.columns) expect(FOOTER_CODEC[codec]).toContain(c.meta_data!.codec);
        const fluxChunk = md.row_groups[0].columns.find(
          (c) => c.meta_data!.path_in_schema[0] === 'flux',
        )!.meta_data!;
        expect(fluxChunk.dictionary_page_offset !== undefined).toBe(layout === 'dict');

        // the dataset reader: all columns row by row, the flux column in one block
        const ds = await openDataset(await asDataset(name, md.row_groups.length));
        const rows = [];
        for (const g of ds.rowGroups) {
          rows.push(...(await ds.readRowGroup(g.index)));
          const block = await readFluxRowGroup(ds, g.index);
          expect(block.path).toBe(layout === 'dict' ? 'generic' : 'fast');
          expectSameFloat32(
            block.flux,
            fx.flux.subarray(g.rowStart * fx.pixels, (g.rowStart + g.numRows) * fx.pixels),
            `${name} row group ${g.index} (readFluxRowGroup)`,
          );
          const trainOnly = await readFluxRowGroup(ds, g.index, 'train');
          const trainRows = fx.columns.split
            .slice(g.rowStart, g.rowStart + g.numRows)
            .flatMap((s, i) => (s === 'train' ? [g.rowStart + i] : []));
          expect(Array.from(trainOnly.rowIndex, (i) => g.rowStart + i)).toEqual(trainRows);
        }
        expect(rows.length).toBe(fx.rows);
        for (const [col, values] of Object.entries(fx.columns))
          expect(
            rows.map((r) => r[col]),
            `${name} column ${col}`,
          ).toEqual(values);
        expectSameFloat32(
          rows.flatMap((r) => r.flux as number[]),
          fx.flux,
          `${name} flux (readRowGroup)`,
        );
        const nanCount = fx.flux.reduce((n, v) => n + (Number.isNaN(v) ? 1 : 0), 0);
        expect(nanCount).toBeGreaterThan(0);

        // the synchronous flux decoder of the CVAE and the recovery network
        const fd = openSync(path, 'r');
        try {
          const ff = fluxFile(fd, path, md);
          let start = 0;
          md.row_groups.forEach((rg, k) => {
            const n = Number(rg.num_rows);
            const { flux, path: p } = decodeFluxRowGroup(ff, k, 'flux', fx.pixels);
            expect(p).toBe(layout === 'dict' ? 'generic' : 'fast');
            expectSameFloat32(
              flux,
              fx.flux.subarray(start * fx.pixels, (start + n) * fx.pixels),
              `${name} row group ${k} (decodeFluxRowGroup)`,
            );
            start += n;
          });
        } finally {
          closeSync(fd);
        }

        // hyparquet itself with grid-io's decompressors (label tables of the CLI and the CVAE)
        const all = (await parquetReadObjects({
          file: await asyncBufferFromFile(path),
          columns: ['id', 'teff_k', 'split'],
          compressors: parquetCompressors,
        })) as Record<string, unknown>[];
        expect(all.map((r) => r.teff_k)).toEqual(fx.columns.teff_k);
        expect(all.map((r) => r.split)).toEqual(fx.columns.split);
      });
    }
  }
});

/** Optional: a Python with polars (not in the pinned environment), e.g. STELLAR_EMU_POLARS_PYTHON=/tmp/polars-venv/bin/python. */
const polarsPython = process.env.STELLAR_EMU_POLARS_PYTHON || null;

test.skipIf(!polarsPython)(
  "polars (optional, STELLAR_EMU_POLARS_PYTHON): a file in polars' defaults (zstd) reads back as polars wrote it",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polars-'));
    try {
      const script = `
import json, struct, sys
import polars as pl
rows, pixels = 400, 150
flux = [[float("nan") if (i * 7 + j) % 101 == 0 else 1 - 0.0013 * ((i * j) % 37) for j in range(pixels)] for i in range(rows)]
df = pl.DataFrame({"id": [f"s{i}" for i in range(rows)], "teff_k": [4000.0 + 3.5 * i for i in range(rows)], "flux": flux},
                  schema={"id": pl.String, "teff_k": pl.Float64, "flux": pl.List(pl.Float32)})
df.write_parquet(sys.argv[1] + "/data.parquet")
values = [x for row in df["flux"].to_list() for x in row]
open(sys.argv[1] + "/flux.f32", "wb").write(struct.pack("<%df" % len(values), *values))
print(json.dumps({"rows": rows, "pixels": pixels, "teff_k": df["teff_k"].to_list()}))
`;
      const ref = JSON.parse(await runPython(polarsPython!, ['-c', script, dir])) as {
        rows: number;
        pixels: number;
        teff_k: number[];
      };
      const raw = await readFile(join(dir, 'flux.f32'));
      const expected = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      const path = join(dir, 'data.parquet');
      const md = await parquetMetadataAsync(await asyncBufferFromFile(path));
      expect(md.row_groups[0].columns.map((c) => c.meta_data!.codec)).toEqual(['ZSTD', 'ZSTD', 'ZSTD']);
      const fd = openSync(path, 'r');
      try {
        const ff = fluxFile(fd, path, md);
        const parts: Float32Array[] = md.row_groups.map(
          (_, k) => decodeFluxRowGroup(ff, k, 'flux', ref.pixels).flux,
        );
        const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) {
          all.set(p, o);
          o += p.length;
        }
        expectSameFloat32(all, expected, 'polars flux');
      } finally {
        closeSync(fd);
      }
      const rows = (await parquetReadObjects({
        file: await asyncBufferFromFile(path),
        columns: ['teff_k'],
        compressors: parquetCompressors,
      })) as Record<string, unknown>[];
      expect(rows.map((r) => r.teff_k)).toEqual(ref.teff_k);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
