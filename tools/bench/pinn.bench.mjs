// Kurucz-a1 PINN: inference ms/model (tau cache on/off, batch 1 and 1024; graph and eager engines) against this
// process's matmul peak, training ms/step with and without the physics term (graph gradients and autodiff, then
// nn-core's Adam, as trainLoop runs them), peak RSS per phase and RSS trend per step.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  applyGradients,
  createOptimizer,
  currentBackend,
  graphExecutionAvailable,
  GraphBuilder,
  initBackend,
  tf,
  trainStep,
} from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import { DEFAULT_PHYSICS, flopsPerPoint, PinnEmulator, PRESETS, pointSource } from '@stellar-emu/pinn';
import { benchNormalization, memoryPhase, rssMiB, runSuite, timeIt } from './lib.mjs';

/** @typedef {import('@stellar-emu/pinn').InferenceEngine} InferenceEngine */
/** @typedef {keyof typeof PRESETS} PinnPresetName a preset of the pinn package (the keys of PRESETS) */

const N_DEPTH = 72;

/**
 * `n` random labels in the PINN box.
 * @param {number} n
 * @param {Rng} rng
 */
function labelsOf(n, rng) {
  return Array.from({ length: n }, () => ({
    teffK: 4000 + 20000 * rng.uniform(),
    logg: 1 + 4 * rng.uniform(),
    feh: -2 + 2 * rng.uniform(),
    afe: 0,
  }));
}

/**
 * `n` synthetic models of N_DEPTH layers (timing only: the values do not matter).
 * @param {number} n
 * @param {Rng} rng
 */
function syntheticModels(n, rng) {
  return labelsOf(n, rng).map((l) => {
    const tau = Array.from({ length: N_DEPTH }, (_, i) => 10 ** (-6 + (8 * i) / (N_DEPTH - 1)));
    const arr = () => tau.map((t) => 1 + t);
    return {
      ...l,
      nLayers: N_DEPTH,
      tauRosseland: tau,
      rhox: arr(),
      temperature: arr(),
      pressure: arr(),
      xne: arr(),
      abross: arr(),
      accrad: arr(),
    };
  });
}

