// The numpy forward pass of python/forward.py (the README's example for Python users) against the TypeScript emulator on a model directory written by training.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ATMOSPHERE_QUANTITIES, syntheticAtmospheres, writeAtmosphereDataset } from '@stellar-emu/grid-io';
import { runPython, testPython } from '@stellar-emu/grid-io/testing';
import { initBackend } from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { loadPinnModel } from './model-dir.js';
import { trainPinnOnDataset } from './train-dataset.js';

const python = testPython();
const script = fileURLToPath(new URL('../python/forward.py', import.meta.url));
/** float32 network evaluated in float64 by numpy: relative agreement of the physical outputs (10^y amplifies dy by ln 10 · σ). */
const RTOL = 1e-4;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinn-py-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(!python)('PINN forward pass in numpy (python/forward.py)', () => {
  test(`a trained small model: every quantity at every label set and tau point within rtol ${RTOL} of predictAtmosphere`, async () => {
    await initBackend({ force: 'cpu', quiet: true });
    const ranges = {
      teffK: { min: 4500, max: 7000 },
      logg: { min: 3.5, max: 4.8 },
      feh: { min: -1, max: 0.3 },
      afe: { min: 0, max: 0.3 },
    };
    const ds = join(root, 'ds');
    await writeAtmosphereDataset(syntheticAtmospheres({ n: 24, seed: 11, nLayers: 20, ranges }), ds, {
      split: { scheme: '90/10', seed: 0 },
    });
    const modelDir = join(root, 'model');
    await trainPinnOnDataset({
      datasetDir: ds,
      outDir: modelDir,
      preset: 'small',
      epochs: 2,
      seed: 3,
      batchSize: 64,
      learningRate: 2e-3,
    });

    const { emulator, model } = await loadPinnModel(modelDir);
    try {
      const rng = new Rng(5);
      const box = model.labelRanges;
      const labels = Array.from({ length: 7 }, () => ({
        teffK: box.teffK.min + (box.teffK.max - box.teffK.min) * rng.uniform(),
        logg: box.logg.min + (box.logg.max - box.logg.min) * rng.uniform(),
        feh: box.feh.min + (box.feh.max - box.feh.min) * rng.uniform(),
        afe: box.afe.min + (box.afe.max - box.afe.min) * rng.uniform(),
      }));
      const tau = emulator.defaultTauGrid();
      const ts = emulator.predictAtmosphere(labels, { tauGrid: tau });
      const input = join(root, 'input.json');
      await writeFile(
        input,
        JSON.stringify({ labels: labels.map((l) => [l.teffK, l.logg, l.feh, l.afe]), tau }),
      );
      const py = JSON.parse(await runPython(python!, [script, modelDir, input])) as Record<
        string,
        number[][]
      >;
      for (const q of ATMOSPHERE_QUANTITIES) {
        expect(py[q].length).toBe(labels.length);
        assertAllClose(
          py[q].flat(),
          ts.flatMap((a) => a[q]),
          { rtol: RTOL, label: q },
        );
      }
      // the outputs vary with the labels (a network that ignored its inputs would also agree)
      const t0 = py.temperature.map((row) => row[10]);
      expect(Math.max(...t0) / Math.min(...t0)).toBeGreaterThan(1.001);
    } finally {
      emulator.dispose();
    }
  });
});
