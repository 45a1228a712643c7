// grid-io benchmark: ingest of the whole ATLAS9 grid (models/s, MB/s) and Parquet write/read of
// 10,000 synthetic 19,000-pixel spectra (MB/s of float32 flux data; wall clock and per CPU
// second), the Float32Array flux read path, plus peak RSS. Prints one JSON object (tools/bench/lib.mjs).
// Imports the built package: `npm run bench -- grid-io` builds first (`node tools/bench/run.mjs grid-io` does not).
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ingestAtmospheres, openDataset, readFluxRowGroup, writeSpectrumDataset } from '@stellar-emu/grid-io';
import { runSuite } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const grid = resolve(root, '..', 'shared', 'data', 'atlas9-kurucz1993');
const N_SPECTRA = Number(process.env.GRID_IO_BENCH_SPECTRA ?? 10_000);
const N_PIXELS = 19_000;

/** 256 deterministic, distinct flux arrays (continuum 1, Gaussian lines, LCG noise): generation is kept out of the timing. */
function fluxPool() {
  let s = 12345;
  const rnd = () => (s = (1103515245 * s + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: 256 }, (_, k) => {
    const a = new Array(N_PIXELS);
    for (let j = 0; j < N_PIXELS; j++)
      a[j] = 1 - 0.4 * Math.exp(-((((j + 37 * k) % 600) - 300) ** 2) / 40) + 0.002 * (rnd() - 0.5);
    if (k % 16 === 0) a[k] = Number.NaN;
    return a;
  });
}

/**
 * Wall and CPU seconds (user + system of this process) of `fn`.
 * @template T
 * @param {() => T} fn
 * @returns {Promise<{ value: Awaited<T>; wallS: number; cpuS: number }>}
 */
async function timed(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const cpu = process.cpuUsage(c0);
  return { value, wallS: (performance.now() - t0) / 1000, cpuS: (cpu.user + cpu.system) / 1e6 };
}

