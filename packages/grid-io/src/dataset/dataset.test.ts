import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { readDecks } from '../kurucz/read-deck.js';
import { deckToAtmosphereModel } from '../kurucz/to-model.js';
import { realDataDir } from '../testing/real-data.js';
import type { AtmosphereModel, SpectrumRecord } from '../types.js';
import { spectrumContentId } from './content-hash.js';
import { MANIFEST_FILE, readManifest } from './manifest.js';
import {
  denormalizeValues,
  log10Scale,
  minMaxScale,
  normalizeValues,
  RunningStats,
  scaleValue,
  UNIT_INTERVAL,
} from './normalization.js';
import { openDataset, rowToAtmosphereModel, rowToSpectrumRecord } from './read.js';
import { assignSplit } from './splits.js';
import { writeAtmosphereDataset, writeSpectrumDataset } from './write.js';

const data = realDataDir();

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

function spectra(n: number, pixels: number): SpectrumRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const flux = Array.from(
      { length: pixels },
      (_, j) => 1 - 0.5 * Math.exp(-(((j - pixels / 2) / 7) ** 2)) * ((i % 5) / 5),
    );
    if (i % 3 === 0) flux[i % pixels] = Number.NaN;
    const base = {
      source: 'synthetic:test',
      line: 0,
      labels: { teffK: 4000 + 100 * i, logg: 4.5, vsiniKms: i, mh: -0.1 * i },
      wavelengthStartAngstrom: 4450,
      wavelengthStepAngstrom: 0.05,
      flux,
      synthetic: true,
      split: null,
    };
    return { id: spectrumContentId(base), ...base };
  });
}

test('splits depend only on id and seed (adding rows never moves existing ones) and match the scheme fractions', () => {
  const ids = Array.from({ length: 20000 }, (_, i) => `model-${i}`);
  const a = ids.map((id) => assignSplit(id, '90/10', 0));
  const b = ids.map((id) => assignSplit(id, '90/10', 0));
  expect(a).toEqual(b);
  const frac = (arr: string[], s: string) => arr.filter((x) => x === s).length / arr.length;
  expect(frac(a, 'val')).toBeGreaterThan(0.09);
  expect(frac(a, 'val')).toBeLessThan(0.11);
  const c = ids.map((id) => assignSplit(id, '70/15/15', 0));
  expect(frac(c, 'train')).toBeCloseTo(0.7, 1);
  expect(frac(c, 'test')).toBeCloseTo(0.15, 1);
  // another seed gives another split
  expect(ids.map((id) => assignSplit(id, '90/10', 1))).not.toEqual(a);
});

test('normalization: one streaming pass, log10 for positive-definite, [-1, 1] and standard, invertible', () => {
  const values = [1e-3, 1e-1, 10, 1e3, 1e5];
  const s = new RunningStats('p', 'log10');
  s.addAll(values.slice(0, 2));
  s.addAll(values.slice(2));
  const st = s.result();
  expect(st.min).toBeCloseTo(-3, 12);
  expect(st.max).toBeCloseTo(5, 12);
  expect(st.mean).toBeCloseTo(1, 12);
  expect(st.std).toBeCloseTo(Math.sqrt(8), 12);
  assertAllClose(normalizeValues(values, st, 'minmax'), [-1, -0.5, 0, 0.5, 1], { atol: 1e-12 });
  assertAllClose(denormalizeValues(normalizeValues(values, st, 'standard'), st, 'standard'), values, {
    rtol: 1e-12,
  });
  expect(() => s.add(-1)).toThrow(/positive/);
});

test('label scales: linear is minMaxScale; log10Scale maps the range through log10(v + offset); bad values throw, never NaN', () => {
  const lin = { column: 'vsini_kms', min: 0, max: 297 };
  expect(scaleValue(99, lin)).toBeCloseTo(minMaxScale(99, 0, 297), 15);
  const log = log10Scale(lin, 3);
  // log10(0 + 3) .. log10(297 + 3) = log10 3 .. log10 300: two decades, so v = 27 (log10 30) is the middle.
  expect(log).toEqual({ column: 'vsini_kms', min: Math.log10(3), max: Math.log10(300), log10Offset: 3 });
  expect(scaleValue(0, log)).toBeCloseTo(-1, 14);
  expect(scaleValue(27, log)).toBeCloseTo(0, 14);
  expect(scaleValue(297, log)).toBeCloseTo(1, 14);
  expect(scaleValue(27, log, UNIT_INTERVAL)).toBeCloseTo(0.5, 14);
  const r = log10Scale({ column: 'resolution', min: 1000, max: 100_000 }, 0);
  expect(scaleValue(10_000, r)).toBeCloseTo(0, 14);
  expect(() => scaleValue(-3, log)).toThrow(/"vsini_kms" = -3: log10\(value \+ 3\)/);
  expect(() => scaleValue(0, r)).toThrow(/resolution/);
  expect(() => log10Scale({ column: 'x', min: -5, max: 1 }, 3)).toThrow(/"x": .*above -3.*-5/);
  expect(() => log10Scale(log, 3)).toThrow(/already/);
});

