// CVAE benchmark: generated spectra/s at batch 1 and 1024 for the `paper` and `small` presets
// (decoder at random labels, z ~ N(0, I)), against the grid-io synthetic spectrum generator in the
// same run; training spectra/s (Parquet-streamed, batch 512) for both presets; read-path decode
// rate of the out-of-core source; peak RSS. Prints one JSON object.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { syntheticSpectra, writeSpectrumDataset, SPECTRUM_DEFAULT_GRID } from '@stellar-emu/grid-io';
import { initBackend } from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import { CVAE_PRESETS, SpectrumCvae, generateSpectra, makeCvaeConfig, trainCvae } from '@stellar-emu/cvae';
import { memoryPhase, runSuite } from './lib.mjs';

/** @typedef {import('@stellar-emu/cvae').CvaePresetName} CvaePresetName */
/** @typedef {import('@stellar-emu/cvae').LoadedCvae} LoadedCvae */
/** @typedef {import('@stellar-emu/cvae').CvaeModelJson} CvaeModelJson */

const N = SPECTRUM_DEFAULT_GRID.n;
const LABELS = ['teff_k', 'logg', 'vsini_kms', 'mh', 'vmic_kms', 'resolution'];
const KEYS = ['teffK', 'logg', 'vsiniKms', 'mh', 'vmicKms', 'resolution'];
const BOX = [
  [4000, 11000],
  [2, 5],
  [0, 300],
  [-1.5, 1.5],
  [0, 4],
  [1000, 115000],
];
const quick = process.env.CVAE_BENCH_QUICK === '1';

/**
 * A model with random weights wrapped as a loaded model (generation speed does not depend on the weights).
 * @param {CvaePresetName} preset
 * @returns {LoadedCvae}
 */
function randomModel(preset) {
  const config = makeCvaeConfig(preset, { nPixels: N, labelColumns: LABELS });
  const model = new SpectrumCvae(config);
  const labels = LABELS.map((column, j) => ({
    column,
    key: KEYS[j],
    min: BOX[j][0],
    max: BOX[j][1],
    rangeMin: BOX[j][0],
    rangeMax: BOX[j][1],
  }));
  /** @type {CvaeModelJson} */
  const meta = {
    format: 'stellar-emu-cvae/1',
    createdAt: '',
    config,
    labels,
    wavelength: { startAngstrom: 4450, stepAngstrom: 0.05, nPixels: N },
    weightsFile: '',
    training: {},
  };
  return { dir: '', meta, model };
}

/**
 * `n` label rows of 6 columns, uniform in BOX.
 * @param {number} n
 * @param {number} seed
 */
function randomLabels(n, seed) {
  const rng = new Rng(seed);
  const out = new Float64Array(n * 6);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < 6; j++) out[i * 6 + j] = BOX[j][0] + (BOX[j][1] - BOX[j][0]) * rng.uniform();
  return out;
}

/**
 * Spectra per second of `generateSpectra` at one batch size (warm-up call first, then >= minSeconds of calls).
 * @param {LoadedCvae} loaded
 * @param {number} batch
 * @param {number} minSeconds
 */
async function genRate(loaded, batch, minSeconds) {
  const labels = randomLabels(batch, 7);
  await generateSpectra(loaded, labels, { seed: 1, batchSize: batch });
  let n = 0;
  const t0 = performance.now();
  do {
    await generateSpectra(loaded, labels, { seed: n, batchSize: batch });
    n += batch;
  } while (performance.now() - t0 < minSeconds * 1000);
  return n / ((performance.now() - t0) / 1000);
}

await runSuite('cvae', async (record) => {
  const info = await initBackend({ quiet: true });
  record(
    `oneDNN ${info.onednn ? 'on' : 'off'}`,
    1,
    'flag',
    'TF_ENABLE_ONEDNN_OPTS=0|1 measures the other way (nn-core README, Memory)',
  );
  const work = await mkdtemp(join(tmpdir(), 'cvae-bench-'));
  try {
    // the reference: grid-io's synthetic generator, 19,000 px, in this process
    const nSynth = quick ? 5 : 20;
    let t0 = performance.now();
    const pool = [...syntheticSpectra({ n: nSynth, seed: 11 })];
    const synthRate = nSynth / ((performance.now() - t0) / 1000);
    record(
      'grid-io synthetic generator',
      +synthRate.toFixed(2),
      'spectra/s',
      `syntheticSpectra, ${N} px, single thread`,
    );

    for (const preset of /** @type {CvaePresetName[]} */ (['small', 'paper'])) {
      await memoryPhase(record, `generate ${preset}`, async () => {
        t0 = performance.now();
        const loaded = randomModel(preset);
        const buildS = (performance.now() - t0) / 1000;
        for (const batch of [1, 1024]) {
          const rate = await genRate(loaded, batch, quick ? 1 : preset === 'paper' && batch === 1024 ? 8 : 4);
          record(
            `generate [${preset}, batch ${batch}]`,
            +rate.toFixed(1),
            'spectra/s',
            `${info.name} backend; ${(rate / synthRate).toPrecision(2)}x the synthetic generator`,
          );
        }
        record(
          `model build [${preset}]`,
          +buildS.toFixed(2),
          's',
          `${loaded.model.params.size()} parameters, seeded init`,
        );
        loaded.model.dispose();
      });
    }

    // training throughput: a Parquet dataset of 19,000-px spectra (pool copies with fresh labels: values do not affect speed)
    const rows = quick ? 1024 : 2560;
    const rng = new Rng(3);
    const records = (function* () {
      for (let i = 0; i < rows; i++) {
        const base = pool[i % pool.length];
        const labels = Object.fromEntries(
          KEYS.map((k, j) => [k, BOX[j][0] + (BOX[j][1] - BOX[j][0]) * rng.uniform()]),
        );
        yield { ...base, id: `bench-${i}`, labels, split: i % 10 === 0 ? 'val' : 'train' };
      }
    })();
    const dataset = join(work, 'ds');
    await writeSpectrumDataset(records, dataset);
    for (const preset of /** @type {CvaePresetName[]} */ (['small', 'paper'])) {
      /** @type {number[]} */
      const rates = [];
      const epochs = preset === 'paper' || quick ? 1 : 2;
      const r = await memoryPhase(record, `train ${preset}`, () =>
        trainCvae({
          datasetDir: dataset,
          outDir: join(work, `model-${preset}`),
          preset,
          overrides: { epochs, batchSize: 512 },
          cacheBytes: 512 * 2 ** 20,
          reportEverySteps: 1,
          onProgress: (p) => {
            // skip the first step (graph warm-up and the first row-group decodes)
            if (p.phase === 'step' && p.globalStep > 1) rates.push(p.samplesPerSec);
          },
        }),
      );
      rates.sort((a, b) => a - b);
      const median = rates[Math.floor(rates.length / 2)];
      record(
        `train [${preset}, batch 512]`,
        +median.toFixed(1),
        'spectra/s',
        `median over ${rates.length} steps (optimizer steps only); ${r.spectraPerSecond.toFixed(1)} spectra/s wall-clock incl. validation, checkpoints, first decode`,
      );
      if (preset === 'small') {
        const s = r.trainSourceStats;
        record(
          'flux decode (Parquet row groups -> float32)',
          +(s.decodedExamples / Math.max(1e-9, s.decodeSeconds)).toFixed(0),
          'spectra/s',
          `${s.decodes} row-group decodes, ${s.fastDecodes} on the fast path, ${s.decodeSeconds.toFixed(2)} s`,
        );
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
