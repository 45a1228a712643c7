// Shared benchmark harness: every figure is reported with its ratio to a baseline run in the
// same process, so numbers compare across machines and across loads of the same machine.
import { performance } from 'node:perf_hooks';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

/**
 * The `record` callback a suite's body receives: records one figure (`value` in `unit`, with an
 * optional note).
 * @callback RecordFigure
 * @param {string} name
 * @param {number} value
 * @param {string} unit
 * @param {string} [note]
 * @returns {void}
 */

/**
 * One recorded figure, as {@link runSuite} collects it.
 * @typedef {{ name: string; value: number; unit: string; note?: string }} Figure
 */

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

/** Resident memory of this process now, MiB (process-wide: every thread, native and JS). */
export function rssMiB() {
  return process.memoryUsage.rss() / 2 ** 20;
}

/**
 * Peak resident memory, MiB, since the last {@link resetPeakRss} (Linux: the kernel's high-water
 * mark VmHWM, exact, which `/proc/self/clear_refs` resets) or since the start of the process
 * elsewhere (getrusage's maxRSS, which cannot be reset).
 */
export function peakRssMiB() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Reset the peak to the current RSS (Linux); false where the kernel offers no reset. */
export function resetPeakRss() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Run `fn` as one memory phase: garbage-collect (with --expose-gc, as `npm run bench` starts
 * suites), reset the peak, run, and record `peak RSS [phase]` (MiB, the phase's own peak where the
 * kernel allows a reset, else the process's) and `RSS at start [phase]`. Returns fn's result.
 * @template T
 * @param {RecordFigure} record
 * @param {string} phase
 * @param {() => T} fn
 * @returns {Promise<Awaited<T>>}
 */
export async function memoryPhase(record, phase, fn) {
  globalThis.gc?.();
  const start = rssMiB();
  const exact = resetPeakRss();
  const out = await fn();
  const peak = peakRssMiB();
  record(
    `peak RSS [${phase}]`,
    +peak.toFixed(1),
    'MiB',
    exact
      ? `VmHWM of this phase (reset at its start); ${(peak - start).toFixed(0)} MiB above its start`
      : 'process peak so far (no reset on this OS)',
  );
  record(`RSS at start [${phase}]`, +start.toFixed(1), 'MiB');
  return out;
}

/**
 * Time `fn` (sync or async) `repeats` times after `warmup` runs; returns per-run seconds stats.
 * @param {() => unknown} fn
 * @param {{ repeats?: number; warmup?: number }} [options]
 */
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
 * @param {string} suite
 * @param {(record: RecordFigure) => Promise<void> | void} body
 */
export async function runSuite(suite, body) {
  const before = baselineMaddPerSec();
  /** @type {Figure[]} */
  const figures = [];
  /** @satisfies {RecordFigure} */
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

/** PINN normalization of a plausible ATLAS9-like range, for benchmarks with random weights (timing only). */
export function benchNormalization(nDepth = 72) {
  return {
    labelMean: [3.8, 3, -1, 0],
    labelStd: [0.2, 1.4, 1.5, 1],
    logTauMean: -2,
    logTauStd: 2.2,
    outMean: [0, 4, 4, 13, 0, 0],
    outStd: [1.5, 0.2, 1.5, 1.5, 1.5, 1.5],
    labelMin: [3500, 0, -5, 0],
    labelMax: [50000, 5, 1, 0],
    logTauMin: -7,
    logTauMax: 2.5,
    defaultLogTauGrid: Array.from({ length: nDepth }, (_, i) => -6.5 + (8.5 * i) / (nDepth - 1)),
  };
}
