import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDataset } from '@stellar-emu/grid-io';
import { assertBitwiseEqual, initBackend } from '@stellar-emu/nn-core';
import { summarize } from '@stellar-emu/numerics';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { tempDir, writeToyDataset } from '../test/fixtures.js';
import { CvaeModelError, loadCvaeModel, type LoadedCvae } from './artifact.js';
import {
  cvaeEmulator,
  generateSpectra,
  labelMatrix,
  readLabelTable,
  writeSpectraCsv,
  writeSpectraParquet,
} from './generate.js';
import { evaluateCvae } from './metrics.js';
import { trainCvae } from './train.js';

let modelDir: string;
let dataset: string;
let loaded: LoadedCvae;
const sun = { teffK: 5770, logg: 4.44, vsiniKms: 2, mh: 0, vmicKms: 1, resolution: 50000 };

beforeAll(async () => {
  await initBackend({ force: 'cpu', quiet: true });
  dataset = await writeToyDataset({ n: 200, nPixels: 100, rowGroupSize: 50 });
  modelDir = tempDir();
  const r = await trainCvae({
    datasetDir: dataset,
    outDir: modelDir,
    preset: 'custom',
    overrides: { encoderWidths: [32], latentDim: 3, decoderWidths: [32], batchSize: 32, epochs: 2 },
    maxMinutes: 1e-3 / 60,
  });
  // the time budget stops training at the first epoch end
  expect(r.budgetSpent).toBe(true);
  expect(r.loop.stoppedEarly).toBe(false);
  expect(r.loop.epochsDone).toBe(1);
  loaded = await loadCvaeModel(modelDir);
});
afterAll(() => loaded?.model.dispose());

test('generation with the same seed is reproducible; another seed or z = 0 differs; batching does not matter', async () => {
  const labels = labelMatrix(
    loaded.meta,
    Array.from({ length: 5 }, () => sun),
  );
  const a = await generateSpectra(loaded, labels, { seed: 3 });
  const b = await generateSpectra(loaded, labels, { seed: 3 });
  assertBitwiseEqual(a, b, 'same seed');
  expect(a.length).toBe(5 * 100);
  // five draws at the same labels differ from each other, and from another seed
  expect(Array.from(a.subarray(0, 100))).not.toEqual(Array.from(a.subarray(100, 200)));
  const c = await generateSpectra(loaded, labels, { seed: 4 });
  expect(Array.from(c)).not.toEqual(Array.from(a));
  // per-spectrum draws: batch size 1 gives the same spectra as batch size 5
  const single = await generateSpectra(loaded, labels, { seed: 3, batchSize: 1 });
  assertAllClose(single, a, { atol: 1e-6, label: 'batch 1 vs 5' });
  const z0 = await generateSpectra(loaded, labels, { z: 'zero' });
  assertBitwiseEqual(z0.subarray(0, 100), z0.subarray(400, 500), 'z = 0 is deterministic');
  for (const v of a) expect(v >= 0 && v <= 1.1).toBe(true);
});

test('the CVAE as an emulator under test: its pixel count, its training box by label key, seeded z ~ N(0, I) generation', async () => {
  const e = cvaeEmulator(loaded);
  expect(e.name).toBe('CVAE');
  expect(e.numPixels).toBe(100);
  expect(Object.keys(e.labelRanges)).toEqual(loaded.meta.labels.map((l) => l.key));
  for (const l of loaded.meta.labels)
    expect(e.labelRanges[l.key]).toEqual({ min: l.rangeMin, max: l.rangeMax });
  const rows = [sun, { ...sun, teffK: 6000 }];
  const got = await e.generator(rows, { seed: 7 });
  assertBitwiseEqual(
    got,
    await generateSpectra(loaded, labelMatrix(loaded.meta, rows), { seed: 7, z: 'sample' }),
    'cvaeEmulator = generateSpectra',
  );
});

test('labels outside the training box are an error unless extrapolation is allowed', () => {
  expect(() => labelMatrix(loaded.meta, [{ ...sun, teffK: 20000 }])).toThrow(
    /teffK = 20000 is outside the training box \[4\d+(\.\d+)?, \d+(\.\d+)?\]/,
  );
  expect(() => labelMatrix(loaded.meta, [{ ...sun, logg: undefined as unknown as number }])).toThrow(
    /label logg .* missing/,
  );
  expect(labelMatrix(loaded.meta, [{ ...sun, teffK: 20000 }], true)[0]).toBe(20000);
  // dataset column names work as keys too
  expect(
    labelMatrix(loaded.meta, [
      { teff_k: 5770, logg: 4.44, vsini_kms: 2, mh: 0, vmic_kms: 1, resolution: 50000 },
    ])[2],
  ).toBe(2);
});

