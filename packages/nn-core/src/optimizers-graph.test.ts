// The Adam and AdamW updates as TensorFlow graph calls (tensorflow backend; asserted in CI): the
// same numbers as the eager element-wise loop, a parameter above the group cap updated eagerly
// beside them, optimizer state and tensor count as before.
import { initBackend, tf } from './backend.js';
import { ParamStore } from './layers.js';
import { createOptimizer, GRAPH_ADAM_MAX_ELEMENTS } from './optimizers.js';
import { requireProductionBackendInCi } from './testing.js';
import { Rng } from '@stellar-emu/numerics';

await initBackend({ quiet: true });

// in CI the backend is tensorflow (else this throws), so the graph tests below run there
const graphs = requireProductionBackendInCi();

/** Parameters with deterministic values (a cheap hash, fast for millions of elements). */
function store(shapes: Record<string, number[]>): ParamStore {
  const s = new ParamStore();
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    s.add(
      name,
      new Float32Array(n).map((_, i) => Math.sin(i * 12.9898 + name.length)),
      shape,
    );
  }
  return s;
}

describe.runIf(graphs).each(['adam', 'adamw'] as const)('%s', (kind) => {
  test('graph groups and the eager loop give bitwise the same weights and moments over 6 steps', () => {
    // small parameters and c in one graph group, d in a second, e above the cap (eager in both)
    const shapes: Record<string, number[]> = {
      a: [3, 5],
      b: [7],
      c: [GRAPH_ADAM_MAX_ELEMENTS / 2 + 1],
      d: [GRAPH_ADAM_MAX_ELEMENTS / 2 + 1],
      e: [GRAPH_ADAM_MAX_ELEMENTS + 8],
    };
    const graphParams = store(shapes);
    const eagerParams = store(shapes);
    const a0 = graphParams.get('a').dataSync()[0];
    const hyper = kind === 'adamw' ? { weightDecay: 0.05 } : {};
    const graph = createOptimizer(kind, graphParams, hyper);
    const eager = createOptimizer(kind, eagerParams, hyper, { graph: false });
    expect(graph.graphGroupNames()).toEqual([['a', 'b', 'c'], ['d']]);
    expect(eager.graphGroupNames()).toEqual([]);
    const rng = new Rng(7);
    let tensors = -1;
    for (let step = 0; step < 6; step++) {
      // gradients from native ops (tf.randomNormal draws in JavaScript: slow for millions)
      const grads = Object.entries(shapes).map(([n, shape]) => {
        const size = shape.reduce((a, b) => a * b, 1);
        const phase = rng.uniform(0, 100);
        const g = tf.tidy(() =>
          tf
            .linspace(phase, phase + 7 * size, size)
            .sin()
            .mul(0.1)
            .reshape(shape),
        );
        return [n, g] as const;
      });
      const lr = 1e-3 * (1 + step);
      const copies = () => Object.fromEntries(grads.map(([n, g]) => [n, tf.clone(g)]));
      graph.apply(copies(), lr, { releaseGradients: true });
      eager.apply(copies(), lr, { releaseGradients: true });
      for (const [, g] of grads) g.dispose();
      if (step === 1) tensors = tf.memory().numTensors;
      if (step > 1) expect(tf.memory().numTensors).toBe(tensors);
    }
    const gs = graph.getState();
    const es = eager.getState();
    expect(gs.step).toBe(6);
    for (const name of Object.keys(shapes)) {
      const gp = graphParams.get(name).dataSync();
      const ep = eagerParams.get(name).dataSync();
      expect(Buffer.compare(Buffer.from(gp.buffer), Buffer.from(ep.buffer)), `${name}: weights`).toBe(0);
      for (const slot of ['m', 'v']) {
        const a = gs.slots.get(`${name}/${slot}`)!.data;
        const b = es.slots.get(`${name}/${slot}`)!.data;
        expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer)), `${name}/${slot}`).toBe(0);
      }
    }
    // the weights did move
    expect(graphParams.get('a').dataSync()[0]).not.toBe(a0);
    graph.dispose();
    eager.dispose();
    graphParams.dispose();
    eagerParams.dispose();
  });
});
