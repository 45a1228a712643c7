// `stellar-emu inspect`: a Parquet file without a manifest (written by pyarrow) is described from its footer with the command that adopts it; a dataset's manifest is checked against its data; errors go to stderr.
import { copyFile, cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import {
  LEGACY_MANIFEST_FILE,
  MANIFEST_FILE,
  openDataset,
  readManifest,
  syntheticAtmospheres,
  writeAtmosphereDataset,
  writeSpectrumDataset,
  type SpectrumRecord,
} from '@stellar-emu/grid-io';
import { runPython, testPython } from '@stellar-emu/grid-io/testing';
import { register as registerIngest } from './ingest.js';
import { runInspect } from './inspect.js';

const python = testPython();
const fixtures = fileURLToPath(
  new URL('../../../../packages/grid-io/python/write_parquet_fixtures.py', import.meta.url),
);

async function inspect(path: string, json = false): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runInspect(path, { json }, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cli-inspect-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function spectra(n: number): SpectrumRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    source: 'test',
    line: i + 1,
    labels: { teffK: 5000 + 10 * i, logg: 4 },
    wavelengthStartAngstrom: 4450,
    wavelengthStepAngstrom: 0.05,
    flux: Array.from({ length: 30 }, (_, j) => 1 - 0.01 * ((i + j) % 7)),
    synthetic: false,
    split: null,
  }));
}

