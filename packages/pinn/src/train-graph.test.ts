// The training step as one TensorFlow graph (train-graph.ts) on the production backend
// (tensorflow in CI, asserted there): the loss and every gradient equal tfjs autodiff of the
// emulator's loss, and trainLoop driven by it ends where the autodiff run ends.
import {
  createOptimizer,
  initBackend,
  requireProductionBackendInCi,
  tf,
  trainLoop,
} from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { DEFAULT_PHYSICS, PRESETS } from './config.js';
import { pointSource } from './data.js';
import { PinnEmulator } from './emulator.js';
import { computeNormalization } from './normalization.js';
import { hydrostaticFamily } from '../test/synthetic.js';

await initBackend({ quiet: true });
const models = hydrostaticFamily(24, 5);
const norm = computeNormalization(models);
const physics = { ...DEFAULT_PHYSICS, alpha: 0.03 };

// in CI the backend is tensorflow (else this throws), so the graph tests below run there
const graphs = requireProductionBackendInCi();

const cases = [
  { preset: 'small', alpha: 0, includeAccrad: true },
  { preset: 'paper', alpha: 0, includeAccrad: true },
  { preset: 'small', alpha: 0.03, includeAccrad: true },
  { preset: 'small', alpha: 0.5, includeAccrad: false },
  { preset: 'paper', alpha: 0.03, includeAccrad: true },
] as const;

describe.runIf(graphs).each(cases)('$preset preset, alpha $alpha, ACCRAD $includeAccrad', (k) => {
  test('loss parts and gradients equal autodiff of the loss (rtol 1e-4, atol 1e-5 x the largest |gradient|)', () => {
    const physics = { ...DEFAULT_PHYSICS, alpha: k.alpha, includeAccrad: k.includeAccrad };
    const e = new PinnEmulator(PRESETS[k.preset], norm, physics, 3);
    const src = pointSource(models, norm, physics);
    const batch = src.batch(new Rng(4).permutation(src.numExamples).subarray(0, 300));
    const names = e.net.params.names();
    const vars = names.map((n) => e.net.params.get(n));
    let eagerParts: Record<string, tf.Scalar> = {};
    const auto = tf.variableGrads(() => {
      const r = e.loss(batch);
      eagerParts = Object.fromEntries(Object.entries(r.parts ?? {}).map(([n, t]) => [n, tf.keep(t)]));
      return r.total;
    }, vars);
    const graph = e.graphGradients()!(batch);
    assertAllClose([graph.parts.total.dataSync()[0]], [auto.value.dataSync()[0]], {
      rtol: 1e-5,
      label: 'total',
    });
    expect(Object.keys(graph.parts).sort()).toEqual(['total', ...Object.keys(eagerParts)].sort());
    for (const [n, t] of Object.entries(eagerParts))
      assertAllClose([graph.parts[n].dataSync()[0]], [t.dataSync()[0]], { rtol: 1e-5, label: n });
    if (k.alpha > 0) expect(eagerParts.physics.dataSync()[0]).toBeGreaterThan(0);
    for (const [i, n] of names.entries()) {
      const want = auto.grads[vars[i].name].dataSync() as Float32Array;
      const scale = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(scale, n).toBeGreaterThan(0);
      assertAllClose(graph.grads[n].dataSync(), want, { rtol: 1e-4, atol: 1e-5 * scale, label: n });
    }
    for (const t of [
      auto.value,
      ...Object.values(auto.grads),
      ...Object.values(graph.grads),
      graph.parts.total,
    ])
      t.dispose();
    for (const t of Object.values(batch)) t.dispose();
    e.dispose();
  });
});

test.runIf(graphs)(
  'trainLoop on graph gradients ends where the autodiff run ends (alpha 0.03, 3 epochs, rtol 1e-3 on the weights and losses)',
  async () => {
    const run = async (graph: boolean) => {
      const e = new PinnEmulator(PRESETS.small, norm, physics, 11);
      const opt = createOptimizer('adam', e.net.params);
      const grads = graph ? e.graphGradients() : null;
      if (graph) expect(grads).not.toBeNull();
      const result = await trainLoop({
        params: e.net.params,
        loss: (b) => e.loss(b),
        ...(grads ? { gradients: grads } : {}),
        train: pointSource(models.slice(0, 18), norm, physics),
        validation: pointSource(models.slice(18), norm, physics),
        optimizer: opt,
        epochs: 3,
        batchSize: 128,
        seed: 2,
        config: { test: 'train-graph' },
      });
      const weights = e.net.params.names().map((n) => Array.from(e.net.params.get(n).dataSync()));
      const tensors = tf.memory().numTensors;
      opt.dispose();
      e.dispose();
      return { result, weights, tensors };
    };
    const a = await run(true);
    const b = await run(false);
    expect(a.result.globalStep).toBe(b.result.globalStep);
    assertAllClose(
      a.result.history.map((h) => h.trainLoss),
      b.result.history.map((h) => h.trainLoss),
      { rtol: 1e-3, label: 'train loss per epoch' },
    );
    assertAllClose(
      a.result.history.map((h) => h.valLoss!),
      b.result.history.map((h) => h.valLoss!),
      { rtol: 1e-3, label: 'validation loss per epoch' },
    );
    a.weights.forEach((w, i) =>
      assertAllClose(w, b.weights[i], { rtol: 1e-3, atol: 1e-4, label: `param ${i}` }),
    );
    // the graph path allocates nothing that outlives a step
    const c = await run(true);
    expect(c.tensors).toBe(a.tensors);
  },
);
