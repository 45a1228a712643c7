// Synthetic-generator benchmark: spectra/s (19,000 px, labels drawn in the CVAE box) and
// atmospheres/s (80 layers, Kurucz-a1 box), single-threaded, plus peak RSS. Prints one JSON object.
// Imports the built package: `npm run bench -- synth` builds first (`node tools/bench/run.mjs synth` does not).
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { syntheticAtmospheres, syntheticSpectra } from '@stellar-emu/grid-io';
import { runSuite } from './lib.mjs';

const N_SPECTRA = Number(process.env.SYNTH_BENCH_SPECTRA ?? 300);
const N_ATMOSPHERES = Number(process.env.SYNTH_BENCH_ATMOSPHERES ?? 1000);

/**
 * Drain a generator; returns wall seconds and CPU seconds of this process (user + system).
 * @param {Iterable<{ flux?: number[]; pressure?: number[] }>} iter spectra (flux) or atmospheres (pressure)
 */
function drain(iter) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  let check = 0;
  for (const r of iter) {
    n++;
    check += /** @type {number[]} */ (r.flux ?? r.pressure)[50];
  }
  const cpu = process.cpuUsage(c0);
  if (!Number.isFinite(check)) throw new Error('non-finite output');
  return { n, wallS: (performance.now() - t0) / 1000, cpuS: (cpu.user + cpu.system) / 1e6 };
}

await runSuite('synth', async (record) => {
  const load = os.loadavg()[0];
  // warm-up (JIT, FFT plans, line list)
  drain(syntheticSpectra({ n: 5, seed: 99 }));
  drain(syntheticAtmospheres({ n: 20, seed: 99 }));

  const sp = drain(syntheticSpectra({ n: N_SPECTRA, seed: 7 }));
  record(
    'spectra-per-s',
    +(sp.n / sp.wallS).toFixed(1),
    'spectra/s',
    `wall clock, ${sp.n} spectra of 19,000 px, ids (sha256) included; 1-min load average ${load.toFixed(1)} on ${os.cpus().length} CPUs`,
  );
  record(
    'spectra-per-cpu-s',
    +(sp.n / sp.cpuS).toFixed(1),
    'spectra/s',
    "per second of this process's CPU time (less sensitive to other load)",
  );

  const at = drain(syntheticAtmospheres({ n: N_ATMOSPHERES, seed: 1 }));
  record(
    'atmospheres-per-s',
    +(at.n / at.wallS).toFixed(1),
    'models/s',
    `wall clock, ${at.n} models of 80 layers`,
  );
  record('atmospheres-per-cpu-s', +(at.n / at.cpuS).toFixed(1), 'models/s', 'per second of CPU time');
  record(
    'peak-rss',
    +(process.resourceUsage().maxRSS / 1024).toFixed(1),
    'MiB',
    'process.resourceUsage().maxRSS',
  );
});
