// ATLAS9 acceptance training run: paper preset, native backend, wall-clock budget; epochs sized from a step-time probe.
// Usage: node packages/pinn/scripts/atlas9-train.mjs <dataset> <model-dir> [--alpha 0.03] [--budget-min 55] [--epochs N] [--lr 1e-3]
import { performance } from 'node:perf_hooks';
import { initBackend, tf } from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import {
  DEFAULT_PHYSICS,
  PinnEmulator,
  PRESETS,
  readAtmosphereSplits,
  computeNormalization,
  pointSource,
  trainPinnOnDataset,
} from '@stellar-emu/pinn';

const [datasetDir, outDir, ...rest] = process.argv.slice(2);
const arg = (name, def) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? Number(rest[i + 1]) : def;
};
const alpha = arg('alpha', 0.03);
const budgetS = arg('budget-min', 55) * 60;
const lr = arg('lr', 1e-3);
const batchSize = arg('batch', 1024);
const t0 = performance.now();
const backend = await initBackend();
const log = (msg) => process.stdout.write(`[${((performance.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);

let epochs = arg('epochs', 0);
if (!epochs) {
  // Probe: seconds per training step of this preset and alpha on real batches.
  const { models } = await readAtmosphereSplits(datasetDir, ['train']);
  const train = models.get('train');
  const norm = computeNormalization(train);
  const src = pointSource(train, norm, DEFAULT_PHYSICS);
  const emu = new PinnEmulator(PRESETS.paper, norm, { ...DEFAULT_PHYSICS, alpha }, 1);
  const vars = emu.net.params.names().map((n) => emu.net.params.get(n));
  const perm = new Rng(1).permutation(src.numExamples);
  const step = (k) => {
    const b = src.batch(perm.subarray(k * batchSize, (k + 1) * batchSize));
    const g = tf.tidy(() => tf.variableGrads(() => emu.loss(b).total, vars));
    g.value.dataSync();
    tf.dispose([g.value, ...Object.values(g.grads), ...Object.values(b)]);
  };
  step(0);
  const tp = performance.now();
  const n = 6;
  for (let k = 1; k <= n; k++) step(k);
  const stepS = (performance.now() - tp) / 1000 / n;
  emu.dispose();
  const stepsPerEpoch = Math.ceil(src.numExamples / batchSize);
  // Optimizer update and validation add ~15 %; keep 10 % margin for load changes.
  const epochS = stepsPerEpoch * stepS * 1.15;
  const left = budgetS - (performance.now() - t0) / 1000 - 60;
  epochs = Math.max(1, Math.floor((0.9 * left) / epochS));
  log(
    `probe: ${stepS.toFixed(3)} s/step (batch ${batchSize}), ${stepsPerEpoch} steps/epoch, ~${epochS.toFixed(0)} s/epoch -> ${epochs} epochs`,
  );
}
log(`backend ${backend.name}; alpha ${alpha}; epochs ${epochs}; lr ${lr}; budget ${budgetS} s`);
const signal = AbortSignal.timeout(
  Math.round(Math.max(60, budgetS - (performance.now() - t0) / 1000) * 1000),
);
const r = await trainPinnOnDataset({
  datasetDir,
  outDir,
  preset: 'paper',
  epochs,
  seed: 0,
  alpha,
  batchSize,
  learningRate: lr,
  resume: rest.includes('--resume'),
  signal,
  reportEverySteps: 100,
  onProgress: (p) => {
    if (p.phase === 'step')
      log(
        `epoch ${p.epoch} step ${p.stepInEpoch}/${p.stepsPerEpoch} loss ${JSON.stringify(p.losses)} lr ${p.lr.toExponential(2)} ${p.samplesPerSec.toFixed(0)} pts/s eta ${p.etaSeconds?.toFixed(0)} s`,
      );
    if (p.phase === 'epoch')
      log(
        `epoch ${p.epoch} done: train ${p.losses.total?.toExponential(3)} val ${p.valLoss?.toExponential(3)}`,
      );
  },
});
log(`result ${JSON.stringify({ ...r, history: r.history.length })}`);
log(`total wall time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
