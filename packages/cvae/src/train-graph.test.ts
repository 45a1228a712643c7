// The CVAE training step as one TensorFlow graph (train-graph.ts) on the production backend
// (tensorflow in CI, asserted there): every loss part and gradient equal tfjs autodiff of
// `SpectrumCvae.loss`, with and without a pixel mask and the log-variance bound.
import { initBackend, requireProductionBackendInCi, tf } from '@stellar-emu/nn-core';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { makeCvaeConfig } from './config.js';
import { SpectrumCvae } from './model.js';
import { CvaeLossGradients } from './train-graph.js';

await initBackend({ quiet: true });

// in CI the backend is tensorflow (else this throws), so the graph tests below run there
const graphs = requireProductionBackendInCi();

const cases = [
  { masked: false, logvarBound: 4 as number | null, beta: 0.7 },
  { masked: true, logvarBound: 4 as number | null, beta: 1 },
  { masked: false, logvarBound: null, beta: 0.2 },
];

describe.runIf(graphs).each(cases)('mask $masked, bound $logvarBound, beta $beta', (k) => {
  test('loss parts and gradients equal autodiff (rtol 1e-4, atol 1e-5 x the largest |gradient|)', () => {
    const model = new SpectrumCvae(
      makeCvaeConfig(
        'small',
        { nPixels: 240, labelColumns: ['a', 'b', 'c'] },
        { logvarBound: k.logvarBound },
      ),
    );
    expect(model.config.logvarBound).toBe(k.logvarBound);
    const B = 9;
    const d = model.config.latentDim;
    const batch: Record<string, tf.Tensor> = {
      flux: tf.randomUniform([B, 240], 0.2, 1.05, 'float32', 1),
      labels: tf.randomUniform([B, 3], 0, 1, 'float32', 2),
      eps: tf.randomNormal([B, d], 0, 1, 'float32', 3),
    };
    if (k.masked)
      batch.mask = tf.cast(tf.greater(tf.randomUniform([B, 240], 0, 1, 'float32', 4), 0.2), 'float32');
    // a step where the warm-up gives this beta
    const step = Math.round(k.beta * model.config.klWarmupSteps);
    const beta = model.betaAt(step);
    const names = model.params.names();
    const vars = names.map((n) => model.params.get(n));
    let eager: Record<string, tf.Scalar> = {};
    const auto = tf.variableGrads(() => {
      const r = model.loss(batch, step);
      eager = Object.fromEntries(Object.entries(r.parts ?? {}).map(([n, t]) => [n, tf.keep(t)]));
      return r.total;
    }, vars);
    const graph = new CvaeLossGradients(model);
    const r = graph.run(batch, beta);
    assertAllClose([r.parts.total.dataSync()[0]], [auto.value.dataSync()[0]], { rtol: 1e-5, label: 'total' });
    for (const [n, t] of Object.entries(eager))
      assertAllClose([r.parts[n].dataSync()[0]], [t.dataSync()[0]], { rtol: 1e-5, atol: 1e-8, label: n });
    for (const [i, n] of names.entries()) {
      const want = auto.grads[vars[i].name].dataSync() as Float32Array;
      const scale = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(scale, n).toBeGreaterThan(0);
      assertAllClose(r.grads[n].dataSync(), want, { rtol: 1e-4, atol: 1e-5 * scale, label: n });
    }
    graph.dispose();
    model.dispose();
  });
});