await runSuite('pinn', async (record) => {
  await initBackend({ quiet: true });
  const selected = currentBackend();
  if (!selected) throw new Error('initBackend returned but currentBackend() reports no backend');
  const backend = selected.name;
  record(`backend=${backend}`, 1, 'flag');
  // The machine is shared: the load average says how much of it the figures below had.
  record('load average (1 min) at start', os.loadavg()[0], 'procs');
  const rng = new Rng(1);
  const norm = benchNormalization();
  const arch = PRESETS.paper;
  const emu = new PinnEmulator(arch, norm, DEFAULT_PHYSICS, 1);
  const f = flopsPerPoint(arch);
  const flopsNoCache = N_DEPTH * (f.labelPart + f.tauPart + f.rest);
  const flopsCache = f.labelPart + N_DEPTH * f.rest;
  record('paper flops/model, no cache', flopsNoCache / 1e6, 'MFLOP');
  record('paper flops/model, tau cache', flopsCache / 1e6, 'MFLOP');
  const grid = emu.defaultTauGrid();
  record(`tau-cache inference engine: ${emu.inferenceEngine()}`, 1, 'flag');
  // The float32 matmul peak of this process (the ceiling of the inference figures below): the
  // better of tfjs's eager matMul and a MatMul in a TensorFlow graph, as the inference runs it.
  const a = tf.randomNormal([2560, 1024]);
  const b = tf.randomNormal([1024, 1024]);
  const eagerMm = await timeIt(
    () => {
      const c = tf.matMul(a, b);
      const sum = tf.sum(c); // read one number, not the 10 MB product
      sum.dataSync();
      c.dispose();
      sum.dispose();
    },
    { repeats: 10, warmup: 3 },
  );
  let graphMm = null;
  if (graphExecutionAvailable()) {
    const g = new GraphBuilder();
    const x = g.placeholder('x', [-1, 1024]);
    const mm = g.compile({ s: g.sum(g.matMul(x, g.constantOf(b)), [0, 1]) });
    graphMm = await timeIt(
      () => {
        const [sum] = mm.run([a]);
        sum.dataSync();
        sum.dispose();
      },
      { repeats: 10, warmup: 3 },
    );
    mm.dispose();
  }
  a.dispose();
  b.dispose();
  const mmFlop = 2 * 2560 * 1024 * 1024;
  record('matmul GFLOP/s (2560x1024x1024, eager)', mmFlop / eagerMm.medianS / 1e9, 'GFLOP/s');
  if (graphMm) record('matmul GFLOP/s (2560x1024x1024, graph)', mmFlop / graphMm.medianS / 1e9, 'GFLOP/s');
  const peak = mmFlop / Math.min(eagerMm.medianS, graphMm?.medianS ?? Infinity) / 1e9;
  record(
    'matmul peak GFLOP/s (2560x1024x1024, this process)',
    peak,
    'GFLOP/s',
    'the better of eager and graph',
  );
  /** @type {[string, number][]} */
  const shares = [];
  await memoryPhase(record, 'predict paper', async () => {
    for (const batch of [1, 1024]) {
      const labels = labelsOf(batch, rng);
      // the tau cache on runs on the default engine (a TensorFlow graph where the backend has one)
      // and, for comparison, on tfjs's eager ops
      /** @type {{ cache: boolean; engine: InferenceEngine; name: string }[]} */
      const runs = [
        { cache: false, engine: 'eager', name: 'tau cache off' },
        { cache: true, engine: emu.inferenceEngine(), name: 'tau cache on' },
        ...(emu.inferenceEngine() === 'graph'
          ? [{ cache: true, engine: /** @type {InferenceEngine} */ ('eager'), name: 'tau cache on, eager' }]
          : []),
      ];
      for (const { cache, engine, name } of runs) {
        emu.clearTauCache();
        // Steady state: the warm-up builds the inference weights (and graph) and the tau cache
        // (cache on) and lets TensorFlow allocate its buffers; only the repeats are timed.
        const t = await timeIt(
          () => emu.predictNormalized(labels, grid, { useTauCache: cache, batchSize: batch, engine }),
          { repeats: batch === 1 ? 50 : 5, warmup: batch === 1 ? 5 : 2 },
        );
        const msPerModel = (t.medianS * 1000) / batch;
        record(`paper predict ms/model, batch ${batch}, ${name}`, msPerModel, 'ms/model', `engine ${engine}`);
        const gflops = (cache ? flopsCache : flopsNoCache) / (msPerModel / 1000) / 1e9;
        record(`paper predict GFLOP/s, batch ${batch}, ${name}`, gflops, 'GFLOP/s');
        shares.push([`paper predict share of the matmul peak, batch ${batch}, ${name}`, gflops / peak]);
      }
    }
  });
  for (const [name, share] of shares) record(name, share, 'ratio');
  emu.dispose();

  // Training throughput: one step = 1024 points (about 14 models of 72 layers), as trainLoop runs
  // it: graph gradients where the emulator has them (tfjs-node), else autodiff of the loss, then
  // nn-core's Adam; and autodiff, for comparison. Memory per preset,
  // and the RSS trend per step.
  for (const preset of /** @type {PinnPresetName[]} */ (['small', 'paper'])) {
    await memoryPhase(record, `train ${preset}`, async () => {
      for (const [alpha, forceAutodiff] of /** @type {[number, boolean][]} */ ([
        [0, false],
        [0, true],
        [0.03, false],
        [0.03, true],
      ])) {
        const e = new PinnEmulator(PRESETS[preset], norm, { ...DEFAULT_PHYSICS, alpha }, 1);
        const src = pointSource(syntheticModels(64, rng), norm, DEFAULT_PHYSICS);
        const opt = createOptimizer('adam', e.net.params);
        const graphGradients = forceAutodiff ? null : e.graphGradients();
        if (forceAutodiff && !e.graphGradients()) {
          opt.dispose();
          e.dispose();
          continue; // nothing to compare with
        }
        const how = graphGradients ? 'graph' : 'autodiff';
        const label = `alpha=${alpha}${forceAutodiff ? ', autodiff' : ''}`;
        const bs = 1024;
        const idx = new Rng(2).permutation(src.numExamples).subarray(0, bs);
        /** @type {number[]} */
        const rss = [];
        const step = () => {
          const b = src.batch(idx);
          const parts = graphGradients
            ? applyGradients(opt, graphGradients(b), 1e-3)
            : trainStep(e.net.params, opt, () => e.loss(b), 1e-3);
          parts.total.dataSync();
          for (const t of [...Object.values(parts), ...Object.values(b)]) t.dispose();
          rss.push(rssMiB());
        };
        const steps = preset === 'paper' ? 5 : 20;
        const t = await timeIt(
          async () => {
            for (let i = 0; i < steps; i++) step();
          },
          { repeats: 3, warmup: 1 },
        );
        const pointsPerS = (steps * bs) / t.medianS;
        const fp = flopsPerPoint(PRESETS[preset]);
        const fwd = fp.labelPart + fp.tauPart + fp.rest;
        record(
          `${preset} train ms/step (1024 points), ${label}`,
          (t.medianS * 1000) / steps,
          'ms/step',
          `gradients ${how}`,
        );
        record(`${preset} train models/s (72 layers), ${label}`, pointsPerS / N_DEPTH, 'models/s');
        record(
          `${preset} train GFLOP/s (3x forward), ${label}`,
          (pointsPerS * 3 * fwd * (alpha > 0 ? 2 : 1)) / 1e9,
          'GFLOP/s',
          alpha > 0 ? 'physics counted as 2x forward (value + tangent)' : undefined,
        );
        const timed = rss.slice(steps); // after the warm-up repeat
        const first = timed[0];
        const last = timed[timed.length - 1];
        record(
          `${preset} train RSS trend, ${label}`,
          +((last - first) / (timed.length - 1)).toFixed(3),
          'MiB/step',
          `RSS ${first.toFixed(0)} -> ${last.toFixed(0)} MiB over ${timed.length} steps after warm-up`,
        );
        opt.dispose();
        e.dispose();
      }
    });
  }
  record('load average (1 min) at end', os.loadavg()[0], 'procs');
});
