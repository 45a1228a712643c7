// The demo run in one process, no Temporal: synthetic data from grid-io's generators through the pipeline's
// own steps (small PINN and CVAE trainings, the real evaluation and recovery validation, the report).
// `stellar-emu report --demo` runs it; so does the producers' contract test.
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import {
  trainSettings,
  type DatasetRef,
  type MetricsRef,
  type ModelRef,
  type ReportRef,
  type TrainChunkInput,
} from '@stellar-emu/workflows';
import { validatePipelineConfig, type PipelineConfig } from '@stellar-emu/workflows/config';
import { prepareDatasetStep, splitDatasetStep } from './activities/data.js';
import {
  evaluateCvaeStep,
  evaluatePinnStep,
  generateReportStep,
  runDirName,
  validateCvaeStep,
} from './activities/evaluate.js';
import { finishTraining, trainChunk } from './activities/train.js';

/**
 * How much the demo computes: `tiny` (the size of the pipeline's end-to-end test: about a minute
 * on two cores) or `small` (a few minutes; the models learn enough for the figures to show it).
 */
export type DemoSize = 'tiny' | 'small';

/** The pipeline config of each size, on synthetic data (grid-io's atmosphere and spectrum generators). */
export function demoRunConfig(size: DemoSize, seed: number, artifacts: string): PipelineConfig {
  const tiny = size === 'tiny';
  return validatePipelineConfig(
    {
      name: `demo-${size}`,
      artifacts,
      atmospheres: { synthetic: { n: tiny ? 40 : 240, seed } },
      spectra: { synthetic: { n: tiny ? 120 : 600, seed: seed + 6, pixels: tiny ? 256 : 1000 } },
      pinn: {
        preset: 'small',
        epochs: tiny ? 2 : 20,
        epochsPerChunk: tiny ? 2 : 20,
        checkpointEverySteps: 0,
        batchSize: tiny ? 512 : 256,
      },
      cvae: {
        preset: 'small',
        epochs: tiny ? 2 : 30,
        epochsPerChunk: tiny ? 2 : 30,
        checkpointEverySteps: 0,
        batchSize: tiny ? 32 : 64,
      },
      validation: {
        preset: 'small',
        epochs: tiny ? 2 : 30,
        batchSize: 64,
        ...(tiny ? { generatedCount: 20 } : {}),
      },
      thresholds: { cvaeMedianResidual: 0.05 },
    },
    `demo config (${size})`,
  );
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Artifact store (datasets, models, metrics; the report in `runs/<runId>/report`). */
  artifacts: string;
  /** Seed of the synthetic data (default 1). */
  seed?: number;
  size?: DemoSize;
  /** Run id of the stored metrics and report (default `demo-<seed>`). */
  runId?: string;
  /** One line per step started. */
  log?: (line: string) => void;
}

/** What {@link runDemo} made. */
export interface DemoResult {
  runId: string;
  config: PipelineConfig;
  datasets: { atmospheres: DatasetRef; spectra: DatasetRef };
  models: { pinn: ModelRef; pinnBaseline: ModelRef; cvae: ModelRef };
  /** The producers' metrics files: the report's `pinn` and `cvae` sections and param-nn's recovery metrics. */
  metrics: { pinn: MetricsRef; cvae: MetricsRef; recovery: MetricsRef };
  report: ReportRef;
}

/**
 * Run the demo: the pipeline's steps called in order in this process (the same functions the
 * worker registers as activities, the same artifact store and step keys, so a second run with the
 * same inputs reuses every result), then `generateReportStep` stores the run's metrics and writes
 * the report.
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const seed = o.seed ?? 1;
  const artifacts = resolve(o.artifacts);
  const config = demoRunConfig(o.size ?? 'tiny', seed, artifacts);
  const runId = runDirName(o.runId ?? `demo-${seed}`);
  const durationsSeconds: Record<string, number> = {};
  const step = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    o.log?.(name);
    const t0 = performance.now();
    const r = await f();
    durationsSeconds[name] = +((performance.now() - t0) / 1000).toFixed(3);
    return r;
  };
  const split = config.split.seed;
  const train = async (base: Omit<TrainChunkInput, 'untilEpoch'>): Promise<ModelRef> => {
    const input = { ...base, untilEpoch: base.settings.epochs };
    const result = await trainChunk(input);
    if (!result.done)
      throw new Error(
        `demo: the ${base.model} training stopped after ${result.epochsDone} of ${base.settings.epochs} epochs`,
      );
    return finishTraining({ ...input, result });
  };

  const rawAtm = await step('ingest atmospheres', () =>
    prepareDatasetStep({ kind: 'atmospheres', source: config.atmospheres!, artifacts }),
  );
  const atmospheres = (
    await step('split atmospheres', () =>
      splitDatasetStep({ dataset: rawAtm.result, scheme: '90/10', seed: split, artifacts }),
    )
  ).result;
  const pinnBase = { model: 'pinn' as const, dataset: atmospheres, artifacts };
  const pinn = await step('train pinn', () =>
    train({ ...pinnBase, settings: trainSettings(config.pinn!, config.pinn!.alpha) }),
  );
  const pinnBaseline = await step('train pinn-baseline', () =>
    train({ ...pinnBase, settings: trainSettings(config.pinn!, 0) }),
  );
  const pinnMetrics = await step('evaluate pinn', () =>
    evaluatePinnStep({ model: pinn, baseline: pinnBaseline, dataset: atmospheres, artifacts }),
  );

  const rawSpectra = await step('ingest spectra', () =>
    prepareDatasetStep({ kind: 'spectra', source: config.spectra!, artifacts }),
  );
  const spectra = (
    await step('split spectra', () =>
      splitDatasetStep({ dataset: rawSpectra.result, scheme: '70/15/15', seed: split, artifacts }),
    )
  ).result;
  const cvae = await step('train cvae', () =>
    train({ model: 'cvae', dataset: spectra, settings: trainSettings(config.cvae!), artifacts }),
  );
  const cvaeMetrics = await step('evaluate cvae', () =>
    evaluateCvaeStep({ model: cvae, dataset: spectra, artifacts }),
  );
  const recovery = await step('validate cvae', () =>
    validateCvaeStep({
      cvae,
      dataset: spectra,
      settings: config.validation!,
      factor: config.thresholds.recoveryFactor,
      artifacts,
    }),
  );

  const datasets = { atmospheres, spectra };
  const models = { pinn, pinnBaseline, cvae };
  o.log?.('report');
  const report = await generateReportStep({
    runId,
    artifacts,
    pinn: pinnMetrics.result,
    cvae: cvaeMetrics.result,
    recovery: recovery.result,
    thresholds: config.thresholds,
    durationsSeconds,
    metadata: {
      config,
      demo: { size: o.size ?? 'tiny', seed, runner: 'in-process (stellar-emu report --demo)' },
      datasets: Object.fromEntries(
        Object.entries(datasets).map(([k, d]) => [k, { path: d.path, sha256: d.sha256, rows: d.rows }]),
      ),
      models: Object.fromEntries(
        Object.entries(models).map(([k, m]) => [k, { path: m.path, sha256: m.sha256, epochs: m.epochsDone }]),
      ),
    },
  });
  return {
    runId,
    config,
    datasets,
    models,
    metrics: { pinn: pinnMetrics.result, cvae: cvaeMetrics.result, recovery: recovery.result },
    report,
  };
}
