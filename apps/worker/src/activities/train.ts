// Training activities: bounded chunks of PINN or CVAE training that heartbeat their progress,
// resume from the last checkpoint after a crash, and checkpoint on cancellation or drain.
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  initBackend,
  type ModelTrainingRequest,
  type ModelTrainingResult,
  type Progress,
} from '@stellar-emu/nn-core';
import { sha256Hex } from '@stellar-emu/grid-io';
import { trainPinnOnDataset } from '@stellar-emu/pinn';
import { trainCvae } from '@stellar-emu/cvae';
import type {
  CvaeTrainSettings,
  ModelRef,
  TrainChunkInput,
  TrainChunkResult,
  TrainProgress,
  TrainSettings,
} from '@stellar-emu/workflows';
import { hashPath, LocalArtifactStore, stepKey } from '../artifacts/store.js';
import { drainSignal, heartbeatPump } from './heartbeat.js';

/** The step key of a training run: model kind, settings and the dataset's content hash. */
export function trainingKey(input: Omit<TrainChunkInput, 'untilEpoch'>): string {
  return stepKey(`train-${input.model}`, input.settings, { dataset: input.dataset.sha256 });
}

/**
 * The training's content key and the workflow ID the pipelines start it under:
 * `train-<model>-<first 24 hex of sha256(store path, key)>` — the same for every pipeline that
 * asks for this model in this artifact store, different across stores.
 */
export async function trainingIdentity(
  input: Omit<TrainChunkInput, 'untilEpoch'>,
): Promise<{ key: string; workflowId: string }> {
  const key = trainingKey(input);
  const id = sha256Hex(`${resolve(input.artifacts)}\0${key}`).slice(0, 24);
  return { key, workflowId: `train-${input.model}-${id}` };
}

/**
 * The trainers, one per model kind, all with nn-core's one request and result shape: the
 * settings are the model package's training options, passed on unchanged (the trainer parses
 * them with its schema); `maxSeconds` is what is left of the pipeline's time budget.
 */
const TRAINERS: Record<
  TrainChunkInput['model'],
  (settings: TrainSettings, run: ModelTrainingRequest, maxSeconds?: number) => Promise<ModelTrainingResult>
> = {
  pinn: (settings, run, maxSeconds) => trainPinnOnDataset({ ...settings, ...budget(maxSeconds), ...run }),
  cvae: (settings, run, maxSeconds) =>
    trainCvae({ ...(settings as CvaeTrainSettings), ...budget(maxSeconds), ...run }),
};

/** The time budget of one chunk as a training option. */
function budget(maxSeconds: number | undefined): { maxMinutes?: number } {
  return maxSeconds !== undefined ? { maxMinutes: maxSeconds / 60 } : {};
}

async function modelDirFor(input: Omit<TrainChunkInput, 'untilEpoch'>): Promise<string> {
  const store = new LocalArtifactStore(input.artifacts);
  return join(await store.stepDir(`train-${input.model}`, trainingKey(input)), 'model');
}

function anySignal(signals: (AbortSignal | undefined)[]): AbortSignal {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return AbortSignal.any(present);
}

/**
 * Train until `untilEpoch` epochs are done in total. Progress goes to the activity heartbeat
 * every few seconds ({epoch, step, losses, checkpoint, eta}); a retried attempt resumes from the
 * newest checkpoint in the model directory. Cancellation writes a checkpoint, then reports the
 * cancellation; a worker drain (SIGTERM) writes a checkpoint and fails retryably.
 */
