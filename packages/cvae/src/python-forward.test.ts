// The numpy decoder and encoder of python/forward.py (the README's example for Python users) against the TypeScript CVAE on a model directory written by training.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scaleValue } from '@stellar-emu/grid-io';
import { runPython, testPython } from '@stellar-emu/grid-io/testing';
import { initBackend, tf } from '@stellar-emu/nn-core';
import { deriveSeed, Rng } from '@stellar-emu/numerics';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { tempDir, toyRecords, writeToyDataset } from '../test/fixtures.js';
import { loadCvaeModel } from './artifact.js';
import { generateSpectra, labelMatrix } from './generate.js';
import { trainCvae } from './train.js';

const python = testPython();
const script = fileURLToPath(new URL('../python/forward.py', import.meta.url));
/** float32 network evaluated in float64 by numpy. */
const RTOL = 1e-4;
const ATOL = 1e-6;

describe.skipIf(!python)('CVAE forward pass in numpy (python/forward.py)', () => {
  test(`a trained small model: generated flux (z = 0 and seeded z), latent mean and log-variance within rtol ${RTOL}, atol ${ATOL}`, async () => {
    await initBackend({ force: 'cpu', quiet: true });
    const nPixels = 120;
    const dataset = await writeToyDataset({ n: 96, nPixels, rowGroupSize: 48 });
    const modelDir = tempDir('cvae-py-');
    await trainCvae({
      datasetDir: dataset,
      outDir: modelDir,
      preset: 'small',
      // a tight log-variance bound, so the tanh is far from the identity and numpy must apply it too
      overrides: { batchSize: 32, epochs: 2, seed: 4, logvarBound: 0.02 },
    });
    const loaded = await loadCvaeModel(modelDir);
    const { meta, model } = loaded;
    try {
      expect(meta.config).toMatchObject({
        preset: 'small',
        encoderWidths: [512, 256],
        latentDim: 16,
        decoderWidths: [256, 512],
        nPixels,
      });
      const L = meta.labels.length;
      const d = meta.config.latentDim;
      const recs = toyRecords(6, nPixels, 77);
      const rows = recs.map((r) => r.labels);
      const labels = labelMatrix(meta, rows, true);
      const physical = Array.from({ length: rows.length }, (_, i) =>
        Array.from(labels.subarray(i * L, (i + 1) * L)),
      );

      // generateSpectra draws z for spectrum i from Rng(deriveSeed(seed, i)): the same draws go to numpy
      const seed = 9;
      const z = rows.map((_, i) => {
        const rng = new Rng(deriveSeed(seed, i));
        return Array.from({ length: d }, () => rng.normal());
      });
      const zero = await generateSpectra(loaded, labels, { z: 'zero', allowExtrapolation: true });
      const sampled = await generateSpectra(loaded, labels, { z: 'sample', seed, allowExtrapolation: true });

      // encoder of the TypeScript model on the toy spectra
      const c = Float32Array.from(rows.flatMap((r) => meta.labels.map((l) => scaleValue(r[l.key], l))));
      const flux = recs.map((r) => r.flux);
      const enc = tf.tidy(() => {
        const { mu, logvar } = model.encode(
          model.scaleFlux(tf.tensor2d(flux)),
          tf.tensor2d(c, [rows.length, L]),
        );
        return [mu.dataSync(), logvar.dataSync()];
      });

      const input = join(modelDir, 'input.json');
      const call = async (zz: number[][] | null) => {
        await writeFile(input, JSON.stringify({ labels: physical, z: zz, flux }));
        return JSON.parse(await runPython(python!, [script, modelDir, input])) as {
          flux: number[][];
          mu: number[][];
          logvar: number[][];
        };
      };
      const pyZero = await call(null);
      const pySampled = await call(z);
      expect(pyZero.flux.length).toBe(rows.length);
      expect(pyZero.flux[0].length).toBe(nPixels);
      assertAllClose(pyZero.flux.flat(), zero, { rtol: RTOL, atol: ATOL, label: 'flux, z = 0' });
      assertAllClose(pySampled.flux.flat(), sampled, { rtol: RTOL, atol: ATOL, label: 'flux, seeded z' });
      assertAllClose(pyZero.mu.flat(), enc[0], { rtol: RTOL, atol: ATOL, label: 'latent mean' });
      assertAllClose(pyZero.logvar.flat(), enc[1], { rtol: RTOL, atol: ATOL, label: 'latent log-variance' });
      expect(Math.max(...Array.from(enc[1], Math.abs))).toBeGreaterThan(0.01);
      expect(Math.max(...Array.from(enc[1], Math.abs))).toBeLessThanOrEqual(0.02);
      // the latent matters: z = 0 and sampled z give different spectra
      let diff = 0;
      for (let i = 0; i < zero.length; i++) diff = Math.max(diff, Math.abs(zero[i] - sampled[i]));
      expect(diff).toBeGreaterThan(1e-3);
    } finally {
      model.dispose();
    }
  });
});
