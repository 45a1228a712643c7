// Generation as one TensorFlow graph call (SpectrumCvae.generateFlux) on the production backend
// (tensorflow in CI, asserted there): the same flux as the eager decoder, also after the weights change.
import { initBackend, requireProductionBackendInCi, tf } from '@stellar-emu/nn-core';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { makeCvaeConfig } from './config.js';
import { SpectrumCvae } from './model.js';

await initBackend({ quiet: true });

// in CI the backend is tensorflow (else this throws), so the graph tests below run there
const graphs = requireProductionBackendInCi();

test.runIf(graphs)(
  'graph and eager decoders give the same flux (rtol 1e-5, atol 1e-6), also after the weights change',
  () => {
    const model = new SpectrumCvae(makeCvaeConfig('small', { nPixels: 300, labelColumns: ['a', 'b', 'c'] }));
    try {
      const z = tf.randomNormal([7, model.config.latentDim], 0, 1, 'float32', 3) as tf.Tensor2D;
      const c = tf.randomUniform([7, 3], 0, 1, 'float32', 4) as tf.Tensor2D;
      const eager = () => tf.tidy(() => model.unscaleFlux(model.decode(z, c)));
      const check = (label: string) => {
        const g = model.generateFlux(z, c);
        const e = eager();
        expect(g.shape).toEqual([7, 300]);
        assertAllClose(g.dataSync(), e.dataSync(), { rtol: 1e-5, atol: 1e-6, label });
        const out = g.dataSync();
        g.dispose();
        e.dispose();
        return out;
      };
      const before = check('initial weights');
      const W = (model.decoder.layers.at(-1) as unknown as { W: tf.Variable }).W;
      tf.tidy(() => W.assign(tf.mul(W, -2)));
      const after = check('changed weights');
      expect(after.some((v, i) => Math.abs(v - before[i]) > 1e-3)).toBe(true);
      const tensors = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) model.generateFlux(z, c).dispose();
      expect(tf.memory().numTensors).toBe(tensors);
      z.dispose();
      c.dispose();
    } finally {
      model.dispose();
    }
  },
);