await runSuite('grid-io', async (record) => {
  const load = () => os.loadavg()[0].toFixed(1);
  const work = await mkdtemp(join(tmpdir(), 'grid-io-bench-'));
  try {
    // 1. ingest of the whole ATLAS9 grid (17 gzip files, 6,890 models) into a Parquet dataset
    const files = (await readdir(grid))
      .filter((f) => f.endsWith('.dat.gz'))
      .sort()
      .map((f) => join(grid, f));
    const t0 = performance.now();
    const res = await ingestAtmospheres(files, join(work, 'atlas9'));
    const s = (performance.now() - t0) / 1000;
    if (res.ingested !== 6890) throw new Error(`ingest wrote ${res.ingested} models, expected 6890`);
    record(
      'ingest-atlas9-seconds',
      +s.toFixed(3),
      's',
      'target < 10 s on one core; 17 files, 6,890 models, read + parse + sha256 + Parquet write',
    );
    record('ingest-atlas9-models-per-s', +(res.ingested / s).toFixed(1), 'models/s');
    record(
      'ingest-atlas9-input-MB-per-s',
      +(res.inputBytes / 1e6 / s).toFixed(2),
      'MB/s',
      'gzip-compressed input bytes',
    );
    const parquetBytes = (await stat(join(work, 'atlas9', 'data.parquet'))).size;
    record('ingest-atlas9-parquet-MB', +(parquetBytes / 1e6).toFixed(2), 'MB');

    // 2. Parquet write of N_SPECTRA x 19,000-pixel spectra (LIST<float>)
    const pool = fluxPool();
    function* spectra() {
      for (let i = 0; i < N_SPECTRA; i++) {
        yield {
          id: `bench-${i}`,
          source: 'synthetic:bench',
          line: 0,
          labels: {
            teffK: 4000 + (i % 300) * 10,
            logg: 1 + (i % 40) / 10,
            vsiniKms: i % 50,
            mh: -2 + (i % 25) / 10,
            vmicKms: 1 + (i % 3) / 2,
            resolution: 20000,
          },
          wavelengthStartAngstrom: 4450,
          wavelengthStepAngstrom: 0.05,
          flux: pool[i % pool.length],
          synthetic: true,
          split: null,
        };
      }
    }
    const floatMB = (N_SPECTRA * N_PIXELS * 4) / 1e6;
    /**
     * A Parquet pass's seconds, and its float32 flux throughput per second of wall clock and of CPU.
     * @param {string} pass
     * @param {{ wallS: number; cpuS: number }} t
     * @param {string} loadAvg
     * @param {string} what
     */
    const recordPass = (pass, t, loadAvg, what) => {
      record(`parquet-${pass}-spectra-seconds`, +t.wallS.toFixed(3), 's', what);
      record(
        `parquet-${pass}-MB-per-s`,
        +(floatMB / t.wallS).toFixed(1),
        'MB/s',
        `float32 flux bytes (4 B/pixel), wall clock; target >= 50; 1-min load ${loadAvg} on ${os.cpus().length} CPUs`,
      );
      record(
        `parquet-${pass}-MB-per-cpu-s`,
        +(floatMB / t.cpuS).toFixed(1),
        'MB/s',
        "per second of this process's CPU time (less sensitive to other load)",
      );
    };
    const loadW = load();
    const wr = await timed(() =>
      writeSpectrumDataset(spectra(), join(work, 'spectra'), { fluxType: 'float' }),
    );
    if (wr.value.rowCount !== N_SPECTRA) throw new Error(`wrote ${wr.value.rowCount} spectra`);
    recordPass(
      'write',
      wr,
      loadW,
      `${N_SPECTRA} x ${N_PIXELS} pixels, LIST<float> (flux uncompressed, other columns snappy), statistics pass included`,
    );
    record(
      'parquet-spectra-file-MB',
      +((await stat(join(work, 'spectra', 'data.parquet'))).size / 1e6).toFixed(1),
      'MB',
    );

    // 3. Parquet read of the same file, every column, row group by row group
    const loadR = load();
    const rd = await timed(async () => {
      const ds = await openDataset(join(work, 'spectra'));
      let rows = 0;
      let checksum = 0;
      for await (const batch of ds.iterateRows()) {
        rows += batch.length;
        checksum += /** @type {number[]} */ (batch[0].flux)[1];
      }
      if (rows !== N_SPECTRA || !Number.isFinite(checksum)) throw new Error(`read ${rows} spectra`);
    });
    recordPass(
      'read',
      rd,
      loadR,
      'iterateRows: all columns, one row group at a time, flux as number[] per row',
    );

    // 4. the Float32Array path (readFluxRowGroup: flux column only, no per-row arrays), as the CVAE and param-nn read
    const fx = await timed(async () => {
      const ds = await openDataset(join(work, 'spectra'));
      let rows = 0;
      let fast = 0;
      for (const g of ds.rowGroups) {
        const f = await readFluxRowGroup(ds, g.index);
        rows += f.rows;
        if (f.path === 'fast') fast++;
      }
      if (rows !== N_SPECTRA) throw new Error(`read ${rows} spectra`);
      return { fast, groups: ds.rowGroups.length };
    });
    record(
      'parquet-read-flux-float32-MB-per-s',
      +(floatMB / fx.wallS).toFixed(1),
      'MB/s',
      `readFluxRowGroup, ${fx.value.fast}/${fx.value.groups} row groups on the fast path, wall clock`,
    );
    record(
      'parquet-read-flux-float32-MB-per-cpu-s',
      +(floatMB / fx.cpuS).toFixed(1),
      'MB/s',
      'per second of CPU time',
    );
    record(
      'peak-rss',
      +(process.resourceUsage().maxRSS / 1024).toFixed(1),
      'MiB',
      'process.resourceUsage().maxRSS',
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
