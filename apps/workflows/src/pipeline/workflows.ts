// Pipeline workflows: orchestration only — every file, tensor and clock lives in activities.
import {
  ActivityCancellationType,
  continueAsNew,
  defineQuery,
  executeChild,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { TASK_QUEUES } from '../task-queues.js';
import { trainSettings } from './settings.js';
import type {
  PipelineActivities,
  PrepareDatasetInput,
  SplitDatasetInput,
  GenerateReportInput,
  PinnSpectraInput,
  SynthesizeGridInput,
  ValidateCvaeInput,
} from './activities.js';
import type { PipelineConfig } from './config.js';
import type {
  DatasetRef,
  MetricsRef,
  ModelRef,
  ReportRef,
  StepOutcome,
  TrainProgress,
  TrainSettings,
} from './types.js';

/** Errors that retrying cannot fix (bad input, bad config): fail the step at once. */
const NON_RETRYABLE = [
  'InputError',
  'PipelineConfigError',
  'DeckParseError',
  'CheckpointError',
  'ExtrapolationError',
];

/** Activities of one task queue: timeouts and the retry schedule (bad input and config errors are never retried). */
function activitiesOn(
  taskQueue: string,
  o: {
    startToClose: string;
    heartbeat: string;
    retry: [initial: string, maximum: string, attempts: number];
    waitForCancellation?: boolean;
  },
) {
  return proxyActivities<PipelineActivities>({
    taskQueue,
    startToCloseTimeout: o.startToClose,
    heartbeatTimeout: o.heartbeat,
    ...(o.waitForCancellation
      ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED }
      : {}),
    retry: {
      initialInterval: o.retry[0],
      maximumInterval: o.retry[1],
      maximumAttempts: o.retry[2],
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });
}

const cpu = activitiesOn(TASK_QUEUES.cpu, {
  startToClose: '12 hours',
  heartbeat: '2 minutes',
  retry: ['2 seconds', '1 minute', 5],
});

/** Spectrum synthesis (PySME) on the `synth` queue: a killed worker's batch is retried on any synth worker. */
function synthActivities(heartbeatSeconds = 30) {
  return activitiesOn(TASK_QUEUES.synth, {
    startToClose: '24 hours',
    heartbeat: `${heartbeatSeconds} seconds`,
    retry: ['1 second', '30 seconds', 20],
  });
}

/** Training activities; a crashed worker is noticed when its heartbeats stop for `heartbeatSeconds`. */
function gpuActivities(heartbeatSeconds = 60) {
  // A chunk is a bounded number of epochs, so one attempt never runs for days.
  return activitiesOn(TASK_QUEUES.gpu, {
    startToClose: '7 days',
    heartbeat: `${heartbeatSeconds} seconds`,
    waitForCancellation: true,
    retry: ['1 second', '30 seconds', 50],
  });
}
const gpu = gpuActivities();

/** What the `progress` query of every pipeline workflow returns. */
export interface WorkflowProgress {
  workflow: string;
  stage: string;
  steps: {
    name: string;
    status: 'pending' | 'running' | 'done' | 'skipped' | 'failed';
    detail?: string;
    /** Wall-clock seconds of the step (workflow time), once it ended. */
    seconds?: number;
  }[];
  /** Latest training progress known to the workflow (chunk granularity; live details are in the activity's heartbeat). */
  training: TrainProgress | null;
  /** Spectrum synthesis: spectra finished of the grid (batch granularity; live counts are in the heartbeats). */
  synthesis?: {
    done: number;
    total: number;
    batchesDone: number;
    batches: number;
    unit?: 'spectra' | 'models';
  };
}

/** Query: live progress of a pipeline workflow. */
export const progressQuery = defineQuery<WorkflowProgress>('progress');

function tracker(workflow: string) {
  const state: WorkflowProgress = { workflow, stage: 'starting', steps: [], training: null };
  setHandler(progressQuery, () => state);
  // Steps run in parallel (PINN and CVAE training): the stage names every running one.
  const restage = () => {
    const running = state.steps.filter((s) => s.status === 'running').map((s) => s.name);
    if (running.length > 0) state.stage = running.join(' + ');
  };
  return {
    state,
    async step<T>(name: string, run: () => Promise<T>, describe?: (r: T) => string): Promise<T> {
      const entry: WorkflowProgress['steps'][number] = { name, status: 'running' };
      state.steps.push(entry);
      restage();
      const t0 = Date.now();
      try {
        const r = await run();
        const skipped = typeof r === 'object' && r !== null && (r as { skipped?: unknown }).skipped === true;
        entry.status = skipped ? 'skipped' : 'done';
        if (describe) entry.detail = describe(r);
        return r;
      } catch (err) {
        entry.status = 'failed';
        entry.detail = err instanceof Error ? err.message : String(err);
        throw err;
      } finally {
        entry.seconds = (Date.now() - t0) / 1000;
        restage();
      }
    },
  };
}

/** Synthesise, ingest or adopt a dataset (cpu queue). Skipped when an identical one exists. */
export async function ingestGrid(input: PrepareDatasetInput): Promise<StepOutcome<DatasetRef>> {
  const t = tracker('ingestGrid');
  return t.step(
    `prepare ${input.kind}`,
    () => cpu.prepareDatasetStep(input),
    (r) => `${r.result.rows} rows`,
  );
}

/** Assign train/validation(/test) by a hash of each row's id and a seed (cpu queue). */
export async function splitDataset(input: SplitDatasetInput): Promise<StepOutcome<DatasetRef>> {
  const t = tracker('splitDataset');
  return t.step(`split ${input.scheme}`, () => cpu.splitDatasetStep(input));
}

/**
 * Synthesize a PySME spectrum grid: plan (check inputs, write the rows), fan the batches out on
 * the `synth` queue (each resumes from the rows already written, on any worker), then assemble
 * the dataset. Skipped when an identical grid exists.
 */
export async function synthesizeGrid(input: SynthesizeGridInput): Promise<StepOutcome<DatasetRef>> {
  const t = tracker('synthesizeGrid');
  const synth = synthActivities(input.heartbeatTimeoutSeconds);
  const plan = await t.step(
    'plan',
    () => synth.planSpectrumGrid(input),
    (p) =>
      `${p.rows} spectra from ${p.intrinsic} intrinsic spectra in ${p.batches.length} batches${p.cut.length ? `; label box cut: ${p.cut.join('; ')}` : ''}`,
  );
  if (plan.done) {
    t.state.stage = 'done';
    return { skipped: true, key: plan.key, result: plan.done };
  }
  const progress = { done: 0, total: plan.rows, batchesDone: 0, batches: plan.batches.length };
  t.state.synthesis = progress;
  const cost = { computed: 0, intrinsicCalls: 0, engineSeconds: 0, broadenSeconds: 0 };
  await t.step(
    'synthesize',
    async () => {
      await Promise.all(
        plan.batches.map(async (b) => {
          const r = await synth.synthesizeSpectrumBatch({ dir: plan.dir, start: b.start, end: b.end });
          cost.computed += r.done - r.reused;
          cost.intrinsicCalls += r.intrinsicCalls;
          cost.engineSeconds += r.engineSeconds;
          cost.broadenSeconds += r.broadenSeconds;
          progress.done += b.end - b.start;
          progress.batchesDone++;
        }),
      );
      return progress;
    },
    (p) => `${p.done} spectra in ${p.batches} batches`,
  );
  const out = await t.step(
    'assemble',
    () => synth.assembleSpectrumGrid({ dir: plan.dir, artifacts: input.artifacts, cost }),
    (r) => r.result.path,
  );
  t.state.stage = 'done';
  return plan.cut.length ? { ...out, notes: [`label box cut: ${plan.cut.join('; ')}`] } : out;
}

/**
 * Kurucz-a1 end to end: plan (choose the validation models, check their decks), fan the models
 * out on the `synth` queue (true deck, PINN and baseline spectra; a retried batch keeps the
 * models it finished), the Sun beside them, then gather the report section. Skipped when an
 * identical evaluation completed.
 */
export async function evaluatePinnSpectra(input: PinnSpectraInput): Promise<StepOutcome<MetricsRef>> {
  const t = tracker('evaluatePinnSpectra');
  const synth = synthActivities(input.heartbeatTimeoutSeconds ?? 60);
  const plan = await t.step(
    'plan',
    () => synth.planPinnSpectra(input),
    (p) => `${p.models} of ${p.candidates} validation models in ${p.batches.length} batches`,
  );
  if (plan.done) {
    t.state.stage = 'done';
    return { skipped: true, key: plan.key, result: plan.done };
  }
  const progress = {
    done: 0,
    total: plan.models,
    batchesDone: 0,
    batches: plan.batches.length,
    unit: 'models' as const,
  };
  t.state.synthesis = progress;
  await t.step(
    'synthesize',
    () =>
      Promise.all([
        ...plan.batches.map(async (b) => {
          await synth.pinnSpectraBatch({ dir: plan.dir, start: b.start, end: b.end });
          progress.done += b.end - b.start;
          progress.batchesDone++;
        }),
        ...(input.settings.sun ? [synth.pinnSunSpectra({ dir: plan.dir })] : []),
      ]),
    () => `${progress.done} models${input.settings.sun ? ' and the Sun' : ''}`,
  );
  const out = await t.step(
    'assemble',
    () => synth.assemblePinnSpectra({ dir: plan.dir, artifacts: input.artifacts }),
    (r) => JSON.stringify(r.result.summary),
  );
  t.state.stage = 'done';
  return out;
}

/** Input of the training workflows. */
export interface TrainWorkflowInput {
  dataset: DatasetRef;
  settings: TrainSettings;
  artifacts: string;
  /** Continue-as-new after this many chunks, bounding the history of multi-day runs (default 25). */
  chunksPerRun?: number;
  /** Seconds without a heartbeat after which a training attempt counts as crashed (default 60). */
  heartbeatTimeoutSeconds?: number;
  /** Carried across continue-as-new. */
  epochsDone?: number;
  lastProgress?: TrainProgress | null;
  /** Training seconds spent so far (the time budget's account), carried across continue-as-new. */
  secondsSpent?: number;
}

async function trainInChunks(model: 'pinn' | 'cvae', input: TrainWorkflowInput): Promise<ModelRef> {
  const t = tracker(model === 'pinn' ? 'trainPinn' : 'trainCvae');
  t.state.training = input.lastProgress ?? null;
  const base = { model, dataset: input.dataset, settings: input.settings, artifacts: input.artifacts };
  const existing = await cpu.findTrainedModel(base);
  if (existing) {
    t.state.steps.push({
      name: `train ${model}`,
      status: 'skipped',
      detail: `already trained: ${existing.path}`,
    });
    t.state.stage = 'done';
    return existing;
  }
  const trainActivities = gpuActivities(input.heartbeatTimeoutSeconds);
  let epochsDone = input.epochsDone ?? 0;
  let secondsSpent = input.secondsSpent ?? 0;
  const budget = input.settings.maxMinutes !== undefined ? input.settings.maxMinutes * 60 : null;
  const chunksPerRun = input.chunksPerRun ?? 25;
  for (let chunk = 0; ; chunk++) {
    const untilEpoch = Math.min(input.settings.epochs, epochsDone + input.settings.epochsPerChunk);
    t.state.stage = `train ${model}: epochs ${epochsDone}..${untilEpoch} of ${input.settings.epochs}${budget !== null ? ` (${Math.round(secondsSpent / 60)} of ${input.settings.maxMinutes} min)` : ''}`;
    const r = await trainActivities.trainChunk({
      ...base,
      untilEpoch,
      ...(budget !== null ? { maxSeconds: Math.max(1, budget - secondsSpent) } : {}),
    });
    t.state.training = r.progress;
    epochsDone = r.epochsDone;
    secondsSpent += r.seconds ?? 0;
    // The budget is spent: the model directory holds the best epoch so far; finish with it.
    const budgetSpent = r.budgetSpent === true || (budget !== null && secondsSpent >= budget);
    if (r.done || budgetSpent) {
      t.state.stage = 'done';
      return cpu.finishTraining({ ...base, untilEpoch, result: { ...r, done: true } });
    }
    if (chunk + 1 >= chunksPerRun || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof trainPinn>({ ...input, epochsDone, lastProgress: r.progress, secondsSpent });
    }
  }
}

/** Train the Kurucz-a1 PINN in bounded chunks on the `gpu` queue, resuming from checkpoints. */
export async function trainPinn(input: TrainWorkflowInput): Promise<ModelRef> {
  return trainInChunks('pinn', input);
}

/** Train the spectrum CVAE in bounded chunks on the `gpu` queue, resuming from checkpoints. */
export async function trainCvae(input: TrainWorkflowInput): Promise<ModelRef> {
  return trainInChunks('cvae', input);
}

/** Validate a CVAE by parameter recovery (PCA + recovery network), on the `gpu` queue. */
export async function validateCvae(input: ValidateCvaeInput): Promise<StepOutcome<MetricsRef>> {
  const t = tracker('validateCvae');
  return t.step(
    'validate cvae',
    () => gpu.validateCvaeStep(input),
    (r) => JSON.stringify(r.result.summary),
  );
}

/** Render the HTML report from stored metrics (cpu queue). */
export async function generateReport(input: GenerateReportInput): Promise<ReportRef> {
  const t = tracker('generateReport');
  return t.step(
    'report',
    () => cpu.generateReportStep(input),
    (r) => `${r.dir} (${r.pass ? 'pass' : 'FAIL'})`,
  );
}

/** What `pipeline` returns. */
export interface PipelineResult {
  runId: string;
  datasets: Record<string, DatasetRef>;
  models: Record<string, ModelRef>;
  metrics: Record<string, MetricsRef>;
  report: ReportRef;
  /** Names of the steps that were skipped because identical results existed. */
  skipped: string[];
  steps: WorkflowProgress['steps'];
}

/** Patch marker: trainings are child workflows named by their content key (histories before it replay unchanged). */
export const TRAIN_BY_CONTENT_KEY = 'train-by-content-key';

/**
 * Train (or reuse) the model of `base` as the child workflow named by its content key
 * (`trainingIdentity`): however many pipelines ask for one key at once, one workflow trains it.
 * A pipeline that finds the training already running (WorkflowExecutionAlreadyStarted) waits on
 * a durable timer (5 s, doubling to 5 min) and asks again: once the other run has finished, its
 * own start finds the trained model and returns it at once (`findTrainedModel`), and if the
 * other run failed or was terminated with its pipeline, this one takes the training over and
 * resumes from its checkpoints. `onWait` reports the wait (shown by `status`).
 */
async function trainOnce(
  workflow: typeof trainPinn | typeof trainCvae,
  base: Omit<TrainWorkflowInput, 'chunksPerRun' | 'heartbeatTimeoutSeconds'> & { model: 'pinn' | 'cvae' },
  memo: Record<string, unknown>,
  legacyId: string,
  onWait: (workflowId: string, seconds: number) => void,
): Promise<ModelRef> {
  const { model, ...args } = base;
  if (!patched(TRAIN_BY_CONTENT_KEY))
    return executeChild(workflow, { workflowId: legacyId, args: [args], memo });
  const { workflowId } = await cpu.trainingIdentity({
    model,
    dataset: args.dataset,
    settings: args.settings,
    artifacts: args.artifacts,
  });
  for (let wait = 5; ; wait = Math.min(2 * wait, 300)) {
    try {
      return await executeChild(workflow, { workflowId, args: [args], memo });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    onWait(workflowId, wait);
    await sleep(`${wait} seconds`);
  }
}

/** The whole job: data -> split -> PINN and CVAE training -> evaluation -> validation -> report. */
export async function pipeline(config: PipelineConfig): Promise<PipelineResult> {
  const t = tracker('pipeline');
  const { workflowId: runId } = workflowInfo();
  const artifacts = config.artifacts;
  const skipped: string[] = [];
  const datasets: Record<string, DatasetRef> = {};
  const models: Record<string, ModelRef> = {};
  const metrics: Record<string, MetricsRef> = {};
  const child = <T>(name: string, run: () => Promise<T>, describe?: (r: T) => string) =>
    t.step(
      name,
      async () => {
        const r = await run();
        if (typeof r === 'object' && r !== null && (r as { skipped?: boolean }).skipped) skipped.push(name);
        return r;
      },
      describe,
    );

  const pinnBranch = async () => {
    if (!config.pinn || !config.atmospheres) return;
    const raw = await child(
      'ingest atmospheres',
      () =>
        executeChild(ingestGrid, {
          workflowId: `${runId}.ingest-atmospheres`,
          args: [{ kind: 'atmospheres', source: config.atmospheres!, artifacts }],
        }),
      (r) => `${r.result.rows} models`,
    );
    const split = await child('split atmospheres', () =>
      executeChild(splitDataset, {
        workflowId: `${runId}.split-atmospheres`,
        args: [{ dataset: raw.result, scheme: '90/10', seed: config.split.seed, artifacts }],
      }),
    );
    datasets.atmospheres = split.result;
    const train = (alpha: number, suffix: string) =>
      child(
        `train pinn${suffix}`,
        async () => {
          const before = await cpu.findTrainedModel({
            model: 'pinn',
            dataset: split.result,
            settings: trainSettings(config.pinn!, alpha),
            artifacts,
          });
          const model = await trainOnce(
            trainPinn,
            { model: 'pinn', dataset: split.result, settings: trainSettings(config.pinn!, alpha), artifacts },
            { kind: `pinn${suffix}`, alpha, datasetSha256: split.result.sha256, pipeline: runId },
            `${runId}.train-pinn${suffix}`,
            (id, s) =>
              (t.state.stage = `train pinn${suffix}: the same training is running as ${id} (another pipeline); asking again in ${s} s`),
          );
          return { ...model, skipped: before !== null };
        },
        (m) => m.path,
      );
    models.pinn = await train(config.pinn.alpha, '');
    if (config.pinn.baseline && config.pinn.alpha !== 0) models.pinnBaseline = await train(0, '-baseline');
    const ev = await child('evaluate pinn', () =>
      cpu.evaluatePinnStep({
        model: models.pinn,
        baseline: models.pinnBaseline,
        dataset: split.result,
        artifacts,
      }),
    );
    metrics.pinn = ev.result;
    if (config.pinn.spectra) {
      const sp = await child(
        'evaluate pinn spectra',
        () =>
          executeChild(evaluatePinnSpectra, {
            workflowId: `${runId}.evaluate-pinn-spectra`,
            args: [
              {
                model: models.pinn,
                baseline: models.pinnBaseline,
                dataset: split.result,
                settings: config.pinn!.spectra!,
                artifacts,
              },
            ],
          }),
        (r) => JSON.stringify(r.result.summary),
      );
      metrics.pinnSpectra = sp.result;
    }
  };

  const cvaeBranch = async () => {
    if (!config.cvae || !config.spectra) return;
    const spectra = config.spectra;
    const raw =
      'sme' in spectra
        ? await child(
            'synthesize spectra',
            () =>
              executeChild(synthesizeGrid, {
                workflowId: `${runId}.synthesize-spectra`,
                args: [{ source: spectra.sme, artifacts }],
              }),
            (r) => `${r.result.rows} PySME spectra${r.notes?.length ? `; ${r.notes.join('; ')}` : ''}`,
          )
        : await child(
            'ingest spectra',
            () =>
              executeChild(ingestGrid, {
                workflowId: `${runId}.ingest-spectra`,
                args: [{ kind: 'spectra', source: spectra, artifacts }],
              }),
            (r) => `${r.result.rows} spectra`,
          );
    const split = await child('split spectra', () =>
      executeChild(splitDataset, {
        workflowId: `${runId}.split-spectra`,
        // train / validation (early stopping) / test (the paper's evaluation and the recovery's test set)
        args: [{ dataset: raw.result, scheme: '70/15/15', seed: config.split.seed, artifacts }],
      }),
    );
    datasets.spectra = split.result;
    models.cvae = await child(
      'train cvae',
      async () => {
        const before = await cpu.findTrainedModel({
          model: 'cvae',
          dataset: split.result,
          settings: trainSettings(config.cvae!),
          artifacts,
        });
        const model = await trainOnce(
          trainCvae,
          { model: 'cvae', dataset: split.result, settings: trainSettings(config.cvae!), artifacts },
          { kind: 'cvae', datasetSha256: split.result.sha256, pipeline: runId },
          `${runId}.train-cvae`,
          (id, s) =>
            (t.state.stage = `train cvae: the same training is running as ${id} (another pipeline); asking again in ${s} s`),
        );
        return { ...model, skipped: before !== null };
      },
      (m) => m.path,
    );
    const ev = await child('evaluate cvae', () =>
      cpu.evaluateCvaeStep({ model: models.cvae, dataset: split.result, artifacts }),
    );
    metrics.cvae = ev.result;
    if (config.validation) {
      const v = await child('validate cvae', () =>
        executeChild(validateCvae, {
          workflowId: `${runId}.validate-cvae`,
          args: [
            {
              cvae: models.cvae,
              // the CVAE's own split: its test spectra are the recovery's test set, never seen in training
              dataset: split.result,
              settings: config.validation!,
              factor: config.thresholds.recoveryFactor,
              artifacts,
            },
          ],
        }),
      );
      metrics.recovery = v.result;
    }
  };

  // The synthesis engine checked on the Sun, beside the grid it synthesizes.
  const sunBranch = async () => {
    const spectra = config.spectra;
    if (!config.cvae || !spectra || !('sme' in spectra) || !spectra.sme.sun) return;
    const sme = spectra.sme;
    const r = await child(
      'check synthesis on the Sun',
      () =>
        synthActivities().checkSynthesisStep({
          sun: sme.sun!,
          linelist: sme.linelist,
          medium: sme.medium,
          artifacts,
        }),
      (x) => `median |obs - synth| ${x.result.summary.sunMedianAbsResidual}`,
    );
    metrics.synthesis = r.result;
  };

  await Promise.all([pinnBranch(), cvaeBranch(), sunBranch()]);

  const report = await t.step(
    'report',
    () =>
      executeChild(generateReport, {
        workflowId: `${runId}.report`,
        args: [
          {
            runId,
            artifacts,
            pinn: metrics.pinn,
            cvae: metrics.cvae,
            recovery: metrics.recovery,
            synthesis: metrics.synthesis,
            pinnSpectra: metrics.pinnSpectra,
            thresholds: config.thresholds,
            durationsSeconds: Object.fromEntries(
              t.state.steps.filter((s) => s.seconds !== undefined).map((s) => [s.name, s.seconds!]),
            ),
            metadata: {
              config,
              datasets: Object.fromEntries(
                Object.entries(datasets).map(([k, d]) => [
                  k,
                  { path: d.path, sha256: d.sha256, rows: d.rows },
                ]),
              ),
              models: Object.fromEntries(
                Object.entries(models).map(([k, m]) => [
                  k,
                  { path: m.path, sha256: m.sha256, epochs: m.epochsDone },
                ]),
              ),
              workflowId: runId,
              startedAt: workflowInfo().startTime.toISOString(),
            },
          },
        ],
      }),
    (r) => `${r.dir} (${r.pass ? 'pass' : 'FAIL'})`,
  );
  t.state.stage = 'done';
  return { runId, datasets, models, metrics, report, skipped, steps: t.state.steps };
}

/** Input of `sweep`. */
export interface SweepInput {
  dataset: DatasetRef;
  settings: TrainSettings;
  artifacts: string;
  /** Values of the physics weight to try (the paper chose 0.03 by such a search). */
  alphas: number[];
  /** Metric from the PINN evaluation summary to minimise (default `medianHydrostaticResidual`). */
  metric?: string;
}

/** What `sweep` returns: every trial and the best one. */
export interface SweepResult {
  trials: { alpha: number; model: ModelRef; metrics: MetricsRef; value: number }[];
  best: { alpha: number; value: number; model: ModelRef };
  metric: string;
}

/** Fan out PINN training over alpha values, evaluate each, pick the best by a validation metric. */
export async function sweep(input: SweepInput): Promise<SweepResult> {
  const t = tracker('sweep');
  const metric = input.metric ?? 'medianHydrostaticResidual';
  if (input.alphas.length === 0) throw new Error('sweep needs at least one alpha');
  const { workflowId } = workflowInfo();
  const trials = await Promise.all(
    input.alphas.map((alpha, i) =>
      t.step(
        `alpha=${alpha}`,
        async () => {
          const model = await executeChild(trainPinn, {
            workflowId: `${workflowId}.alpha-${i}`,
            args: [
              { dataset: input.dataset, settings: { ...input.settings, alpha }, artifacts: input.artifacts },
            ],
            memo: { kind: 'pinn', alpha, datasetSha256: input.dataset.sha256, sweep: workflowId },
          });
          const ev = await cpu.evaluatePinnStep({
            model,
            dataset: input.dataset,
            artifacts: input.artifacts,
          });
          const value = Number(ev.result.summary[metric]);
          if (!Number.isFinite(value))
            throw new Error(
              `evaluation of alpha=${alpha} has no numeric '${metric}' (has ${Object.keys(ev.result.summary).join(', ')})`,
            );
          return { alpha, model, metrics: ev.result, value };
        },
        (r) => `${metric}=${r.value}`,
      ),
    ),
  );
  const best = trials.reduce((a, b) => (b.value < a.value ? b : a));
  t.state.stage = 'done';
  return { trials, best: { alpha: best.alpha, value: best.value, model: best.model }, metric };
}

/** What a scheduled retraining run did. */
export interface ScheduledRunResult {
  skipped: boolean;
  reason: string;
  fingerprint: string;
  pipeline?: PipelineResult;
}

/**
 * The body of a Temporal Schedule: retrain only when the input grid changed since the last run
 * this schedule trained on (compares content hashes of the inputs).
 */
export async function scheduledRetrain(config: PipelineConfig): Promise<ScheduledRunResult> {
  const t = tracker('scheduledRetrain');
  const source = config.atmospheres ?? config.spectra;
  if (!source) throw new Error('scheduled retraining needs an atmospheres or spectra source');
  const fingerprint = await t.step('fingerprint inputs', () => cpu.inputFingerprint({ source }));
  const last = await cpu.readTrainedFingerprint({ artifacts: config.artifacts, name: config.name });
  if (last === fingerprint) {
    t.state.steps.push({
      name: 'train',
      status: 'skipped',
      detail: 'input grid unchanged since the last trained model',
    });
    t.state.stage = 'done';
    return { skipped: true, reason: 'input grid unchanged since the last trained model', fingerprint };
  }
  const { workflowId } = workflowInfo();
  const result = await t.step('pipeline', () =>
    executeChild(pipeline, { workflowId: `${workflowId}.pipeline`, args: [config] }),
  );
  await cpu.writeTrainedFingerprint({
    artifacts: config.artifacts,
    name: config.name,
    fingerprint,
    runId: workflowId,
  });
  t.state.stage = 'done';
  return {
    skipped: false,
    reason: last === null ? 'first run' : 'input grid changed',
    fingerprint,
    pipeline: result,
  };
}