export async function trainChunk(input: TrainChunkInput): Promise<TrainChunkResult> {
  await initBackend();
  const modelDir = await modelDirFor(input);
  // The loop resumes from the newest checkpoint that verifies; newer corrupt ones are renamed aside
  // and named in every progress report (a directory of corrupt checkpoints only is a
  // non-retryable CheckpointError).
  const checkpointWarnings: string[] = [];
  // Heartbeats every 2 s (the worker's throttle allows it): `status` lags training by a few seconds.
  const hb = heartbeatPump(2000);
  const signal = anySignal([hb.signal, drainSignal]);
  let progress: TrainProgress = {
    model: input.model,
    epoch: 0,
    epochs: input.settings.epochs,
    globalStep: 0,
    stepInEpoch: 0,
    stepsPerEpoch: 0,
    losses: {},
    valLoss: null,
    samplesPerSec: 0,
    etaSeconds: null,
    checkpoint: null,
    resumedFromStep: 0,
  };
  const addWarnings = (more: string[] | undefined) => {
    for (const w of more ?? []) if (!checkpointWarnings.includes(w)) checkpointWarnings.push(w);
    if (checkpointWarnings.length) progress.checkpointWarnings = [...checkpointWarnings];
  };
  // Step rate for the ETA: measured from the first progress report of this attempt, so start-up
  // (data loading, the first compiled step) does not skew it.
  let first: { step: number; t: number } | null = null;
  let stepsPerSecond = 0;
  // The time budget ends training at the first epoch end after it: the ETA is at most what is left.
  const budgetEndsAt =
    input.maxSeconds !== undefined ? performance.now() + input.maxSeconds * 1000 : Infinity;
  const onProgress = (p: Progress) => {
    const now = performance.now();
    if (!first) first = { step: p.globalStep, t: now };
    else if (p.globalStep > first.step && now > first.t)
      stepsPerSecond = (p.globalStep - first.step) / ((now - first.t) / 1000);
    const totalSteps = p.stepsPerEpoch * input.settings.epochs;
    const epochsEta = stepsPerSecond > 0 ? Math.max(0, (totalSteps - p.globalStep) / stepsPerSecond) : null;
    const budgetLeft = Math.max(0, (budgetEndsAt - now) / 1000);
    const byBudget = epochsEta !== null && budgetLeft < epochsEta;
    progress = {
      ...progress,
      epoch: p.epoch,
      globalStep: p.globalStep,
      stepInEpoch: p.stepInEpoch,
      stepsPerEpoch: p.stepsPerEpoch,
      losses: { ...progress.losses, ...p.losses },
      valLoss: p.valLoss ?? progress.valLoss,
      samplesPerSec: p.samplesPerSec,
      rssMiB: p.rssMiB,
      etaSeconds: byBudget ? budgetLeft : epochsEta,
      checkpoint: p.checkpointPath ?? progress.checkpoint ?? p.resumedFrom,
      resumedFromStep: p.resumedFromStep,
      reportedAt: Date.now(),
    };
    if (byBudget) progress.etaBy = 'budget';
    else delete progress.etaBy;
    addWarnings(p.checkpointWarnings);
    hb.update(progress);
  };
  const t0 = performance.now();
  try {
    const r = await TRAINERS[input.model](
      input.settings,
      {
        datasetDir: input.dataset.path,
        outDir: modelDir,
        untilEpoch: input.untilEpoch,
        resume: true,
        signal,
        onProgress,
        onWarning: (w) => console.warn(`trainChunk ${input.model}: ${w}`),
      },
      input.maxSeconds,
    );
    progress.resumedFromStep = r.resumedFromStep;
    progress.checkpoint = r.lastCheckpoint ?? progress.checkpoint;
    addWarnings(r.checkpointWarnings);
    const { epochsDone, stoppedEarly, aborted, budgetSpent } = r;
    // A spent budget ends the pipeline's training (with the best weights), not only this chunk.
    const done = r.done || budgetSpent;
    hb.update(progress);
    if (aborted) {
      if (hb.signal?.aborted)
        throw new CancelledFailure(`training cancelled; checkpoint ${progress.checkpoint}`);
      throw ApplicationFailure.retryable(
        `worker draining; resume from checkpoint ${progress.checkpoint}`,
        'WorkerDraining',
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      modelDir,
      epochsDone,
      done,
      stoppedEarly,
      progress,
      sha256: done ? await hashPath(modelDir) : null,
      seconds,
      budgetSpent,
    };
  } finally {
    hb.stop();
  }
}

/** Record a finished training run so identical re-runs skip it. */
export async function finishTraining(
  input: TrainChunkInput & { result: TrainChunkResult },
): Promise<ModelRef> {
  const store = new LocalArtifactStore(input.artifacts);
  const key = trainingKey(input);
  const path = input.result.modelDir;
  const sha256 = await hashPath(path);
  const ref: ModelRef = { model: input.model, path, sha256, epochsDone: input.result.epochsDone };
  await store.recordCompleted({
    step: `train-${input.model}`,
    key,
    outputs: { model: { path, sha256 } },
    summary: { model: ref, progress: input.result.progress },
    completedAt: new Date().toISOString(),
  });
  return ref;
}

/** A finished training run with these inputs, if any. */
export async function findTrainedModel(input: Omit<TrainChunkInput, 'untilEpoch'>): Promise<ModelRef | null> {
  const store = new LocalArtifactStore(input.artifacts);
  const done = await store.findCompleted(`train-${input.model}`, trainingKey(input));
  return done ? (done.summary.model as ModelRef) : null;
}
