// param-nn: streaming PCA fit time against N (19,000 pixels, k = 25, 3 passes), recovery-network training samples/s, peak RSS per phase.
//
// The spectra are streamed, never held: 100,000 x 19,000 float32 would be 7.6 GB. 64 synthetic
// spectra of the default grid are made once with grid-io's generator, and mixed into a pool of
// 1,024 spectra s_a + w (s_b - s_a) (78 MB); spectrum i of a pass is pool entry hash(i), copied
// into the block. So every pass sees the same data and making a block costs one memcpy per
// spectrum: the times measure the PCA (host shift, upload, two matmuls per block), not the
// generator. The PCA's cost does not depend on the values. The time of one bare pass of the
// source is reported too.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { memoryPhase, runSuite } from './lib.mjs';

const { initBackend, tf } = await import('@stellar-emu/nn-core');
const { Rng } = await import('@stellar-emu/numerics');
const { fitPca, functionSource, trainRecovery, PcaModel, RECOVERY_PRESETS } =
  await import('@stellar-emu/param-nn');
const { synthesizeFlux, sampleLabels, CVAE_LABEL_RANGES, SPECTRUM_DEFAULT_GRID } =
  await import('@stellar-emu/grid-io');

/** @typedef {import('@stellar-emu/param-nn').RecoveryPreset} RecoveryPreset */

const SIZES = (process.env.PARAM_NN_BENCH_SIZES ?? '10000,50000,100000').split(',').map(Number);
const D = SPECTRUM_DEFAULT_GRID.n;
const BASE = 64;

await runSuite('param-nn', async (record) => {
  const info = await initBackend({ quiet: true });
  const rng = new Rng(7);
  const base = [];
  for (let b = 0; b < BASE; b++)
    base.push(Float32Array.from(synthesizeFlux(sampleLabels(rng, CVAE_LABEL_RANGES))));

  const POOL = 1024;
  /** @type {Float32Array[]} */
  const pool = [];
  const pr = new Rng(11);
  for (let p = 0; p < POOL; p++) {
    const a = base[pr.below(BASE)];
    const b = base[pr.below(BASE)];
    const w = pr.uniform();
    pool.push(Float32Array.from(a, (v, j) => v + w * (b[j] - v)));
  }
  /** @param {number} n */
  const source = (n) =>
    functionSource({
      numSpectra: n,
      numPixels: D,
      fill(start, rows, flux) {
        for (let i = 0; i < rows; i++) flux.set(pool[new Rng(start + i).below(POOL)], i * D);
      },
    });

  // One bare pass of the source (generation only), per spectrum.
  {
    const n = 5000;
    const t0 = performance.now();
    let rows = 0;
    for await (const blk of source(n).blocks(1024)) rows += blk.rows;
    const s = (performance.now() - t0) / 1000;
    record(
      'source pass [s per 1e5 spectra]',
      +((s / rows) * 1e5).toFixed(2),
      's',
      `streamed spectra (pool copy), ${D} pixels; included 3x in each PCA fit time`,
    );
  }

  /** @type {[number, number][]} */
  const times = [];
  for (const n of SIZES) {
    const t0 = performance.now();
    const { model, report } = await fitPca(source(n), { components: 25, seed: 1 });
    const s = (performance.now() - t0) / 1000;
    model.dispose();
    times.push([n, s]);
    record(
      `PCA fit N=${n}`,
      +s.toFixed(2),
      's',
      `${D} pixels, k=25, subspace ${report.subspaceDim}, ${report.passes} passes, blocks of ${report.blockRows}, cap ${(report.memoryCapBytes / 2 ** 20).toFixed(0)} MiB, data ${((n * D * 4) / 2 ** 30).toFixed(2)} GiB float32 streamed; rel. error at k=25 ${report.relativeErrorByK[24].toExponential(2)}`,
    );
    record(`PCA throughput N=${n}`, +(n / s).toFixed(0), 'spectra/s', `${report.passes} passes`);
    record(`PCA peak tensor memory N=${n}`, +(report.measuredPeakTensorBytes / 2 ** 20).toFixed(1), 'MiB');
  }
  if (times.length >= 2) {
    const [n0, s0] = times[0];
    const [n1, s1] = /** @type {[number, number]} */ (times.at(-1));
    record(
      'PCA scaling exponent (log t / log N)',
      +(Math.log(s1 / s0) / Math.log(n1 / n0)).toFixed(3),
      '1',
      `from N=${n0} to N=${n1}: 1 = linear in N`,
    );
  }

  // Recovery network: training samples/s with batch 1024 on k = 25 inputs (random data: the cost
  // does not depend on the values).
  const dir = await mkdtemp(join(tmpdir(), 'param-nn-bench-'));
  try {
    for (const preset of /** @type {RecoveryPreset[]} */ (['paper', 'small'])) {
      const k = 25;
      const rows = preset === 'paper' ? 16384 : 65536;
      const r = new Rng(3);
      const coeffs = Float32Array.from({ length: rows * k }, () => r.normal());
      const labels = Float64Array.from({ length: rows * 6 }, () => r.uniform());
      const pca = new PcaModel(
        new Float32Array(D),
        new Float32Array(D * k),
        D,
        k,
        new Float64Array(k).fill(1),
        k,
      );
      const names = ['teffK', 'logg', 'vsiniKms', 'mh', 'vmicKms', 'resolution'];
      /** @type {[number, number][]} */
      const trend = [];
      const t0 = performance.now();
      const res = await memoryPhase(record, `recovery training ${preset}`, () =>
        trainRecovery({
          pca,
          labelNames: names,
          train: { coeffs, labels, rows },
          outDir: join(dir, preset),
          preset,
          epochs: 2,
          batchSize: 1024,
          seed: 1,
          earlyStoppingPatience: 0,
          onProgress: (p) => {
            if (p.phase === 'step' && p.epoch > 0) trend.push([p.globalStep, p.rssMiB]);
          },
        }),
      );
      if (trend.length >= 2) {
        const [[s0, r0], [s1, r1]] = [trend[0], /** @type {[number, number]} */ (trend.at(-1))];
        record(
          `recovery training RSS trend [${preset}]`,
          +((r1 - r0) / (s1 - s0)).toFixed(3),
          'MiB/step',
          `RSS ${r0} -> ${r1} MiB over steps ${s0}..${s1} (second epoch)`,
        );
      }
      const s = (performance.now() - t0) / 1000;
      const params = res.network.params.size();
      res.network.dispose();
      record(
        `recovery training [${preset}]`,
        +res.samplesPerSec.toFixed(0),
        'samples/s',
        `k=${k} -> ${RECOVERY_PRESETS[preset].join(' -> ')} -> 6, ${params} parameters, batch 1024, Adamax, 2 epochs of ${rows} (incl. epoch checkpoints: ${((2 * rows) / s).toFixed(0)} samples/s overall), backend ${info.name}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  record('tensors left', tf.memory().numTensors, 'tensors');
});
