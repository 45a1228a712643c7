// The tau-cache inference path as a TensorFlow graph (nn-core GraphBuilder) on the production
// backend (tensorflow in CI, asserted there): the same function as the eager path and as the
// float64 reference, one pass or many, and rebuilt when the weights change.
import { initBackend, requireProductionBackendInCi, tf } from '@stellar-emu/nn-core';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { DEFAULT_PHYSICS, PRESETS } from './config.js';
import { PinnEmulator } from './emulator.js';
import { POINTS_PER_PASS } from './inference.js';
import { computeNormalization } from './normalization.js';
import { hydrostaticFamily } from '../test/synthetic.js';
import { forward64 } from '../test/reference.js';

await initBackend({ quiet: true });
const norm = computeNormalization(hydrostaticFamily(50, 2));
const emu = new PinnEmulator(PRESETS.small, norm, DEFAULT_PHYSICS, 4);
afterAll(() => emu.dispose());

// in CI the backend is tensorflow (else this throws), so the graph tests below run there
const graphs = requireProductionBackendInCi();

function labelsOf(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    teffK: 4500 + ((i * 613) % 3000),
    logg: 3.5 + ((i * 7) % 10) / 10,
    feh: -0.5 + ((i * 3) % 8) / 10,
    afe: 0.1,
  }));
}

test.runIf(graphs)(
  'the graph engine is the default here and says so; eager when asked or without the tau cache',
  () => {
    expect(emu.inferenceEngine()).toBe('graph');
    expect(emu.inferenceEngine({ engine: 'eager' })).toBe('eager');
    expect(emu.inferenceEngine({ useTauCache: false })).toBe('eager');
  },
);

test.runIf(graphs)(
  'graph and eager engines agree (rtol 1e-5, atol 1e-5) and both match the float64 forward pass, in one pass and in several',
  () => {
    const grid = emu.defaultTauGrid();
    // batch 1; 3 models in one pass; enough models for several passes of POINTS_PER_PASS points
    for (const n of [1, 3, Math.ceil((2.5 * POINTS_PER_PASS) / grid.length)]) {
      const labels = labelsOf(n);
      const graph = emu.predictNormalized(labels, grid, { engine: 'graph', batchSize: 256 });
      const eager = emu.predictNormalized(labels, grid, { engine: 'eager', batchSize: 256 });
      expect(graph.every(Number.isFinite)).toBe(true);
      assertAllClose(graph, eager, { rtol: 1e-5, atol: 1e-5, label: `${n} models` });
      if (n <= 3) {
        const labelsN = emu.normalizeLabels(labels);
        const tauN = emu.normalizeLogTau(grid);
        const expected: number[] = [];
        for (let j = 0; j < n; j++)
          for (let d = 0; d < grid.length; d++)
            expected.push(...forward64(emu.net, Array.from(labelsN.subarray(j * 4, j * 4 + 4)), tauN[d]));
        assertAllClose(graph, expected, { rtol: 1e-4, atol: 2e-5, label: `graph vs float64, ${n} models` });
      }
    }
    // another tau grid: a new cached tau part fed to the same graph
    const short = grid.slice(10, 40);
    assertAllClose(
      emu.predictNormalized(labelsOf(2), short, { engine: 'graph' }),
      emu.predictNormalized(labelsOf(2), short, { engine: 'eager' }),
      { rtol: 1e-5, atol: 1e-5, label: 'short grid' },
    );
  },
);

test.runIf(graphs)(
  'after the weights change and the cache is cleared, the graph computes the new network',
  () => {
    const e = new PinnEmulator(PRESETS.small, norm, DEFAULT_PHYSICS, 9);
    try {
      const labels = labelsOf(2);
      const grid = e.defaultTauGrid();
      const before = e.predictNormalized(labels, grid, { engine: 'graph' });
      const w = e.net.params.get(e.net.params.names().at(-2)!);
      tf.tidy(() => w.assign(tf.mul(w, 1.5)));
      e.clearTauCache();
      const graph = e.predictNormalized(labels, grid, { engine: 'graph' });
      const eager = e.predictNormalized(labels, grid, { engine: 'eager' });
      assertAllClose(graph, eager, { rtol: 1e-5, atol: 1e-5 });
      expect(graph.some((v, i) => Math.abs(v - before[i]) > 1e-3)).toBe(true);
      const tensors = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) e.predictNormalized(labels, grid, { engine: 'graph' });
      expect(tf.memory().numTensors).toBe(tensors);
    } finally {
      e.dispose();
    }
  },
);
