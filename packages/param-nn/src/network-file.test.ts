// The recovery model file through nn-core's single-file model helper: its state validated by RECOVERY_FILE_STATE_SCHEMA.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, initBackend, readCheckpoint, writeCheckpoint } from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import { RECOVERY_MODEL_KIND, RecoveryNetwork } from './network.js';
import { fitPca } from './pca.js';
import { matrixSource } from './sources.js';

let dir = '';
beforeAll(async () => {
  await initBackend({ quiet: true });
  dir = await mkdtemp(join(tmpdir(), 'param-nn-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('save and load keep the state; a state that does not fit the schema is a CheckpointError naming the file and field', async () => {
  const rng = new Rng(3);
  const flux = Float32Array.from({ length: 40 * 30 }, () => 1 - 0.3 * rng.uniform());
  const { model: pca } = await fitPca(matrixSource(flux, 30), { components: 4 });
  const net = new RecoveryNetwork(
    { inputDim: 4, hidden: [8], labelNames: ['teffK', 'logg'] },
    {
      inputMean: [0, 0, 0, 0],
      inputStd: [1, 1, 1, 1],
      labelRanges: { teffK: { min: 4000, max: 7000 }, logg: { min: 2, max: 5 } },
    },
    pca,
    5,
  );
  const path = join(dir, 'recovery.safetensors');
  await net.save(path, { epoch: 2, valLoss: null });
  const { network, info } = await RecoveryNetwork.load(path);
  expect(info).toEqual({ epoch: 2, valLoss: null });
  expect(network.arch).toEqual(net.arch);
  expect(network.scalers).toEqual(net.scalers);
  expect(network.seed).toBe(5);
  network.dispose();

  // The same tensors with a state that a hand-edit or another writer broke.
  const ck = await readCheckpoint(path);
  const bad = join(dir, 'bad.safetensors');
  await writeCheckpoint(bad, ck.tensors, RECOVERY_MODEL_KIND, {
    ...ck.state,
    arch: { ...ck.state.arch, hidden: ['8'] },
    scalers: { ...ck.state.scalers, inputStd: [1, 1] },
  });
  const err = await RecoveryNetwork.load(bad).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CheckpointError);
  expect((err as Error).message).toMatch(
    /bad\.safetensors: model metadata \(checkpoint state\) does not fit param-nn\/recovery: arch\.hidden\.0: /,
  );
  await writeCheckpoint(bad, ck.tensors, RECOVERY_MODEL_KIND, {
    ...ck.state,
    scalers: { ...ck.state.scalers, inputStd: [1, 1] },
  });
  await expect(RecoveryNetwork.load(bad)).rejects.toThrow(
    /scalers\.inputStd: has 2 values, arch\.inputDim is 4/,
  );
  await writeCheckpoint(bad, ck.tensors, 'training', ck.state);
  await expect(RecoveryNetwork.load(bad)).rejects.toThrow(
    /is a 'training' file, not a param-nn\/recovery model/,
  );
  net.dispose();
});
