import { Rng } from '@stellar-emu/numerics';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { initBackend, tf } from './backend.js';
import { DenseStack, gelu, geluDerivative, ParamStore } from './layers.js';

beforeAll(async () => {
  await initBackend({ force: 'cpu', quiet: true });
});

test('seeded initialisation is reproducible and seed-dependent', () => {
  const make = (seed: number) => {
    const s = new ParamStore();
    new DenseStack(s, 'net', 3, { widths: [8, 2], activation: 'gelu' }, new Rng(seed));
    const w = Array.from(s.get('net.0.W').dataSync());
    s.dispose();
    return w;
  };
  expect(make(1)).toEqual(make(1));
  expect(make(1)).not.toEqual(make(2));
});

test('erf-GELU derivative matches finite differences of gelu', () => {
  const xs = [-4, -2.5, -1, -0.3, 0, 0.2, 1, 2.5, 4];
  const h = 1e-2;
  const [d, fp, fm] = tf.tidy(() => {
    const x = tf.tensor1d(xs);
    return [geluDerivative(x), gelu(tf.add(x, h)), gelu(tf.sub(x, h))];
  });
  const fd = Array.from(fp.dataSync()).map((v, i) => (v - fm.dataSync()[i]) / (2 * h));
  assertAllClose(d.dataSync(), fd, { rtol: 1e-3, atol: 1e-4 });
  tf.dispose([d, fp, fm]);
});

test.each([
  ['gelu', false],
  ['sigmoid', false],
  ['relu', false],
  ['gelu', true],
] as const)(
  'forward-mode tangent of a %s stack (LayerNorm %s) matches central differences',
  (activation, layerNorm) => {
    const store = new ParamStore();
    const net = new DenseStack(
      store,
      'n',
      3,
      { widths: [16, 16, 4], activation, lastActivation: 'linear', layerNorm },
      new Rng(7),
    );
    const rng = new Rng(11);
    const x0 = Array.from({ length: 5 * 3 }, () => rng.normal());
    const dir = Array.from({ length: 5 * 3 }, () => rng.normal());
    const h = 1e-2;
    const [dy, yp, ym] = tf.tidy(() => {
      const x = tf.tensor2d(x0, [5, 3]);
      const dx = tf.tensor2d(dir, [5, 3]);
      const [, t] = net.applyWithTangent(x, dx);
      return [
        t,
        net.apply(tf.add(x, tf.mul(dx, h)) as tf.Tensor2D),
        net.apply(tf.sub(x, tf.mul(dx, h)) as tf.Tensor2D),
      ];
    });
    const fd = Array.from(yp.dataSync()).map((v, i) => (v - ym.dataSync()[i]) / (2 * h));
    // ReLU kinks make the central difference inexact where a unit switches within +-h: looser.
    assertAllClose(dy.dataSync(), fd, {
      rtol: activation === 'relu' ? 5e-2 : 5e-3,
      atol: activation === 'relu' ? 2e-2 : 2e-3,
    });
    tf.dispose([dy, yp, ym]);
    store.dispose();
  },
);

test('gradients of a loss containing the tangent (second-order in x) work through erf-GELU', () => {
  const store = new ParamStore();
  const net = new DenseStack(
    store,
    'n',
    1,
    { widths: [8, 1], activation: 'gelu', lastActivation: 'linear' },
    new Rng(5),
  );
  const vars = store.names().map((n) => store.get(n));
  const { value, grads } = tf.variableGrads(() => {
    const x = tf.tensor2d([[0.1], [0.5], [-0.7]]);
    const [, dy] = net.applyWithTangent(x, tf.onesLike(x) as tf.Tensor2D);
    return tf.mean(tf.square(tf.sub(dy, 1))) as tf.Scalar;
  }, vars);
  const norms = Object.values(grads).map((g) => tf.norm(g).dataSync()[0]);
  expect(norms.every((n) => Number.isFinite(n))).toBe(true);
  expect(norms.some((n) => n > 0)).toBe(true);
  tf.dispose([value, ...Object.values(grads)]);
  store.dispose();
});