describe('spectrum datasets', () => {
  test('write -> read keeps labels and flux (float32, NaN preserved); DuckDB reads the same', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spec-ds-'));
    const recs = spectra(25, 300);
    const manifest = await writeSpectrumDataset(recs, dir, {
      rowGroupSize: 10,
      split: { scheme: '90/10', seed: 3 },
    });
    expect(manifest.rowCount).toBe(25);
    expect(manifest.files[0].rowGroups).toBe(3);
    expect(manifest.labels).toEqual(['teff_k', 'logg', 'vsini_kms', 'mh']);
    expect(manifest.pixels).toEqual({ min: 300, max: 300, nanCount: 9 });
    expect(manifest.labelRanges.teff_k).toEqual({ min: 4000, max: 6400 });
    const ds = await openDataset(dir);
    expect(ds.rowGroups.map((g) => g.numRows)).toEqual([10, 10, 5]);
    const back: SpectrumRecord[] = [];
    for await (const batch of ds.iterateRows({ batchSize: 7 }))
      for (const r of batch) back.push(rowToSpectrumRecord(r, ds.manifest));
    expect(back.length).toBe(25);
    back.forEach((r, i) => {
      expect(r.id).toBe(recs[i].id);
      expect(r.labels).toEqual(recs[i].labels);
      expect(r.split).toBe(assignSplit(recs[i].id, '90/10', 3));
      assertAllClose(r.flux, recs[i].flux.map(Math.fround), { rtol: 0 });
    });
    // split filter and projection
    let nVal = 0;
    for await (const b of ds.iterateRows({ split: 'val', columns: ['id'] })) {
      nVal += b.length;
      expect(Object.keys(b[0])).toEqual(['id']);
    }
    expect(nVal).toBe(manifest.splitCounts.val ?? 0);

    const file = join(dir, 'data.parquet');
    const rows = await duck(
      `SELECT id, teff_k, vsini_kms, split, flux, len(flux) AS n, list_count(list_filter(flux, x -> isnan(x))) AS nans FROM read_parquet('${file}') ORDER BY teff_k`,
    );
    expect(rows.length).toBe(25);
    rows.forEach((r, i) => {
      expect(r.id).toBe(recs[i].id);
      expect(r.teff_k).toBe(recs[i].labels.teffK);
      expect(Number(r.n)).toBe(300);
      expect(Number(r.nans)).toBe(i % 3 === 0 ? 1 : 0);
      assertAllClose(r.flux as number[], recs[i].flux.map(Math.fround), {
        rtol: 0,
        label: `duckdb flux ${i}`,
      });
    });
    const types = await duck(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`,
    );
    expect(types.find((t) => t.column_name === 'flux')?.column_type).toBe('FLOAT[]');
    expect(types.find((t) => t.column_name === 'split')?.column_type).toBe('VARCHAR');
  });

  test('an empty input writes a valid empty dataset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spec-empty-'));
    const m = await writeSpectrumDataset([], dir);
    expect(m.rowCount).toBe(0);
    const ds = await openDataset(dir);
    expect(ds.numRows).toBe(0);
    const rows = await duck(`SELECT count(*) AS n FROM read_parquet('${join(dir, 'data.parquet')}')`);
    expect(Number(rows[0].n)).toBe(0);
  });
});

describe('manifest validation', () => {
  test('a corrupt manifest is a clear error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'man-'));
    await writeSpectrumDataset(spectra(2, 10), dir);
    const good = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ ...good, schemaVersion: 2, rowCount: -1 }));
    await expect(readManifest(dir)).rejects.toThrow(
      /_manifest\.json: invalid dataset manifest \(schemaVersion: .*rowCount: /,
    );
    await writeFile(join(dir, MANIFEST_FILE), '{"schemaVersion": 1,');
    await expect(openDataset(dir)).rejects.toThrow(/not valid JSON/);
  });
});

describe.skipIf(!data)('atmosphere datasets from real decks', () => {
  test('write -> read -> AtmosphereModel is exact; DuckDB reads the same numbers', async () => {
    const models: AtmosphereModel[] = [];
    for await (const d of readDecks(join(data!, 'atlas9-kurucz1993/ap10k2.dat.gz')))
      models.push(deckToAtmosphereModel(d));
    for (const f of ['t04000g5.00', 't44000g4.50'])
      for await (const d of readDecks(join(data!, `atlas12-samples/at12_aaaaa_${f}.atm`)))
        models.push(deckToAtmosphereModel(d));
    const dir = await mkdtemp(join(tmpdir(), 'atm-ds-'));
    async function* stream() {
      yield* models;
    }
    const manifest = await writeAtmosphereDataset(stream(), dir, {
      rowGroupSize: 100,
      split: { scheme: '70/15/15', seed: 0 },
    });
    expect(manifest.rowCount).toBe(377);
    expect(manifest.layerCounts).toEqual({
      64: models.filter((m) => m.nLayers === 64).length,
      72: models.filter((m) => m.nLayers === 72).length,
      80: 2,
    });
    expect(manifest.normalization.temperature.transform).toBe('log10');
    expect(manifest.normalization.accrad.transform).toBe('linear');
    expect(manifest.normalization.rhox.count).toBe(models.reduce((s, m) => s + m.nLayers, 0));
    expect(manifest.labelRanges.teff_k).toEqual({
      min: Math.min(...models.map((m) => m.teffK)),
      max: Math.max(...models.map((m) => m.teffK)),
    });
    const ds = await openDataset(dir);
    let i = 0;
    for await (const batch of ds.iterateRows()) {
      for (const row of batch) {
        const m = rowToAtmosphereModel(row);
        expect(m).toEqual({ ...models[i], split: assignSplit(models[i].id, '70/15/15', 0) });
        i++;
      }
    }
    expect(i).toBe(377);
    const rows = await duck(
      `SELECT id, teff_k, n_layers, temperature, tau_rosseland, vturb_kms, synthetic FROM read_parquet('${join(dir, 'data.parquet')}')`,
    );
    expect(rows.length).toBe(377);
    rows.forEach((r, k) => {
      expect(r.id).toBe(models[k].id);
      expect(r.n_layers).toBe(models[k].nLayers);
      expect(r.temperature).toEqual(models[k].temperature);
      expect(r.tau_rosseland).toEqual(models[k].tauRosseland);
      expect(r.synthetic).toBe(false);
    });
  });
});
