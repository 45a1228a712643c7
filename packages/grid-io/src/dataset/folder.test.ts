// A dataset folder opens as a Parquet dataset in pyarrow and DuckDB (the manifest is `_manifest.json`); datasets with the old `manifest.json` still read.
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { syntheticAtmospheres } from '../synth/atmosphere.js';
import { syntheticSpectra } from '../synth/spectrum.js';
import { runPython, testPython } from '../testing/python.js';
import type { AtmosphereModel, SpectrumRecord } from '../types.js';
import { hasManifest, LEGACY_MANIFEST_FILE, MANIFEST_FILE, manifestPath, readManifest } from './manifest.js';
import { openDataset, rowToAtmosphereModel } from './read.js';
import { ATMOSPHERE_COLUMNS, writeAtmosphereDataset, writeSpectrumDataset } from './write.js';

const python = testPython();

/** What pyarrow sees of a folder: `pq.read_table(folder)` and `pyarrow.dataset.dataset(folder, format='parquet')`. */
const PYARROW_FOLDER = `
import json, os, sys
import pyarrow.dataset as ds
import pyarrow.parquet as pq
folder = sys.argv[1]
t = pq.read_table(folder)
d = ds.dataset(folder, format="parquet")
print(json.dumps({
    "read_table": {"rows": t.num_rows, "columns": t.column_names, "ids": t.column("id").to_pylist(), "line": t.column("line").to_pylist()},
    "dataset": {"rows": d.count_rows(), "columns": d.schema.names, "files": sorted(os.path.relpath(f, folder) for f in d.files)},
    "flux0": [None if x != x else x for x in t.column(sys.argv[2]).to_pylist()[0]],  # NaN as null
}))
`;

interface PyarrowView {
  read_table: { rows: number; columns: string[]; ids: string[]; line: number[] };
  dataset: { rows: number; columns: string[]; files: string[] };
  flux0: (number | null)[];
}

async function pyarrowView(dir: string, listColumn: string): Promise<PyarrowView> {
  return JSON.parse(await runPython(python!, ['-c', PYARROW_FOLDER, dir, listColumn])) as PyarrowView;
}

async function duck<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  try {
    return (await con.runAndReadAll(sql)).getRowObjectsJS() as T[];
  } finally {
    con.closeSync();
    inst.closeSync();
  }
}

