// PINN inference A/B in one process, interleaved (fair under a shared, loaded machine): the previous
// prediction path (GELU value + derivative, unfused layers, one pass over the whole batch) against
// the current one (predictNormalized: folded erf-GELU, fused matMul + bias, 4,096-point passes).
// Usage: node tools/bench/pinn-inference-ab.mjs [batch=1024]   (random weights: timing only)
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { activateWithDerivative, initBackend, tf } from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import { DEFAULT_PHYSICS, PinnEmulator, PRESETS } from '@stellar-emu/pinn';
import { benchNormalization } from './lib.mjs';
await initBackend({ quiet: true });
const N = 72;
const norm = benchNormalization(N);
const emu = new PinnEmulator(PRESETS.paper, norm, DEFAULT_PHYSICS, 1);
const net = emu.net;
const rng = new Rng(1);
const grid = emu.defaultTauGrid();
const B = Number(process.argv[2] ?? 1024);
const labels = Array.from({ length: B }, () => ({
  teffK: 4000 + 20000 * rng.uniform(),
  logg: 1 + 4 * rng.uniform(),
  feh: -2 + 2 * rng.uniform(),
  afe: 0,
}));
const tauPartOld = tf.tidy(() => net.tauPart(tf.tensor2d(emu.normalizeLogTau(grid), [N, 1])));
// The previous implementation (cache on): whole batch in one pass, GELU value + derivative, unfused head.
const oldCache = () => {
  const y = tf.tidy(() => {
    const l = tf.tensor2d(emu.normalizeLabels(labels), [B, 4]);
    const lp = net.labelPart(l);
    const h = lp.shape[1];
    const z1 = tf.reshape(tf.add(tf.expandDims(lp, 1), tf.expandDims(tauPartOld, 0)), [B * N, h]);
    const [a1] = activateWithDerivative(z1, 'gelu');
    return net.head.apply(/** @type {tf.Tensor2D} */ (a1));
  });
  y.dataSync();
  y.dispose();
};
const oldNoCache = () => {
  const y = tf.tidy(() => {
    const l = tf.tensor2d(emu.normalizeLabels(labels), [B, 4]);
    const lRep = /** @type {tf.Tensor2D} */ (tf.reshape(tf.tile(tf.expandDims(l, 1), [1, N, 1]), [B * N, 4]));
    const tRep = tf.tile(tf.tensor2d(emu.normalizeLogTau(grid), [N, 1]), [B, 1]);
    const z1 = tf.add(net.labelPart(lRep), net.tauPart(tRep));
    const [a1] = activateWithDerivative(z1, 'gelu');
    return net.head.apply(/** @type {tf.Tensor2D} */ (a1));
  });
  y.dataSync();
  y.dispose();
};
const newCache = () => emu.predictNormalized(labels, grid, { useTauCache: true, batchSize: B });
const newNoCache = () => emu.predictNormalized(labels, grid, { useTauCache: false, batchSize: B });
const fns = { oldCache, newCache, oldNoCache, newNoCache };
for (const f of Object.values(fns)) f();
/** @type {Record<string, number[]>} */
const times = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
const reps = B === 1 ? 30 : 3;
for (let r = 0; r < reps; r++)
  for (const [k, f] of Object.entries(fns)) {
    const t = performance.now();
    f();
    times[k].push((performance.now() - t) / B);
  }
console.log(
  `batch ${B}, backend ${tf.getBackend()}, load average ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
for (const [k, v] of Object.entries(times)) {
  v.sort((a, b) => a - b);
  console.log(`${k}: median ${v[v.length >> 1].toFixed(3)} min ${v[0].toFixed(3)} ms/model`);
}
