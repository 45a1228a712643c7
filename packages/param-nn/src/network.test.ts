import { mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, latestCheckpoint, readCheckpoint, tf } from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { clipToRanges } from './labels.js';
import { RECOVERY_PRESETS, RecoveryNetwork } from './network.js';
import { fitPca } from './pca.js';
import { matrixSource } from './sources.js';
import { trainRecovery, type CoefficientSet } from './train.js';

let dir: string;
beforeAll(async () => {
  await initBackend({ quiet: true });
  dir = await mkdtemp(join(tmpdir(), 'param-nn-net-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Toy spectra: 3 labels set the depths of 3 Gaussian lines on 120 pixels. */
function toyData(n: number, seed: number): { flux: Float32Array; labels: Float64Array } {
  const D = 120;
  const rng = new Rng(seed);
  const flux = new Float32Array(n * D);
  const labels = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    const l = [4000 + 7000 * rng.uniform(), 2 + 3 * rng.uniform(), -1.5 + 3 * rng.uniform()];
    labels.set(l, i * 3);
    for (let j = 0; j < D; j++) {
      const d1 = 0.5 * ((l[0] - 4000) / 7000) * Math.exp(-(((j - 30) / 3) ** 2));
      const d2 = 0.3 * ((l[1] - 2) / 3) * Math.exp(-(((j - 60) / 4) ** 2));
      const d3 = 0.4 * ((l[2] + 1.5) / 3) * Math.exp(-(((j - 90) / 2) ** 2));
      flux[i * D + j] = 1 - d1 - d2 - d3;
    }
  }
  return { flux, labels };
}

const names = ['teffK', 'logg', 'mh'];

async function coefficientSets(k: number) {
  const tr = toyData(2000, 1);
  const va = toyData(300, 2);
  const { model: pca } = await fitPca(matrixSource(tr.flux, 120), { components: k });
  const train: CoefficientSet = { coeffs: await pca.project(tr.flux, 2000), labels: tr.labels, rows: 2000 };
  const validation: CoefficientSet = {
    coeffs: await pca.project(va.flux, 300),
    labels: va.labels,
    rows: 300,
  };
  return { pca, train, validation, va };
}

describe('recovery network', () => {
  test('the paper preset is k -> 5000 -> 2000 -> 1000 -> 64 -> 6', async () => {
    expect(RECOVERY_PRESETS.paper).toEqual([5000, 2000, 1000, 64]);
    const { model: pca } = await fitPca(matrixSource(toyData(60, 3).flux, 120), { components: 25 });
    const net = new RecoveryNetwork(
      {
        inputDim: 25,
        hidden: [...RECOVERY_PRESETS.paper],
        labelNames: ['teffK', 'logg', 'vsiniKms', 'mh', 'vmicKms', 'resolution'],
      },
      {
        inputMean: new Array(25).fill(0),
        inputStd: new Array(25).fill(1),
        labelRanges: Object.fromEntries(
          ['teffK', 'logg', 'vsiniKms', 'mh', 'vmicKms', 'resolution'].map((n) => [n, { min: 0, max: 1 }]),
        ),
      },
      pca,
    );
    const shapes = net.params.names().map((n) => net.params.get(n).shape);
    expect(shapes).toEqual([
      [25, 5000],
      [5000],
      [5000, 2000],
      [2000],
      [2000, 1000],
      [1000],
      [1000, 64],
      [64],
      [64, 6],
      [6],
    ]);
    expect(net.stack.layers.map((l) => (l as unknown as { activation: string }).activation)).toEqual([
      'relu',
      'relu',
      'relu',
      'relu',
      'linear',
    ]);
    net.dispose();
  });

  test('trains with Adamax to a small error, saves with its PCA, reloads identically, and does not leak tensors', async () => {
    const { pca, train, validation, va } = await coefficientSets(6);
    const out = join(dir, 'fit');
    const r = await trainRecovery({
      pca,
      labelNames: names,
      train,
      validation,
      outDir: out,
      preset: 'small',
      epochs: 150,
      batchSize: 256,
      lr: 3e-3,
      seed: 2,
    });
    expect(r.bestEpoch).not.toBeNull();
    expect(r.result.history.at(-1)!.valLoss!).toBeLessThan(r.result.history[0].valLoss! / 10);
    const pred = await r.network.predict(va.flux, 300);
    // Noise-free toy data: Teff within 150 K, log g and [M/H] within 0.06 dex RMS.
    const rmse = names.map((_, j) =>
      Math.sqrt(
        Array.from({ length: 300 }, (_, i) => (pred.values[i * 3 + j] - va.labels[i * 3 + j]) ** 2).reduce(
          (a, b) => a + b,
        ) / 300,
      ),
    );
    expect(rmse[0]).toBeLessThan(150);
    expect(rmse[1]).toBeLessThan(0.06);
    expect(rmse[2]).toBeLessThan(0.06);
    const ck = await readCheckpoint(r.modelPath);
    expect([...ck.tensors.keys()]).toEqual(
      expect.arrayContaining(['pca/mean', 'pca/basis', 'pca/explained_variance']),
    );
    const { network: loaded } = await RecoveryNetwork.load(r.modelPath);
    const again = await loaded.predict(va.flux, 300);
    assertAllClose(again.raw, pred.raw, { rtol: 1e-6, atol: 1e-6, label: 'reloaded predictions' });
    // Leak test: after a warm-up call, repeated predictions leave no tensors behind.
    await loaded.predict(va.flux, 300);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await loaded.predict(va.flux, 300);
    expect(tf.memory().numTensors).toBe(before);
    loaded.dispose();
    r.network.dispose();
  });

  test('resuming from a checkpoint reproduces the uninterrupted run', async () => {
    const straight = await coefficientSets(5);
    const a = await trainRecovery({
      ...straight,
      labelNames: names,
      outDir: join(dir, 'straight'),
      preset: 'small',
      epochs: 6,
      batchSize: 256,
      seed: 5,
    });
    const wa = a.network.params.snapshot();
    a.network.dispose();
    const parts = await coefficientSets(5);
    const first = await trainRecovery({
      ...parts,
      labelNames: names,
      outDir: join(dir, 'resumed'),
      preset: 'small',
      epochs: 3,
      batchSize: 256,
      seed: 5,
    });
    first.network.dispose();
    const parts2 = await coefficientSets(5);
    const second = await trainRecovery({
      ...parts2,
      labelNames: names,
      outDir: join(dir, 'resumed'),
      preset: 'small',
      epochs: 6,
      batchSize: 256,
      seed: 5,
      resume: true,
    });
    expect(second.result.history.length).toBe(6);
    const wb = second.network.params.snapshot();
    for (const [k, v] of wa) assertAllClose(wb.get(k)!.data, v.data, { rtol: 1e-5, atol: 1e-6, label: k });
    expect(second.bestEpoch).toBe(a.bestEpoch);
    second.network.dispose();
  });

  test('resuming with a truncated newest checkpoint falls back to the older one, with a warning, and reproduces the uninterrupted run', async () => {
    const opts = { labelNames: names, preset: 'small' as const, batchSize: 256, seed: 5 };
    const a = await trainRecovery({
      ...(await coefficientSets(5)),
      ...opts,
      outDir: join(dir, 'straight-c'),
      epochs: 6,
    });
    const wa = a.network.params.snapshot();
    a.network.dispose();
    const out = join(dir, 'corrupt');
    const first = await trainRecovery({ ...(await coefficientSets(5)), ...opts, outDir: out, epochs: 3 });
    first.network.dispose();
    const newest = (await latestCheckpoint(join(out, 'checkpoints')))!;
    expect(newest).toBe(first.result.finalCheckpoint);
    await truncate(newest, Math.floor((await stat(newest)).size / 2));
    const second = await trainRecovery({
      ...(await coefficientSets(5)),
      ...opts,
      outDir: out,
      epochs: 6,
      resume: true,
    });
    expect(second.result.checkpointWarnings).toHaveLength(1);
    expect(second.result.checkpointWarnings[0]).toContain(newest);
    expect(second.result.history).toEqual(a.result.history);
    const wb = second.network.params.snapshot();
    for (const [k, v] of wa) assertAllClose(wb.get(k)!.data, v.data, { rtol: 1e-5, atol: 1e-6, label: k });
    expect((await readdir(join(out, 'checkpoints'))).filter((n) => n.includes('.corrupt-'))).toHaveLength(1);
    second.network.dispose();
  });
});

describe('clipping to the training ranges', () => {
  test('values outside the box are clipped and flagged, never extrapolated', () => {
    const raw = Float64Array.from([3900, 2.5, 12000, 6.1, 5000, Number.NaN]);
    const c = clipToRanges(raw, 3, ['teffK', 'logg'], {
      teffK: { min: 4000, max: 11000 },
      logg: { min: 2, max: 5 },
    });
    expect(Array.from(c.values)).toEqual([4000, 2.5, 11000, 5, 5000, 2]);
    expect(Array.from(c.outOfRange)).toEqual([1, 0, 1, 1, 0, 1]);
    expect(c.clippedCount).toEqual({ teffK: 2, logg: 2 });
  });
});
