import { initBackend } from '@stellar-emu/nn-core';
import { evaluateCvae, loadCvaeModel } from '@stellar-emu/cvae';
await initBackend({ quiet: true });
const loaded = await loadCvaeModel('/tmp/cvae-acc/model-small');
for (const z of ['zero', 'sample']) {
  const m = await evaluateCvae(loaded, '/tmp/cvae-acc/synthetic-20000', {
    split: 'val',
    maxSpectra: 200,
    z,
    seed: 1,
  });
  console.log(z, 'epoch', loaded.meta.training.bestEpoch, JSON.stringify(m.summary), m.seconds.toFixed(1));
}
