// Evaluation, validation and report activities: metrics files in the artifact store, never bulk data in workflows.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { readManifest, TEST_SPLIT, VAL_SPLIT, writeFileAtomic } from '@stellar-emu/grid-io';
import type { SmeProvenance } from '@stellar-emu/synthesis';
import { currentBackend, initBackend } from '@stellar-emu/nn-core';
import { evaluatePinnModel } from '@stellar-emu/pinn';
import {
  cvaeEmulator,
  cvaeReportSection,
  evaluateCvae,
  loadCvaeModel,
  readTrainingHistory,
} from '@stellar-emu/cvae';
import { validateEmulatorOnDataset } from '@stellar-emu/param-nn';
import {
  cvaeSectionSchema,
  METRICS_SCHEMA_VERSION,
  pinnSectionSchema,
  pinnSpectraSectionSchema,
  runMetricsSchema,
  synthesisSectionSchema,
  type CvaeSection,
  type RunMetricsInput,
} from '@stellar-emu/metrics';
import { currentGitCommit, generateReportFromRun, machineInfo, writeRunMetrics } from '@stellar-emu/report';
import type {
  EvaluateInput,
  GenerateReportInput,
  MetricsRef,
  ReportRef,
  StepOutcome,
  ValidateCvaeInput,
} from '@stellar-emu/workflows';
import { LocalArtifactStore, stepKey } from '../artifacts/store.js';
import { heartbeatPump, type HeartbeatPump } from './heartbeat.js';
import { completeMetricsStep } from './metrics-step.js';

async function metricsStep(
  artifacts: string,
  step: string,
  key: string,
  /** Computes the metrics into `dir`; reports its progress through `hb`, the step's one heartbeat. */
  compute: (dir: string, hb: HeartbeatPump) => Promise<{ path: string; summary: MetricsRef['summary'] }>,
): Promise<StepOutcome<MetricsRef>> {
  const store = new LocalArtifactStore(artifacts);
  const hb = heartbeatPump(3000);
  hb.update({ step });
  try {
    return await store.once<StepOutcome<MetricsRef>>(
      step,
      key,
      (done) => ({ skipped: true, key, result: done.summary.metrics as MetricsRef }),
      async () => {
        const { path, summary } = await compute(await store.stepDir(step, key), hb);
        return completeMetricsStep(store, step, key, path, summary);
      },
      () => hb.update({ step, waiting: 'the same step is running in another pipeline' }),
    );
  } finally {
    hb.stop();
  }
}

/** Validation metrics of a PINN (and its alpha = 0 baseline): the report's `pinn` section. */
export async function evaluatePinnStep(input: EvaluateInput): Promise<StepOutcome<MetricsRef>> {
  const key = stepKey(
    'evaluate-pinn',
    {},
    { model: input.model.sha256, baseline: input.baseline?.sha256 ?? '', dataset: input.dataset.sha256 },
  );
  return metricsStep(input.artifacts, 'evaluate-pinn', key, async (dir) => {
    await initBackend();
    const out = join(dir, 'pinn-metrics.json');
    const r = await evaluatePinnModel({
      modelDir: input.model.path,
      datasetDir: input.dataset.path,
      baselineModelDir: input.baseline?.path,
      out,
    });
    return { path: out, summary: r.summary };
  });
}

