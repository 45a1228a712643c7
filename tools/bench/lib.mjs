// Shared benchmark harness: every figure is reported with its ratio to a baseline run in the
// same process, so numbers compare across machines and across loads of the same machine.
import { performance } from 'node:perf_hooks';
import os from 'node:os';

/**
 * The baseline: a fixed, allocation-free Float64 multiply-add loop (a stand-in for "how fast is
 * this core right now"), reported in million multiply-adds per second.
 */
export function baselineMaddPerSec(durationMs = 300) {
  const n = 1 << 16;
  const a = new Float64Array(n).map((_, i) => (i % 97) / 97);
  const b = new Float64Array(n).map((_, i) => (i % 89) / 89);
  let acc = 0;
  let iters = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    for (let i = 0; i < n; i++) acc += a[i] * b[i];
    iters++;
  }
  const dt = (performance.now() - t0) / 1000;
  if (acc === 42) console.error('');
  return (iters * n) / dt / 1e6;
}

/** Time `fn` (sync or async) `repeats` times after `warmup` runs; returns per-run seconds stats. */
export async function timeIt(fn, { repeats = 5, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((x, y) => x - y);
  return { medianS: times[Math.floor(times.length / 2)], minS: times[0], maxS: times.at(-1), repeats };
}

/**
 * Run one benchmark suite: `body(record)` calls `record(name, value, unit, note?)` for each figure.
 * Prints one JSON object to stdout: machine, baseline (measured before and after), and each
 * figure with `perBaseline` = value / baseline MMadd/s (throughputs) — comparable across runs.
 */
export async function runSuite(suite, body) {
  const before = baselineMaddPerSec();
  const figures = [];
  const record = (name, value, unit, note) => figures.push({ name, value, unit, ...(note ? { note } : {}) });
  const t0 = performance.now();
  await body(record);
  const after = baselineMaddPerSec();
  const baseline = (before + after) / 2;
  const out = {
    suite,
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
      node: process.version,
    },
    baseline: {
      name: 'js-float64-madd',
      unit: 'Mmadd/s',
      before: +before.toFixed(1),
      after: +after.toFixed(1),
    },
    figures: figures.map((f) => ({ ...f, perBaseline: +(f.value / baseline).toPrecision(4) })),
    peakRssMiB: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
    durationS: +((performance.now() - t0) / 1000).toFixed(2),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return out;
}
