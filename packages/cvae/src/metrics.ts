// Accuracy metrics (paper eq. 6 and Figs. 3, 5, 6): wavelength-averaged |generated − reference| over a held-out split.
import { canonicalSplitName, VAL_SPLIT } from '@stellar-emu/grid-io';
import {
  SPECTRUM_LABELS,
  type CvaeSection,
  type SpectrumLabel,
  type SpectrumLabels,
} from '@stellar-emu/metrics';
import { binnedStats, median, summarize, type Summary } from '@stellar-emu/numerics';
import type { LoadedCvae } from './artifact.js';
import { openSpectrumSource } from './data.js';
import { generateSpectra } from './generate.js';

/** Options of {@link evaluateCvae}. */
export interface EvaluateOptions {
  /** Held-out split to score (default grid-io `VAL_SPLIT`, 'val'; the old spelling 'validation' is read as 'val'). */
  split?: string;
  /** Latent of the generated spectra: 'sample' (default, z ~ N(0, I) seeded, as the paper generates) or 'zero'. */
  z?: 'zero' | 'sample';
  seed?: number;
  /** Score at most this many spectra (the first ones of the split). */
  maxSpectra?: number;
  /** Number of generated-vs-reference examples to include (Fig. 3, default 4). */
  examples?: number;
  /** Bins per axis of the Teff–log g map and of the per-label curves (default 8). */
  bins?: number;
  /** Decoded flux cache (bytes, default 256 MiB). */
  cacheBytes?: number;
  batchSize?: number;
}

/** The metrics JSON; `examples`, `residuals`, `summary` and `split` map onto the report's `cvae` section ({@link cvaeReportSection}). */
export interface CvaeMetrics {
  split: string;
  nSpectra: number;
  z: 'zero' | 'sample';
  /** Of meanAbsResidual, in continuum-normalized flux units (numerics `summarize`: type-7 quantiles of the finite values). */
  summary: Summary;
  /** Per spectrum: labels (physical units, by record key) and mean_λ |generated − reference| (paper eq. 6). */
  residuals: { labels: Record<string, number[]>; meanAbsResidual: number[] };
  /** Generated vs reference spectra (Fig. 3). */
  examples: {
    labels: Record<string, number>;
    wavelengthStartAngstrom: number;
    wavelengthStepAngstrom: number;
    referenceFlux: number[];
    generatedFlux: number[];
  }[];
  /** Median residual on a Teff × log g grid (Fig. 5): median[i][j] for teff bin i, logg bin j (null: empty). */
  teffLoggMap: {
    teffKey: string;
    loggKey: string;
    teffEdges: number[];
    loggEdges: number[];
    median: (number | null)[][];
    count: number[][];
  } | null;
  /** Median and 95th percentile of the residual in equal-width bins of each label (Fig. 6; numerics `binnedStats`). */
  perLabel: {
    label: string;
    edges: number[];
    median: (number | null)[];
    p95: (number | null)[];
    count: number[];
  }[];
  seconds: number;
  /** Wall-clock seconds inside the decoder (generation only, no data reading), and its batch size. */
  generation: { seconds: number; spectra: number; batchSize: number; spectraPerSecond: number };
}

/**
 * Score a model on a held-out split of a spectrum dataset: for each spectrum, the decoder at its
 * labels (z = 0 by default) against the reference flux; mean over finite pixels of the absolute
 * difference (eq. 6). Streams the split through a bounded cache.
 */