/** Residual metrics of a CVAE on held-out spectra: the report's `cvae` section. */
export async function evaluateCvaeStep(input: EvaluateInput): Promise<StepOutcome<MetricsRef>> {
  // The paper's evaluation is on the test split; a 90/10 dataset has none, then validation.
  const manifest = await readManifest(input.dataset.path);
  const counts = manifest.splitCounts as Record<string, number> | undefined;
  const split = (counts?.[TEST_SPLIT] ?? 0) > 0 ? TEST_SPLIT : VAL_SPLIT;
  const key = stepKey(
    'evaluate-cvae',
    { split },
    { model: input.model.sha256, dataset: input.dataset.sha256 },
  );
  return metricsStep(input.artifacts, 'evaluate-cvae', key, async (dir) => {
    await initBackend();
    const loaded = await loadCvaeModel(input.model.path);
    const m = await evaluateCvae(loaded, input.dataset.path, { split });
    const history = await readTrainingHistory(input.model.path);
    const cost = (manifest.notes as { synthesis?: Partial<SmeProvenance> } | undefined)?.synthesis?.cost;
    // The contract's section (typed: a field drifting from it is a compile error).
    const section: CvaeSection = cvaeReportSection(m, {
      training: history
        ? {
            preset: history.preset,
            epochsDone: history.epochsDone,
            bestEpoch: history.bestEpoch,
            budgetSpent: history.budgetSpent,
            trainExamples: history.trainExamples,
            valExamples: history.valExamples,
            fluxScale: loaded.meta.config.fluxRange[1] - loaded.meta.config.fluxRange[0],
            history: history.history.map((h) => ({
              epoch: h.epoch,
              trainLoss: h.trainLoss,
              valLoss: h.valLoss,
              lr: h.lr,
              ...(h.trainParts?.recon !== undefined ? { trainRecon: h.trainParts.recon } : {}),
              ...(h.trainParts?.kl !== undefined ? { trainKl: h.trainParts.kl } : {}),
              ...(h.trainParts?.klMu !== undefined ? { trainKlMu: h.trainParts.klMu } : {}),
              ...(h.trainParts?.klVar !== undefined ? { trainKlVar: h.trainParts.klVar } : {}),
              ...(h.valParts?.kl !== undefined ? { valKl: h.valParts.kl } : {}),
            })),
          }
        : undefined,
      speed: {
        cvaeSpectraPerSecond: m.generation.spectraPerSecond,
        batchSize: m.generation.batchSize,
        pysmeCoreSecondsPerSpectrum:
          cost && cost.computed > 0 ? (cost.engineSeconds + cost.broadenSeconds) / cost.computed : null,
        pysmeCoreSecondsPerCall:
          cost && cost.intrinsicCalls > 0 ? cost.engineSeconds / cost.intrinsicCalls : null,
        cores: availableParallelism(),
      },
    });
    const out = join(dir, 'cvae-metrics.json');
    // evaluateCvae's other metrics beside the section (extra keys the contract's parse drops).
    await writeFileAtomic(out, `${JSON.stringify({ ...m, ...section })}\n`);
    return { path: out, summary: { median: m.summary.median, p95: m.summary.p95, max: m.summary.max } };
  });
}

/** Parameter-recovery validation of a CVAE (PCA + recovery network): the report's `recovery` section. */
export async function validateCvaeStep(input: ValidateCvaeInput): Promise<StepOutcome<MetricsRef>> {
  const key = stepKey(
    'validate-cvae',
    { ...input.settings, factor: input.factor ?? null },
    { model: input.cvae.sha256, dataset: input.dataset.sha256 },
  );
  return metricsStep(input.artifacts, 'validate-cvae', key, async (dir, hb) => {
    await initBackend();
    const loaded = await loadCvaeModel(input.cvae.path);
    // One wiring for the worker and the CLI: param-nn's validateEmulatorOnDataset.
    const { result, metricsPath: out } = await validateEmulatorOnDataset({
      dataset: input.dataset.path,
      labelNames: loaded.meta.labels.map((l) => l.key),
      emulator: cvaeEmulator(loaded),
      ...input.settings,
      outDir: join(dir, 'recovery'),
      factor: input.factor,
      onStage: (stage) => hb.update({ step: 'validate cvae', stage }),
      onProgress: (p) =>
        hb.update({ step: 'validate cvae', epoch: p.epoch, globalStep: p.globalStep, losses: p.losses }),
      run: { id: input.cvae.sha256.slice(0, 12) },
      metricsPath: join(dir, 'recovery-metrics.json'),
    }).finally(() => loaded.model.dispose());
    const summary: MetricsRef['summary'] = { pass: result.pass };
    for (const v of result.verdicts) summary[`${v.label}Ratio`] = +v.ratio.toFixed(3);
    return { path: out, summary };
  });
}

