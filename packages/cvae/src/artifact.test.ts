// The CVAE model directory through nn-core's helper: the weights sha256 recorded, older directories (no sha256, no logvarBound) loaded, errors naming the field.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '@stellar-emu/grid-io';
import { initBackend } from '@stellar-emu/nn-core';
import { tempDir } from '../test/fixtures.js';
import { CvaeModelError, loadCvaeModel, MODEL_JSON, saveCvaeModel, WEIGHTS_FILE } from './artifact.js';
import { makeCvaeConfig } from './config.js';
import { SpectrumCvae } from './model.js';

const config = makeCvaeConfig(
  'custom',
  { nPixels: 20, labelColumns: ['teff_k', 'logg'] },
  { encoderWidths: [8], latentDim: 2, decoderWidths: [8] },
);
const meta = {
  config,
  labels: [
    { column: 'teff_k', key: 'teffK', min: 4000, max: 7000, rangeMin: 4100, rangeMax: 6900 },
    { column: 'logg', key: 'logg', min: 2, max: 5, rangeMin: 2.1, rangeMax: 4.9 },
  ],
  wavelength: { startAngstrom: 5000, stepAngstrom: 0.1, nPixels: 20 },
  training: { note: 'test' },
};

let model: SpectrumCvae;
beforeAll(async () => {
  await initBackend({ force: 'cpu', quiet: true });
  model = new SpectrumCvae(config);
});
afterAll(() => model.dispose());

test('model.json records the weights sha256 (last key); an older model.json without it, config.logvarBound or labelLog10Offsets still loads', async () => {
  const dir = tempDir();
  await saveCvaeModel(dir, model, meta);
  const json = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8'));
  expect(Object.keys(json)).toEqual([
    'format',
    'createdAt',
    'weightsFile',
    'config',
    'labels',
    'wavelength',
    'training',
    'weightsSha256',
  ]);
  expect(json.weightsSha256).toBe(await sha256File(join(dir, WEIGHTS_FILE)));
  const loaded = await loadCvaeModel(dir);
  expect(loaded.meta).toEqual(json);
  loaded.model.dispose();

  delete json.weightsSha256;
  delete json.config.logvarBound;
  delete json.config.labelLog10Offsets;
  await writeFile(join(dir, MODEL_JSON), `${JSON.stringify(json, null, 2)}\n`);
  const old = await loadCvaeModel(dir);
  expect(old.meta.weightsSha256).toBeUndefined();
  expect(old.meta.config.logvarBound).toBeNull();
  // Written before log-scaled labels: no offsets, every label linear.
  expect(old.meta.config.labelLog10Offsets).toEqual({});
  expect(old.meta.labels.every((l) => l.log10Offset === undefined)).toBe(true);
  old.model.dispose();
});

test('invalid fields, weights that do not match the recorded sha256, missing weights: CvaeModelError naming the file and field', async () => {
  const dir = tempDir();
  await saveCvaeModel(dir, model, meta);
  const good = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8'));
  const write = (v: unknown) => writeFile(join(dir, MODEL_JSON), JSON.stringify(v));

  await write({ ...good, labels: good.labels.slice(1), wavelength: { ...good.wavelength, stepAngstrom: 0 } });
  const err = await loadCvaeModel(dir).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CvaeModelError);
  expect((err as Error).message).toMatch(/^CVAE model .*: model\.json: wavelength\.stepAngstrom: .*>0.*$/);
  await write({ ...good, wavelength: { ...good.wavelength, nPixels: 21 } });
  await expect(loadCvaeModel(dir)).rejects.toThrow(
    /model\.json: wavelength\.nPixels: 21 does not match config\.nPixels 20/,
  );
  await write({ ...good, labels: good.labels.slice(1) });
  await expect(loadCvaeModel(dir)).rejects.toThrow(
    /model\.json: labels: 1 labels do not match the 2 of config\.labelColumns/,
  );
  await write({ ...good, config: { ...good.config, batchSize: 0 } });
  await expect(loadCvaeModel(dir)).rejects.toThrow(
    /model\.json: config: invalid CVAE config: batchSize must be a positive integer/,
  );

  await write(good);
  const weights = await readFile(join(dir, WEIGHTS_FILE));
  weights[weights.length - 1] ^= 1;
  await writeFile(join(dir, WEIGHTS_FILE), weights);
  await expect(loadCvaeModel(dir)).rejects.toThrow(
    /weights\.safetensors does not match model\.json \(checksum mismatch/,
  );
  await rm(join(dir, WEIGHTS_FILE));
  await expect(loadCvaeModel(dir)).rejects.toThrow(
    /weights\.safetensors: file not found \(the model directory is incomplete\)/,
  );
  await expect(loadCvaeModel(join(dir, 'nope'))).rejects.toThrow(
    /nope: does not exist: no model\.json \(train one with 'stellar-emu train cvae'\)/,
  );
});