export async function evaluateCvae(
  loaded: LoadedCvae,
  dataset: string,
  opts: EvaluateOptions = {},
): Promise<CvaeMetrics> {
  const t0 = performance.now();
  const { meta } = loaded;
  const split = canonicalSplitName(opts.split ?? VAL_SPLIT);
  const src = await openSpectrumSource({
    dir: dataset,
    split,
    splitSeed: meta.config.seed,
    cacheBytes: opts.cacheBytes ?? 256 * 2 ** 20,
    labelScales: meta.labels,
  });
  try {
    if (src.nPixels !== meta.config.nPixels)
      throw new Error(`${dataset}: spectra have ${src.nPixels} pixels, the model ${meta.config.nPixels}`);
    const L = meta.labels.length;
    const N = src.nPixels;
    const n = Math.min(src.numExamples, opts.maxSpectra ?? Infinity);
    const residual = new Float64Array(n);
    const nEx = Math.min(n, opts.examples ?? 4);
    const exampleIdx = new Set(Array.from({ length: nEx }, (_, i) => Math.floor((i * n) / Math.max(1, nEx))));
    const examples: CvaeMetrics['examples'] = [];
    const chunk = opts.batchSize ?? 256;
    let genSeconds = 0;
    for (let start = 0; start < n; start += chunk) {
      const b = Math.min(chunk, n - start);
      const idx = Int32Array.from({ length: b }, (_, i) => start + i);
      const ref = src.readFlux(idx);
      const labels = src.physicalLabels.subarray(start * L, (start + b) * L);
      const tg = performance.now();
      const gen = await generateSpectra(loaded, labels, {
        z: opts.z ?? 'sample',
        seed: opts.seed,
        batchSize: b,
      });
      genSeconds += (performance.now() - tg) / 1000;
      for (let i = 0; i < b; i++) {
        let sum = 0;
        let cnt = 0;
        for (let p = i * N; p < (i + 1) * N; p++) {
          const r = ref[p];
          if (r === r) {
            sum += Math.abs(gen[p] - r);
            cnt++;
          }
        }
        residual[start + i] = cnt ? sum / cnt : NaN;
        if (exampleIdx.has(start + i)) {
          examples.push({
            labels: Object.fromEntries(meta.labels.map((l, j) => [l.key, labels[i * L + j]])),
            wavelengthStartAngstrom: meta.wavelength.startAngstrom,
            wavelengthStepAngstrom: meta.wavelength.stepAngstrom,
            referenceFlux: Array.from(ref.subarray(i * N, (i + 1) * N)),
            generatedFlux: Array.from(gen.subarray(i * N, (i + 1) * N)),
          });
        }
      }
    }
    const labelCols: Record<string, number[]> = {};
    meta.labels.forEach(
      (l, j) => (labelCols[l.key] = Array.from({ length: n }, (_, i) => src.physicalLabels[i * L + j])),
    );
    const bins = opts.bins ?? 8;
    const binned = (x: number[]) => {
      const b = binnedStats(x, residual, { bins });
      return { edges: b.edges, median: b.median, p95: b.p95, count: b.count };
    };
    const perLabel = meta.labels.map((l) => ({ label: l.key, ...binned(labelCols[l.key]) }));
    const teffKey = meta.labels.find((l) => l.key === 'teffK' || l.column === 'teff_k')?.key;
    const loggKey = meta.labels.find((l) => l.key === 'logg')?.key;
    let teffLoggMap: CvaeMetrics['teffLoggMap'] = null;
    if (teffKey && loggKey) {
      // The cells are the per-label bins (one bin on an axis whose values are all equal); a spectrum
      // with a non-finite label or residual is left out, as binnedStats leaves it out.
      const tb = binned(labelCols[teffKey]);
      const gb = binned(labelCols[loggKey]);
      const cells: number[][][] = Array.from({ length: tb.count.length }, () =>
        Array.from({ length: gb.count.length }, () => []),
      );
      const bin = (v: number, e: number[]) => {
        const k = e.length - 1;
        return Math.min(k - 1, Math.max(0, Math.floor(((v - e[0]) / (e[k] - e[0] || 1)) * k)));
      };
      for (let i = 0; i < n; i++) {
        const t = labelCols[teffKey][i];
        const g = labelCols[loggKey][i];
        if (Number.isFinite(t) && Number.isFinite(g) && Number.isFinite(residual[i]))
          cells[bin(t, tb.edges)][bin(g, gb.edges)].push(residual[i]);
      }
      teffLoggMap = {
        teffKey,
        loggKey,
        teffEdges: tb.edges,
        loggEdges: gb.edges,
        median: cells.map((row) => row.map((c) => (c.length ? median(c) : null))),
        count: cells.map((row) => row.map((c) => c.length)),
      };
    }
    return {
      split,
      nSpectra: n,
      z: opts.z ?? 'sample',
      summary: summarize(residual),
      residuals: { labels: labelCols, meanAbsResidual: Array.from(residual) },
      examples,
      teffLoggMap,
      perLabel,
      seconds: (performance.now() - t0) / 1000,
      generation: {
        seconds: genSeconds,
        spectra: n,
        batchSize: chunk,
        spectraPerSecond: genSeconds > 0 ? n / genSeconds : 0,
      },
    };
  } finally {
    src.close();
  }
}

/** The contract's labels (SPECTRUM_LABELS) of a record keyed by the model's labels; throws naming any the model lacks. */
function contractLabels<T>(byKey: Record<string, T>, where: string): Record<SpectrumLabel, T> {
  const missing = SPECTRUM_LABELS.filter((k) => !(k in byKey));
  if (missing.length > 0)
    throw new Error(
      `${where}: the report's cvae section needs the labels ${SPECTRUM_LABELS.join(', ')}; the model has no ${missing.join(', ')}`,
    );
  return Object.fromEntries(SPECTRUM_LABELS.map((k) => [k, byKey[k]])) as Record<SpectrumLabel, T>;
}

/**
 * The report's `cvae` section of {@link evaluateCvae}'s metrics, typed against the contract
 * (@stellar-emu/metrics `CvaeSection`): the examples and the per-spectrum residuals with the
 * contract's six labels (a model without one of them throws), the summary and the split. The
 * training curves and the speed are the caller's (`more`).
 */
export function cvaeReportSection(
  m: CvaeMetrics,
  more: Pick<CvaeSection, 'training' | 'speed'> = {},
): CvaeSection {
  return {
    examples: m.examples.map((e) => ({
      labels: contractLabels(e.labels, 'cvae example') satisfies SpectrumLabels,
      wavelengthStartAngstrom: e.wavelengthStartAngstrom,
      wavelengthStepAngstrom: e.wavelengthStepAngstrom,
      referenceFlux: e.referenceFlux,
      generatedFlux: e.generatedFlux,
    })),
    residuals: {
      labels: contractLabels(m.residuals.labels, 'cvae residuals'),
      meanAbsResidual: m.residuals.meanAbsResidual,
    },
    summary: { median: m.summary.median, p95: m.summary.p95, max: m.summary.max },
    split: m.split,
    ...(more.training ? { training: more.training } : {}),
    ...(more.speed ? { speed: more.speed } : {}),
  };
}
