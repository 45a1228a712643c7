import { assertAllClose } from '@stellar-emu/numerics/testing';
import { initBackend, tf } from './backend.js';
import { ParamStore } from './layers.js';
import { createOptimizer, type OptimizerKind } from './optimizers.js';
import { ConstantLr, CosineLr, EarlyStopping, ReduceOnPlateau } from './schedules.js';

beforeAll(async () => {
  await initBackend({ force: 'cpu', quiet: true });
});

/** Float64 reference of the Adam family for a fixed gradient sequence. */
function reference(kind: OptimizerKind, p0: number[], grads: number[][], lr: number, wd: number): number[] {
  const [b1, b2, eps] = [0.9, 0.999, 1e-7];
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, step) => {
    const t = step + 1;
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      if (kind === 'adamax') {
        v[i] = Math.max(b2 * v[i], Math.abs(g[i]));
        p[i] -= (lr / (1 - b1 ** t)) * (m[i] / (v[i] + eps));
      } else {
        v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2;
        const mh = m[i] / (1 - b1 ** t);
        const vh = v[i] / (1 - b2 ** t);
        if (kind === 'adamw') p[i] *= 1 - lr * wd;
        p[i] -= (lr * mh) / (Math.sqrt(vh) + eps);
      }
    }
  });
  return p;
}

describe.each(['adam', 'adamax', 'adamw'] as const)('%s', (kind) => {
  const p0 = [0.5, -1.25, 2.0, 0.001];
  const grads = [
    [0.1, -0.2, 3.0, 1e-4],
    [0.05, 0.4, -1.0, 2e-4],
    [-0.3, 0.1, 0.5, -1e-4],
  ];

  test('three steps match the closed-form update', () => {
    const store = new ParamStore();
    const w = store.add('w', new Float32Array(p0), [4]);
    const opt = createOptimizer(kind, store, { weightDecay: kind === 'adamw' ? 0.1 : 0 });
    for (const g of grads) {
      const gt = tf.tensor1d(g);
      opt.apply({ w: gt }, 0.01);
      gt.dispose();
    }
    assertAllClose(w.dataSync(), reference(kind, p0, grads, 0.01, kind === 'adamw' ? 0.1 : 0), {
      rtol: 2e-6,
      atol: 1e-7,
    });
    store.dispose();
    opt.dispose();
  });

  test('state saves and restores: continuing from a restored state equals continuing directly', () => {
    const run = (restoreAfter: number | null) => {
      const store = new ParamStore();
      const w = store.add('w', new Float32Array(p0), [4]);
      let opt = createOptimizer(kind, store);
      grads.forEach((g, i) => {
        if (restoreAfter === i) {
          const st = opt.getState();
          const saved = store.snapshot();
          opt.dispose();
          store.restore(saved);
          opt = createOptimizer(kind, store);
          opt.setState(st);
          expect(opt.step).toBe(i);
        }
        const gt = tf.tensor1d(g);
        opt.apply({ w: gt }, 0.01);
        gt.dispose();
      });
      const out = Array.from(w.dataSync());
      store.dispose();
      opt.dispose();
      return out;
    };
    expect(run(2)).toEqual(run(null));
  });
});

test('a state of another kind is rejected', () => {
  const store = new ParamStore();
  store.add('w', new Float32Array(2), [2]);
  const a = createOptimizer('adam', store);
  const b = createOptimizer('adamax', store);
  expect(() => b.setState(a.getState())).toThrow(/state is for 'adam'/);
  store.dispose();
});

test('cosine schedule: warm-up, then from baseLr to minLr', () => {
  const s = new CosineLr({ baseLr: 1e-3, minLr: 1e-5, totalSteps: 110, warmupSteps: 10 });
  expect(s.lr(0)).toBeCloseTo(1e-4, 12);
  expect(s.lr(9)).toBeCloseTo(1e-3, 12);
  expect(s.lr(10)).toBeCloseTo(1e-3, 12);
  expect(s.lr(60)).toBeCloseTo(0.5 * (1e-3 + 1e-5), 12);
  expect(s.lr(110)).toBeCloseTo(1e-5, 12);
  expect(new ConstantLr(0.1).lr()).toBe(0.1);
});

test('reduce-on-plateau halves after patience bad epochs and round-trips its state', () => {
  const s = new ReduceOnPlateau({ lr: 1, factor: 0.5, patience: 2 });
  for (const m of [1, 0.5, 0.6, 0.6]) s.onEpochEnd(m);
  expect(s.lr()).toBe(1);
  s.onEpochEnd(0.7);
  expect(s.lr()).toBe(0.5);
  const copy = new ReduceOnPlateau({ lr: 1, factor: 0.5, patience: 2 });
  copy.setState(JSON.parse(JSON.stringify(s.getState())));
  for (const m of [0.9, 0.9, 0.9]) {
    s.onEpochEnd(m);
    copy.onEpochEnd(m);
  }
  expect(copy.lr()).toBe(s.lr());
  expect(s.lr()).toBe(0.25);
});

test('early stopping stops after patience epochs without improvement', () => {
  const es = new EarlyStopping({ patience: 2 });
  expect(es.update(1, 0)).toBe(false);
  expect(es.update(0.5, 1)).toBe(false);
  expect(es.update(0.6, 2)).toBe(false);
  expect(es.update(0.55, 3)).toBe(true);
  expect(es.bestEpoch).toBe(1);
});
