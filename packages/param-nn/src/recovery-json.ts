// The recovery validation's metrics JSON: a `RunMetrics` object of the report's contract (typed against @stellar-emu/metrics) with param-nn's details beside it, and its atomic write.
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '@stellar-emu/grid-io';
import {
  METRICS_SCHEMA_VERSION,
  SPECTRUM_LABELS,
  type RecoverySection,
  type RunMetadata,
  type SpectrumLabel,
} from '@stellar-emu/metrics';
import { currentBackend, tf } from '@stellar-emu/nn-core';
import { LABEL_UNITS, type LabelRange } from './labels.js';
import type { PcaFitReport } from './pca.js';
import { EVALUATION_SETS, type EvaluationSet, type LabelVerdict } from './recovery-metrics.js';
import type { SetResult, ValidationResult } from './validate.js';

/** Run metadata for the metrics file (the report's `run` section). */
export interface RunInfo {
  id: string;
  gitCommit?: string | null;
  config?: Record<string, unknown>;
  datasetHashes?: Record<string, string>;
}

/** A label the report's contract knows (SPECTRUM_LABELS); other labels stay in `paramNn` only. */
const isContractLabel = (n: string): n is SpectrumLabel => (SPECTRUM_LABELS as readonly string[]).includes(n);

/** param-nn's details of a validation, beside the contract's sections (extra keys the contract's parse drops). */
export interface ParamNnDetails {
  pass: boolean;
  /** Verdict factor of every label (the contract's `thresholds.recovery.factors` holds its labels only). */
  factors: Record<string, number>;
  verdicts: LabelVerdict[];
  units: Record<string, string>;
  rows: Record<EvaluationSet, number>;
  rmseWithNoisyCopies: Record<EvaluationSet, Record<string, number>>;
  clippedPredictions: Record<EvaluationSet, Record<string, number>>;
  generatedLabelRanges: Record<string, LabelRange>;
  pca: PcaFitReport;
  training: ValidationResult['training'];
}

/**
 * The metrics JSON of a validation: a `RunMetrics` object of the report's contract
 * (@stellar-emu/metrics, `METRICS_SCHEMA_VERSION`; typed, so a field drifting from the contract is
 * a compile error) and param-nn's details.
 */
export type RecoveryMetricsJson = {
  schemaVersion: typeof METRICS_SCHEMA_VERSION;
  run: RunMetadata;
  thresholds: { recovery: { factors: Partial<Record<SpectrumLabel, number>> } };
  recovery: RecoverySection;
  paramNn: ParamNnDetails;
};

/**
 * The metrics JSON ({@link RecoveryMetricsJson}): the report's `run`, the `recovery` section (RMSE
 * table per label and set, predicted-vs-true of test and generated) and
 * `thresholds.recovery.factors` for the contract's labels, and a `paramNn` section with the
 * verdicts, PCA and training details of every label.
 */
export function metricsJson(
  result: ValidationResult,
  run: RunInfo,
  maxScatterPoints = 5000,
): RecoveryMetricsJson {
  const names = result.labelNames;
  const nl = names.length;
  const column = (set: SetResult, j: number, which: 'truth' | 'predicted') => {
    const n = Math.min(set.rows, maxScatterPoints);
    const arr = new Array<number>(n);
    for (let i = 0; i < n; i++) arr[i] = set[which][i * nl + j];
    return arr;
  };
  const contractLabels = names.flatMap((n, j) => (isContractLabel(n) ? [[n, j] as const] : []));
  const perSet = <T>(f: (s: EvaluationSet) => T) =>
    Object.fromEntries(EVALUATION_SETS.map((s) => [s, f(s)])) as Record<EvaluationSet, T>;
  const cpus = os.cpus();
  return {
    schemaVersion: METRICS_SCHEMA_VERSION,
    run: {
      id: run.id,
      createdAt: new Date().toISOString(),
      gitCommit: run.gitCommit ?? null,
      backend: currentBackend()?.tfjsBackend ?? tf.getBackend(),
      config: run.config ?? {},
      datasetHashes: run.datasetHashes ?? {},
      durationsSeconds: result.durationsSeconds,
      machine: {
        cpus: cpus.length,
        memoryBytes: os.totalmem(),
        nodeVersion: process.version,
        platform: process.platform,
        arch: process.arch,
        ...(cpus[0]?.model ? { cpuModel: cpus[0].model } : {}),
      },
    },
    thresholds: {
      recovery: {
        factors: Object.fromEntries(contractLabels.map(([label]) => [label, result.factors[label]])),
      },
    },
    recovery: {
      scatter: contractLabels.map(([label, j]) => ({
        label,
        test: {
          true: column(result.sets.test, j, 'truth'),
          predicted: column(result.sets.test, j, 'predicted'),
        },
        generated: {
          true: column(result.sets.generated, j, 'truth'),
          predicted: column(result.sets.generated, j, 'predicted'),
        },
      })),
      rmse: contractLabels.map(([label]) => ({
        label,
        train: result.sets.train.rmse[label],
        val: result.sets.val.rmse[label],
        test: result.sets.test.rmse[label],
        generated: result.sets.generated.rmse[label],
      })),
    },
    paramNn: {
      pass: result.pass,
      factors: result.factors,
      verdicts: result.verdicts,
      units: Object.fromEntries(names.map((n) => [n, LABEL_UNITS[n] ?? 'unknown'])),
      rows: perSet((s) => result.sets[s].rows),
      rmseWithNoisyCopies: perSet((s) => result.sets[s].rmseWithNoisyCopies),
      clippedPredictions: perSet((s) => result.sets[s].clipped),
      generatedLabelRanges: result.generatedRanges,
      pca: result.pca,
      training: result.training,
    },
  };
}

/** Write `metrics.json` into `dir`; returns its path. */
export async function writeMetrics(dir: string, metrics: Record<string, unknown>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'metrics.json');
  // Atomic: a failed write leaves the previous metrics.json whole.
  await writeFileAtomic(path, `${JSON.stringify(metrics, null, 2)}\n`);
  return path;
}