let root: string;
let atmDir: string;
let specDir: string;
let atmospheres: AtmosphereModel[];
let spectra: SpectrumRecord[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'folder-'));
  atmDir = join(root, 'atm');
  specDir = join(root, 'spec');
  atmospheres = [...syntheticAtmospheres({ n: 37, seed: 5 })];
  spectra = [
    ...syntheticSpectra({ n: 29, seed: 6, grid: { startAngstrom: 4450, stepAngstrom: 0.05, n: 120 } }),
  ];
  spectra[0].flux[3] = Number.NaN;
  await writeAtmosphereDataset(atmospheres, atmDir, {
    rowGroupSize: 16,
    split: { scheme: '90/10', seed: 1 },
  });
  await writeSpectrumDataset(spectra, specDir, { rowGroupSize: 10 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

test('a dataset folder holds data.parquet and _manifest.json, nothing that a Parquet reader would take for data', async () => {
  for (const dir of [atmDir, specDir]) {
    expect((await readdir(dir)).sort()).toEqual([MANIFEST_FILE, 'data.parquet'].sort());
    expect(MANIFEST_FILE.startsWith('_')).toBe(true);
    expect(manifestPath(dir)).toBe(join(dir, MANIFEST_FILE));
  }
});

describe.skipIf(!python)('pyarrow opens a dataset folder', () => {
  test('atmospheres: pq.read_table(folder) and pyarrow.dataset.dataset(folder) give every row and column', async () => {
    const v = await pyarrowView(atmDir, 'temperature');
    const names = ATMOSPHERE_COLUMNS.map((c) => c.name);
    for (const view of [v.read_table, v.dataset]) {
      expect(view.rows).toBe(atmospheres.length);
      expect(view.columns).toEqual(names);
    }
    expect(v.dataset.files).toEqual(['data.parquet']);
    expect(v.read_table.ids).toEqual(atmospheres.map((m) => m.id));
    expect(v.flux0).toEqual(atmospheres[0].temperature);
  });

  test('spectra: the same, flux as a list of float32 with NaN kept', async () => {
    const v = await pyarrowView(specDir, 'flux');
    const m = await readManifest(specDir);
    for (const view of [v.read_table, v.dataset]) {
      expect(view.rows).toBe(spectra.length);
      expect(view.columns).toEqual(m.columns.map((c) => c.name));
    }
    expect(v.read_table.columns).toEqual(expect.arrayContaining(['id', 'flux', 'teff_k', 'split']));
    expect(v.read_table.line).toEqual(spectra.map((s) => s.line));
    // float32 values as written (NaN comes back as null from the script)
    expect(v.flux0[3]).toBeNull();
    expect(v.flux0).toEqual(spectra[0].flux.map((x) => (Number.isNaN(x) ? null : Math.fround(x))));
  });

  test('the old layout (manifest.json) is what pyarrow could not open; grid-io still reads it', async () => {
    const legacy = join(root, 'legacy');
    await cp(atmDir, legacy, { recursive: true });
    await rename(join(legacy, MANIFEST_FILE), join(legacy, LEGACY_MANIFEST_FILE));
    await expect(pyarrowView(legacy, 'temperature')).rejects.toThrow(/manifest\.json/);
    const ds = await openDataset(legacy);
    expect(ds.numRows).toBe(atmospheres.length);
    const rows = [];
    for await (const b of ds.iterateRows()) rows.push(...b);
    expect(rows.map((r) => rowToAtmosphereModel(r).id)).toEqual(atmospheres.map((m) => m.id));
  });
});

test('DuckDB reads a dataset folder as one table: row count and columns', async () => {
  const m = await readManifest(specDir);
  const n = await duck<{ n: bigint }>(`SELECT count(*) AS n FROM read_parquet('${specDir}')`);
  expect(Number(n[0].n)).toBe(spectra.length);
  const cols = await duck<{ column_name: string; column_type: string }>(
    `DESCRIBE SELECT * FROM read_parquet('${specDir}')`,
  );
  expect(cols.map((c) => c.column_name)).toEqual(m.columns.map((c) => c.name));
  expect(cols.find((c) => c.column_name === 'flux')?.column_type).toBe('FLOAT[]');
  const atm = await duck<{ n: bigint }>(
    `SELECT count(*) AS n FROM read_parquet('${atmDir}') WHERE split IS NOT NULL`,
  );
  expect(Number(atm[0].n)).toBe(atmospheres.length);
});

describe('manifest names', () => {
  test('_manifest.json wins over manifest.json; manifest.json alone is read; neither names both in the error', async () => {
    const dir = join(root, 'both');
    await cp(specDir, dir, { recursive: true });
    const m = await readManifest(dir);
    await writeFile(join(dir, LEGACY_MANIFEST_FILE), JSON.stringify({ ...m, rowCount: 1 }));
    expect(manifestPath(dir)).toBe(join(dir, MANIFEST_FILE));
    expect((await readManifest(dir)).rowCount).toBe(spectra.length);
    await rm(join(dir, MANIFEST_FILE));
    expect(manifestPath(dir)).toBe(join(dir, LEGACY_MANIFEST_FILE));
    expect((await readManifest(dir)).rowCount).toBe(1);
    await rm(join(dir, LEGACY_MANIFEST_FILE));
    expect(hasManifest(dir)).toBe(false);
    expect(existsSync(join(dir, 'data.parquet'))).toBe(true);
    await expect(readManifest(dir)).rejects.toThrow(/neither _manifest\.json nor manifest\.json exists/);
  });
});

/**
 * Optional: a Python with polars (not in the pinned environment), e.g.
 * STELLAR_EMU_POLARS_PYTHON=/tmp/polars-venv/bin/python. polars (2.1) reads every file of a
 * directory, whatever its name, and refuses one whose files have different extensions, so it is
 * given the folder's Parquet files by glob: `pl.read_parquet(f"{folder}/*.parquet")`.
 */
const polarsPython = process.env.STELLAR_EMU_POLARS_PYTHON || null;

test.skipIf(!polarsPython)(
  'polars (optional, STELLAR_EMU_POLARS_PYTHON): read_parquet and scan_parquet of <folder>/*.parquet give every row and column',
  async () => {
    const script = `
import json, sys
import polars as pl
files = sys.argv[1] + "/*.parquet"
a = pl.read_parquet(files)
b = pl.scan_parquet(files).collect()
print(json.dumps({"version": pl.__version__, "rows": [a.height, b.height], "columns": [a.columns, b.columns], "ids": a["id"].to_list()}))
`;
    const m = await readManifest(atmDir);
    const v = JSON.parse(await runPython(polarsPython!, ['-c', script, atmDir])) as {
      rows: number[];
      columns: string[][];
      ids: string[];
    };
    expect(v.rows).toEqual([atmospheres.length, atmospheres.length]);
    expect(v.columns).toEqual([m.columns.map((c) => c.name), m.columns.map((c) => c.name)]);
    expect(v.ids).toEqual(atmospheres.map((x) => x.id));
  },
);
