// The numpy recovery of python/forward.py (the README's example for Python users) against the TypeScript RecoveryNetwork on a model file written by training.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPython, testPython } from '@stellar-emu/grid-io/testing';
import { initBackend } from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { RecoveryNetwork } from './network.js';
import { fitPca } from './pca.js';
import { matrixSource } from './sources.js';
import { trainRecovery } from './train.js';

const python = testPython();
const script = fileURLToPath(new URL('../python/forward.py', import.meta.url));
/** float32 network evaluated in float64 by numpy; absolute part per label: this fraction of its training range. */
const RTOL = 1e-4;
const ATOL_OF_RANGE = 1e-5;

/** Toy spectra: 3 labels set the depths of 3 Gaussian lines on `D` pixels, plus a little noise. */
function toyData(n: number, D: number, seed: number): { flux: Float32Array; labels: Float64Array } {
  const rng = new Rng(seed);
  const flux = new Float32Array(n * D);
  const labels = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    const l = [4000 + 7000 * rng.uniform(), 2 + 3 * rng.uniform(), -1.5 + 3 * rng.uniform()];
    labels.set(l, i * 3);
    for (let j = 0; j < D; j++) {
      const d1 = 0.5 * ((l[0] - 4000) / 7000) * Math.exp(-(((j - 0.25 * D) / 3) ** 2));
      const d2 = 0.3 * ((l[1] - 2) / 3) * Math.exp(-(((j - 0.5 * D) / 4) ** 2));
      const d3 = 0.4 * ((l[2] + 1.5) / 3) * Math.exp(-(((j - 0.75 * D) / 2) ** 2));
      flux[i * D + j] = 1 - d1 - d2 - d3 + 0.002 * rng.normal();
    }
  }
  return { flux, labels };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'param-nn-py-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!python)('recovery network in numpy (python/forward.py)', () => {
  test(`a trained small network with its PCA: raw and clipped labels within rtol ${RTOL} (atol ${ATOL_OF_RANGE} of each label's range) of RecoveryNetwork.predict`, async () => {
    await initBackend({ force: 'cpu', quiet: true });
    const D = 150;
    const names = ['teffK', 'logg', 'mh'];
    const tr = toyData(400, D, 1);
    const va = toyData(120, D, 2);
    const { model: pca } = await fitPca(matrixSource(tr.flux, D), { components: 8 });
    const train = { coeffs: await pca.project(tr.flux, 400), labels: tr.labels, rows: 400 };
    const validation = { coeffs: await pca.project(va.flux, 120), labels: va.labels, rows: 120 };
    const out = join(dir, 'fit');
    const r = await trainRecovery({
      pca,
      labelNames: names,
      train,
      validation,
      outDir: out,
      preset: 'small',
      epochs: 4,
      batchSize: 64,
      lr: 3e-3,
      seed: 2,
    });
    r.network.dispose();

    // spectra outside the training box too, so that clipping happens
    const test = toyData(40, D, 3);
    for (let j = 0; j < D; j++) test.flux[j] = 1 - 0.9 * Math.exp(-(((j - 0.25 * D) / 3) ** 2));
    const { network } = await RecoveryNetwork.load(r.modelPath);
    try {
      const ts = await network.predict(test.flux, 40);
      const input = join(dir, 'input.json');
      await writeFile(
        input,
        JSON.stringify({
          flux: Array.from({ length: 40 }, (_, i) => Array.from(test.flux.subarray(i * D, (i + 1) * D))),
        }),
      );
      const py = JSON.parse(await runPython(python!, [script, out, input])) as {
        labels: string[];
        values: number[][];
        raw: number[][];
        outOfRange: boolean[][];
      };
      expect(py.labels).toEqual(names);
      names.forEach((name, j) => {
        const { min, max } = network.scalers.labelRanges[name];
        const col = (m: ArrayLike<number>) => Array.from({ length: 40 }, (_, i) => m[i * 3 + j]);
        const atol = ATOL_OF_RANGE * (max - min);
        assertAllClose(
          py.raw.map((row) => row[j]),
          col(ts.raw),
          { rtol: RTOL, atol, label: `${name} raw` },
        );
        assertAllClose(
          py.values.map((row) => row[j]),
          col(ts.values),
          { rtol: RTOL, atol, label: `${name} clipped` },
        );
        // the same rows are flagged, except where a raw value sits within the tolerance of a bound
        py.outOfRange.forEach((row, i) => {
          const raw = ts.raw[i * 3 + j];
          if (Math.abs(raw - min) > 10 * atol && Math.abs(raw - max) > 10 * atol)
            expect(row[j], `${name} row ${i}`).toBe(ts.outOfRange[i * 3 + j] === 1);
        });
      });
      expect(ts.outOfRange.some((f) => f === 1)).toBe(true);
      // the predictions follow the spectra
      const teff = Array.from({ length: 40 }, (_, i) => ts.raw[i * 3]);
      expect(Math.max(...teff) - Math.min(...teff)).toBeGreaterThan(100);
    } finally {
      network.dispose();
    }
  });
});