test('a missing or corrupt model directory gives a clear error', async () => {
  await expect(loadCvaeModel(tempDir())).rejects.toThrow(/no model\.json \(not a model directory/);
  const bad = tempDir();
  await copyFile(join(modelDir, 'model.json'), join(bad, 'model.json'));
  await expect(loadCvaeModel(bad)).rejects.toThrow(CvaeModelError);
  const weights = await readFile(join(modelDir, 'weights.safetensors'));
  weights[weights.length - 5] ^= 0xff;
  await writeFile(join(bad, 'weights.safetensors'), weights);
  await expect(loadCvaeModel(bad)).rejects.toThrow(/checksum mismatch/);
  await writeFile(join(bad, 'model.json'), '{"format": "nope"');
  await expect(loadCvaeModel(bad)).rejects.toThrow(/model\.json is not valid JSON/);
});

test('CSV and Parquet outputs: wavelength in Å then flux; label tables in; grid-io spectrum schema out', async () => {
  const dir = tempDir();
  const labels = labelMatrix(loaded.meta, [sun, { ...sun, teffK: 6500 }]);
  const flux = await generateSpectra(loaded, labels, { seed: 1 });
  await writeSpectraCsv(join(dir, 's.csv'), loaded.meta, flux);
  const lines = (await readFile(join(dir, 's.csv'), 'utf8')).trim().split('\n');
  expect(lines[0]).toBe('wavelength_angstrom,flux_0,flux_1');
  expect(lines.length).toBe(101);
  const row5 = lines[6].split(',').map(Number);
  expect(row5[0]).toBeCloseTo(5000 + 5 * 0.05, 6);
  expect(row5[2]).toBe(flux[100 + 5]);

  await writeFile(
    join(dir, 'labels.csv'),
    'teffK,logg,vsiniKms,mh,vmicKms,resolution\n5770,4.44,2,0,1,50000\n6500,4.44,2,0,1,50000\n',
  );
  const table = await readLabelTable(join(dir, 'labels.csv'));
  expect(Array.from(labelMatrix(loaded.meta, table))).toEqual(Array.from(labels));
  await writeSpectraParquet(join(dir, 'out'), loaded.meta, labels, flux, modelDir);
  const ds = await openDataset(join(dir, 'out'));
  expect(ds.manifest.kind).toBe('spectra');
  expect(ds.manifest.labels).toEqual(['teff_k', 'logg', 'vsini_kms', 'mh', 'vmic_kms', 'resolution']);
  const rows = await ds.readRowGroup(0);
  expect(rows[1].teff_k).toBe(6500);
  assertBitwiseEqual(Float32Array.from(rows[1].flux as number[]), flux.subarray(100, 200));
  await mkdir(join(dir, 'single'));
  await writeSpectraParquet(join(dir, 'single', 'spectra.parquet'), loaded.meta, labels, flux, modelDir);
  expect(JSON.parse(await readFile(join(dir, 'single', 'spectra.manifest.json'), 'utf8')).rowCount).toBe(2);
});

test('metrics: eq. 6 residual per held-out spectrum, its summary, binned maps and examples', async () => {
  const m = await evaluateCvae(loaded, dataset, { examples: 2, bins: 4 });
  expect(m.nSpectra).toBeGreaterThan(5);
  expect(m.residuals.meanAbsResidual.length).toBe(m.nSpectra);
  expect(m.residuals.labels.teffK.length).toBe(m.nSpectra);
  expect(m.summary).toEqual(summarize(m.residuals.meanAbsResidual));
  expect(m.summary.median).toBeLessThanOrEqual(m.summary.p95);
  expect(m.summary.p95).toBeLessThanOrEqual(m.summary.max);
  // recompute one residual by hand
  const ex = m.examples[0];
  const manual =
    ex.generatedFlux.reduce((s, g, i) => s + Math.abs(g - ex.referenceFlux[i]), 0) / ex.referenceFlux.length;
  expect(m.residuals.meanAbsResidual[0]).toBeCloseTo(manual, 6);
  expect(m.teffLoggMap!.count.flat().reduce((a, b) => a + b, 0)).toBe(m.nSpectra);
  expect(m.perLabel.map((p) => p.label)).toEqual([
    'teffK',
    'logg',
    'vsiniKms',
    'mh',
    'vmicKms',
    'resolution',
  ]);
});
