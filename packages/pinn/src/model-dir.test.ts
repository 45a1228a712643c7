// The PINN model directory through nn-core's helper: the model.json layout, older directories, errors naming the field.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256File } from '@stellar-emu/grid-io';
import { CheckpointError, initBackend } from '@stellar-emu/nn-core';
import { DEFAULT_PHYSICS, PRESETS } from './config.js';
import { PinnEmulator } from './emulator.js';
import { MODEL_KIND } from './model-file.js';
import { loadPinnModel, MODEL_JSON, MODEL_WEIGHTS, ModelDirError, writeModelDir } from './model-dir.js';
import { computeNormalization } from './normalization.js';
import { hydrostaticFamily } from '../test/synthetic.js';

let root = '';
let emu: PinnEmulator;
beforeAll(async () => {
  await initBackend({ force: 'cpu', quiet: true });
  root = await mkdtemp(join(tmpdir(), 'pinn-model-dir-'));
  emu = new PinnEmulator(PRESETS.small, computeNormalization(hydrostaticFamily(20, 2)), DEFAULT_PHYSICS, 4);
});
afterAll(async () => {
  emu.dispose();
  await rm(root, { recursive: true, force: true });
});

const meta = (history: { epoch: number; trainLoss: number; valLoss: number | null; lr: number }[]) => ({
  preset: 'small',
  backend: 'cpu',
  dataset: {
    dir: '/data',
    hash: 'h',
    rowCount: 20,
    splitCounts: { train: 18, val: 2 },
    trainModels: 18,
    valModels: 2,
  },
  deckDefaults: null,
  training: {
    config: { model: MODEL_KIND },
    epochs: 1,
    epochsDone: 1,
    done: true,
    stoppedEarly: false,
    globalStep: 3,
    durationS: 0.5,
    history,
  },
});

const labels = [{ teffK: 5500, logg: 4.2, feh: -0.2, afe: 0.1 }];

test('model.json keeps its layout (key order, 2-space JSON) and the weights sha256; a diverged epoch (NaN, stored as null) reads back as NaN', async () => {
  const dir = join(root, 'm');
  const written = await writeModelDir(
    dir,
    emu,
    meta([{ epoch: 0, trainLoss: Number.NaN, valLoss: null, lr: 1e-3 }]),
  );
  const text = await readFile(join(dir, MODEL_JSON), 'utf8');
  expect(text).toBe(`${JSON.stringify(written, null, 2)}\n`);
  expect(Object.keys(JSON.parse(text))).toEqual([
    'kind',
    'formatVersion',
    'weights',
    'preset',
    'backend',
    'dataset',
    'deckDefaults',
    'training',
    'arch',
    'physics',
    'seed',
    'labelRanges',
    'normalization',
    'tauConvention',
    'outputs',
    'createdAt',
  ]);
  expect(written.weights).toEqual({
    file: MODEL_WEIGHTS,
    sha256: await sha256File(join(dir, MODEL_WEIGHTS)),
  });
  const { emulator, model } = await loadPinnModel(dir);
  expect(model.training.history[0].trainLoss).toBeNaN();
  expect(emulator.predictAtmosphere(labels)[0].temperature).toEqual(
    emu.predictAtmosphere(labels)[0].temperature,
  );
  emulator.dispose();
});

test('an older model.json (no deckDefaults, fields unknown to the schema) loads; invalid fields, missing weights are clear errors', async () => {
  const dir = join(root, 'old');
  await writeModelDir(dir, emu, meta([{ epoch: 0, trainLoss: 0.5, valLoss: 0.6, lr: 1e-3 }]));
  const json = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8'));
  delete json.deckDefaults;
  json.somethingNewer = { x: 1 };
  await writeFile(join(dir, MODEL_JSON), JSON.stringify(json));
  const { emulator, model } = await loadPinnModel(dir);
  emulator.dispose();
  expect(model.deckDefaults).toBeUndefined();
  expect((model as unknown as { somethingNewer: unknown }).somethingNewer).toEqual({ x: 1 });

  await writeFile(
    join(dir, MODEL_JSON),
    JSON.stringify({ ...json, kind: 'cvae', arch: { ...json.arch, activation: 'tanh' } }),
  );
  const err = await loadPinnModel(dir).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ModelDirError);
  expect((err as Error).message).toMatch(
    /^model directory .*old: model\.json: kind: .*"kurucz-a1-pinn" \(found "cvae"\); arch\.activation: .*\(found "tanh"\)$/,
  );

  await writeFile(join(dir, MODEL_JSON), JSON.stringify(json));
  await rm(join(dir, MODEL_WEIGHTS));
  await expect(loadPinnModel(dir)).rejects.toThrow(CheckpointError);
  await expect(loadPinnModel(dir)).rejects.toThrow(
    /model\.safetensors: file not found \(the model directory is incomplete\)/,
  );
});