describe.skipIf(!python)('a Parquet file written by pyarrow', () => {
  test('is described from its footer (rows, row groups, columns with types, codec) with the command that adopts it; the adopted dataset holds its rows', async () => {
    const dir = join(root, 'pyarrow');
    await runPython(python!, [fixtures, dir, '300', '40']);
    const file = join(dir, 'zstd-plain.parquet');
    // what pyarrow itself says of the file
    const schema = JSON.parse(
      await runPython(python!, [
        '-c',
        'import json, sys, pyarrow.parquet as pq; f = pq.ParquetFile(sys.argv[1]); print(json.dumps({"rows": f.metadata.num_rows, "groups": f.metadata.num_row_groups, "columns": [[x.name, str(x.type)] for x in f.schema_arrow]}))',
        file,
      ]),
    ) as { rows: number; groups: number; columns: [string, string][] };
    const r = await inspect(file);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain(
      `${file}: a Parquet file, not a stellar-emu dataset (no ${MANIFEST_FILE} beside it)`,
    );
    expect(r.out).toContain(
      `${schema.rows} rows in ${schema.groups} row group(s); codecs ZSTD; written by parquet-cpp-arrow`,
    );
    const listed = [...r.out.matchAll(/^ {4}(\S+) +(\S+)/gm)].map((m) => [m[1], m[2]]);
    // pyarrow's names: string, int32, double, list<element: float>, bool
    const pyToKind = (t: string) =>
      ({
        string: 'string',
        int32: 'int32',
        double: 'double',
        bool: 'boolean',
        'list<element: float>': 'list<float>',
      })[t] ?? t;
    expect(listed.slice(0, schema.columns.length)).toEqual(schema.columns.map(([n, t]) => [n, pyToKind(t)]));
    expect(r.out).toContain(
      `its columns fit a spectra dataset: adopt it with\n    stellar-emu ingest parquet ${file} --kind spectra --out <dataset>`,
    );
    expect(r.out).not.toMatch(/REJECTED|Kurucz/);

    // adopt it as the message says
    const program = new Command().exitOverride();
    registerIngest(program);
    const out = join(root, 'adopted');
    const write = process.stdout.write;
    let printed = '';
    process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync([
        'node',
        'stellar-emu',
        'ingest',
        'parquet',
        file,
        '--kind',
        'spectra',
        '--out',
        out,
      ]);
    } finally {
      process.stdout.write = write;
    }
    expect(printed).toMatch(/adopted 300 spectra rows .* \(labels: teff_k, logg, mh; split counts: /);
    const ds = await openDataset(out);
    const ref = JSON.parse(await readFile(join(dir, 'reference.json'), 'utf8')) as {
      columns: Record<string, unknown[]>;
    };
    const rows = [];
    for await (const b of ds.iterateRows()) rows.push(...b);
    for (const c of ['id', 'teff_k', 'logg', 'mh', 'split', 'synthetic'])
      expect(
        rows.map((x) => x[c]),
        c,
      ).toEqual(ref.columns[c]);
    const flux = new Float32Array((await readFile(join(dir, 'flux.f32'))).buffer.slice(0));
    const nan = (x: number) => (Number.isNaN(x) ? 'NaN' : x);
    expect(rows.flatMap((x) => x.flux as number[]).map(nan)).toEqual(Array.from(flux, nan));
    expect(ds.manifest.inputs[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    const again = await inspect(out);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/spectra dataset, schema v1, 300 rows/);
    expect(again.out).toContain(
      'checked against the data: 300 rows, 11 columns and the split counts as the manifest says',
    );
  });
});

describe('a dataset: the manifest is checked against the data', () => {
  test('a consistent dataset passes; each disagreement is a MISMATCH line on stderr and exit status 1', async () => {
    const dir = join(root, 'ds');
    await writeSpectrumDataset(spectra(12), dir, { rowGroupSize: 5, split: { scheme: '90/10', seed: 0 } });
    const ok = await inspect(dir);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.err).toBe('');
    expect(ok.out).toContain(
      'checked against the data: 12 rows, 10 columns and the split counts as the manifest says',
    );
    const good = await readManifest(dir);

    const tamper = async (name: string, edit: (m: Record<string, unknown>) => Record<string, unknown>) => {
      const d = join(root, name);
      await cp(dir, d, { recursive: true });
      await writeFile(
        join(d, MANIFEST_FILE),
        JSON.stringify(edit(structuredClone(good) as unknown as Record<string, unknown>)),
      );
      return inspect(d);
    };
    const rowsWrong = await tamper('rows', (m) => ({
      ...m,
      rowCount: 13,
      files: [{ ...(m.files as object[])[0], rowCount: 13 }],
    }));
    expect(rowsWrong.code).toBe(1);
    expect(rowsWrong.err).toContain('MISMATCH');
    expect(rowsWrong.err).toContain('data.parquet: 12 rows in the file, 13 in the manifest');
    expect(rowsWrong.err).toContain('12 rows in the data files, 13 in the manifest');
    expect(rowsWrong.out).toMatch(/12|13/);

    const columns = await tamper('cols', (m) => ({
      ...m,
      columns: [
        ...(m.columns as { name: string; kind: string }[]).map((c) =>
          c.name === 'flux' ? { ...c, kind: 'list<double>' } : c,
        ),
        { name: 'vmic_kms', kind: 'double' },
      ],
    }));
    expect(columns.code).toBe(1);
    expect(columns.err).toContain('data.parquet: no column vmic_kms (the manifest lists it)');
    expect(columns.err).toContain(
      'data.parquet: column flux is list<float> in the file, list<double> in the manifest',
    );

    const splits = await tamper('splits', (m) => ({
      ...m,
      splitCounts: { ...(m.splitCounts as object), test: 1 },
    }));
    expect(splits.code).toBe(1);
    expect(splits.err).toContain('split test: 0 rows in the data, 1 in the manifest');

    const groups = await tamper('groups', (m) => ({
      ...m,
      files: [{ ...(m.files as object[])[0], rowGroups: 2 }],
    }));
    expect(groups.err).toContain('data.parquet: 3 row groups in the file, 2 in the manifest');

    // the data file replaced by another dataset's
    const swapped = join(root, 'swapped');
    await cp(dir, swapped, { recursive: true });
    const other = join(root, 'other');
    await writeAtmosphereDataset(syntheticAtmospheres({ n: 3, seed: 1, nLayers: 10 }), other);
    await copyFile(join(other, 'data.parquet'), join(swapped, 'data.parquet'));
    const s = await inspect(swapped, true);
    expect(s.code).toBe(1);
    expect(JSON.parse(s.out).problems).toEqual(
      expect.arrayContaining([
        'data.parquet: 3 rows in the file, 12 in the manifest',
        'data.parquet: no column wavelength_start_angstrom, wavelength_step_angstrom, flux (the manifest lists them)',
        expect.stringMatching(/^data\.parquet: column mh, feh, afe, .* not in the manifest$/),
      ]),
    );
  });

  test('an older dataset (manifest.json) is read, with a note on stderr; errors go to stderr', async () => {
    const dir = join(root, 'legacy');
    await writeAtmosphereDataset(syntheticAtmospheres({ n: 4, seed: 2, nLayers: 12 }), dir);
    await rename(join(dir, MANIFEST_FILE), join(dir, LEGACY_MANIFEST_FILE));
    const r = await inspect(dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/atmospheres dataset, schema v1, 4 rows/);
    expect(r.err).toMatch(/manifest as manifest\.json \(an older dataset\).*renaming it to _manifest\.json/);

    const missing = await inspect(join(root, 'nope'));
    expect(missing).toMatchObject({ code: 1, out: '' });
    expect(missing.err).toMatch(/nope: no such file or directory/);
    const junk = join(root, 'junk.dat');
    await writeFile(junk, 'neither a deck\nnor parquet\n');
    const j = await inspect(junk);
    expect(j.code).toBe(1);
    expect(j.out).toBe('');
    expect(j.err).toMatch(/REJECTED/);
    expect(j.err).toMatch(/not a dataset, a Parquet file or a Kurucz deck/);
  });
});