/** What `readSection` needs of a zod schema. */
interface SectionSchema<T> {
  safeParse(
    value: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
}

/** A producer's metrics file parsed with the contract's schema of its section (extra keys dropped); throws listing every mismatch. */
async function readSection<T>(path: string, schema: SectionSchema<T>, section: string): Promise<T> {
  const r = schema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (r.success) return r.data;
  const lines = r.error.issues
    .slice(0, 20)
    .map((i) => `  ${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  throw new Error(
    `${path}: the ${section} metrics do not match the metrics contract v${METRICS_SCHEMA_VERSION}:\n${lines.join('\n')}`,
  );
}

/** A run id usable as a directory name (schedule-started ids carry timestamps with ':'). */
export function runDirName(runId: string): string {
  return runId.replace(/[^A-Za-z0-9._-]/g, '-');
}

/** Gather the metrics of a run into the report contract, store them, and render the report. */
export async function generateReportStep(input: GenerateReportInput): Promise<ReportRef> {
  const artifacts = resolve(input.artifacts);
  const runId = runDirName(input.runId);
  const t = input.thresholds ?? {};
  const metrics: RunMetricsInput = {
    schemaVersion: METRICS_SCHEMA_VERSION,
    run: {
      id: runId,
      createdAt: new Date().toISOString(),
      gitCommit: currentGitCommit(),
      backend: currentBackend()?.name ?? (await initBackend({ quiet: true })).name,
      config: input.metadata,
      datasetHashes: Object.fromEntries(
        Object.entries((input.metadata.datasets ?? {}) as Record<string, { sha256: string }>).map(
          ([k, v]) => [k, v.sha256],
        ),
      ),
      durationsSeconds: input.durationsSeconds ?? {},
      machine: machineInfo(),
    },
    thresholds: {
      ...(t.pinnMedianErrorPct ? { pinn: { medianPercent: t.pinnMedianErrorPct } } : {}),
      ...(t.cvaeMedianResidual !== undefined || t.cvaeMarginalMeanOverMedian !== undefined
        ? {
            cvae: {
              ...(t.cvaeMedianResidual !== undefined ? { medianResidual: t.cvaeMedianResidual } : {}),
              ...(t.cvaeMarginalMeanOverMedian !== undefined
                ? { marginalMeanOverMedian: t.cvaeMarginalMeanOverMedian }
                : {}),
            },
          }
        : {}),
      ...(t.recoveryFactor !== undefined
        ? {
            recovery:
              typeof t.recoveryFactor === 'number'
                ? { factor: t.recoveryFactor }
                : { factors: t.recoveryFactor },
          }
        : {}),
      ...(t.sunMedianAbsResidual !== undefined
        ? { synthesis: { sunMedianAbsResidual: t.sunMedianAbsResidual } }
        : {}),
      ...(input.pinnSpectra
        ? {
            pinnSpectra: {
              ...(t.pinnSpectraMedianAbsDeltaF !== undefined
                ? { medianAbsDeltaF: t.pinnSpectraMedianAbsDeltaF }
                : {}),
              ...(t.pinnSpectraP95AbsDeltaF !== undefined ? { p95AbsDeltaF: t.pinnSpectraP95AbsDeltaF } : {}),
              ...(t.pinnSunResidualFactor !== undefined
                ? { sunResidualFactor: t.pinnSunResidualFactor }
                : {}),
            },
          }
        : {}),
    },
  };
  // Each producer's file through the contract's schema of its section (the recovery file is a whole RunMetrics of param-nn's).
  if (input.pinn) metrics.pinn = await readSection(input.pinn.path, pinnSectionSchema, 'pinn');
  if (input.cvae) metrics.cvae = await readSection(input.cvae.path, cvaeSectionSchema, 'cvae');
  if (input.recovery)
    metrics.recovery = (await readSection(input.recovery.path, runMetricsSchema, 'recovery')).recovery;
  if (input.synthesis)
    metrics.synthesis = await readSection(input.synthesis.path, synthesisSectionSchema, 'synthesis');
  if (input.pinnSpectra)
    metrics.pinnSpectra = await readSection(input.pinnSpectra.path, pinnSpectraSectionSchema, 'pinnSpectra');
  await writeRunMetrics(artifacts, runId, metrics);
  const r = await generateReportFromRun(artifacts, runId);
  return {
    dir: join(artifacts, 'runs', runId, 'report'),
    pass: r.pass,
    checks: r.checks.map((c) => ({ name: c.name, value: c.value ?? null, limit: c.limit, pass: c.pass })),
  };
}
