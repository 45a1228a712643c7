// The resumable training loop: deterministic shuffling, progress callbacks, atomic checkpoints.
import { mkdir, readdir, rename, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { deriveSeed, Rng, type RngState } from '@stellar-emu/numerics';
import { currentBackend, tf } from './backend.js';
import { removeStaleTempFiles } from '@stellar-emu/grid-io';
import {
  CheckpointError,
  readCheckpoint,
  writeCheckpoint,
  type DecodedCheckpoint,
  type StoredTensor,
} from './checkpoint.js';
import type { ParamStore } from './layers.js';
import type { AdamFamily } from './optimizers.js';
import { ConstantLr, type EarlyStopping, type LrSchedule } from './schedules.js';

/** A batch: named tensors with the batch on axis 0 (owned and disposed by the loop). */
export type Batch = Record<string, tf.Tensor>;

/**
 * Random-access source of training examples. The loop decides the order (a permutation per
 * epoch derived from the seed), so any source that can materialise examples by index is
 * seedable and resumable: the data position is just (epoch, step in epoch).
 */
export interface BatchSource {
  /** Number of examples in one epoch. */
  readonly numExamples: number;
  /** Tensors for the examples `indices`, in that order. */
  batch(indices: Int32Array): Batch;
  /**
   * Optional: the order of examples in epoch `epoch` (a permutation of 0..numExamples-1), drawn
   * only from `rng` (seeded from the loop seed and the epoch), e.g. a block shuffle for
   * out-of-core sources. Default: a full random permutation from the same rng.
   */
  epochOrder?(epoch: number, rng: Rng): Int32Array;
}

/** Loss of one batch: the total to minimise and named parts to report (all scalars). */
export interface LossResult {
  total: tf.Scalar;
  parts?: Record<string, tf.Scalar>;
}

/** A training step's loss and the gradient of `total` for every parameter, by parameter name. */
export interface GradientsResult {
  /** `total` and the other parts, as a LossResult's `{ total, ...parts }`. */
  parts: Record<string, tf.Scalar> & { total: tf.Scalar };
  grads: Record<string, tf.Tensor>;
}

/** Progress report passed to `onProgress`. */
export interface Progress {
  /** 'start': once, before the first step of this call (after a resume: at the restored position). */
  phase: 'start' | 'step' | 'epoch' | 'checkpoint' | 'done';
  /** 0-based epoch. */
  epoch: number;
  /** Steps done in this epoch. */
  stepInEpoch: number;
  stepsPerEpoch: number;
  /** Steps done in total. */
  globalStep: number;
  /** Mean losses since the previous step report ('step') or over the epoch ('epoch'). */
  losses: Record<string, number>;
  /** Validation loss (epoch reports, when a validation source is set). */
  valLoss?: number;
  lr: number;
  /** Training examples per second since the previous report. */
  samplesPerSec: number;
  /** Checkpoint path ('checkpoint' reports). */
  checkpointPath?: string;
  /** Global step this run resumed from (0 for a fresh start). */
  resumedFromStep: number;
  /** Checkpoint this run resumed from (null for a fresh start). */
  resumedFrom: string | null;
  /** Resident memory of the process when this report was made, MiB (native and JS; for the terminal and heartbeats). */
  rssMiB: number;
  /**
   * Corrupt checkpoints met when this run resumed (each renamed aside, see
   * {@link findResumableCheckpoint}); present on every report of such a run.
   */
  checkpointWarnings?: string[];
}

/** Options of `trainLoop`. */
export interface TrainOptions {
  params: ParamStore;
  loss: (batch: Batch) => LossResult;
  /**
   * The training loss and its gradients computed without tfjs autodiff of `loss` (a model's
   * compiled TensorFlow graph of the same function); `loss` still scores validation. Default:
   * autodiff of `loss`.
   */
  gradients?: (batch: Batch) => GradientsResult;
  train: BatchSource;
  validation?: BatchSource;
  optimizer: AdamFamily;
  /** Learning-rate schedule (default: constant 1e-3). */
  schedule?: LrSchedule;
  earlyStopping?: EarlyStopping;
  epochs: number;
  batchSize: number;
  /**
   * Batch size of the validation pass (default 4 × batchSize: no gradients are kept there). A
   * model whose validation loss does more work per example than its training loss (the CVAE
   * decodes three latents) sets it lower to bound the pass's memory.
   */
  validationBatchSize?: number;
  seed: number;
  /** Read losses back and report every this many steps (default 50)... */
  reportEverySteps?: number;
  /**
   * ...or when this many seconds passed since the last report (default 2), so that progress is
   * never older than a few seconds however slow a step is. Reports never change the training.
   */
  reportEverySeconds?: number;
  onProgress?: (p: Progress) => void | Promise<void>;
  /**
   * Checkpoint directory (by convention {@link checkpointDirOf}(model directory)); checkpoints are
   * `ckpt-<globalStep>.safetensors` there. A fresh start (no `resumeFrom`, or `'latest-if-any'`
   * finding none) deletes the `ckpt-*` files of an earlier run there first, so that a later
   * resume never mistakes them for this run's.
   */
  checkpointDir?: string;
  /** Write a checkpoint every this many steps (0: only at epoch ends and at the end). */
  checkpointEverySteps?: number;
  /** Also checkpoint at the end of every epoch (default true). */
  checkpointEachEpoch?: boolean;
  /** Keep this many newest checkpoints in checkpointDir, older ones are deleted (default 3; Infinity keeps all). */
  keepCheckpoints?: number;
  /**
   * Resume from this checkpoint file, or 'latest': the newest checkpoint in checkpointDir that
   * verifies (newer corrupt ones are renamed aside with a warning; see {@link findResumableCheckpoint}),
   * an error when there is none; or 'latest-if-any': the same, and a fresh start when there is none.
   */
  resumeFrom?: string;
  /**
   * Time budget of this call in seconds: training stops at the first epoch end after it is
   * spent, with the final checkpoint written (`budgetSpent` in the result; a later call that
   * resumes continues). Not an early stop: the run is not finished.
   */
  maxSeconds?: number;
  /**
   * Keep the best weights: called after every epoch whose monitored loss (validation total, or
   * the training total without a validation source) is lower than every earlier epoch's of the
   * run (earlier calls included: the best so far is part of the history a checkpoint restores),
   * while the params hold that epoch's weights — write them where the model keeps its best.
   */
  onBest?: (best: { epoch: number; loss: number }) => void | Promise<void>;
  /** Receives each warning (corrupt checkpoints renamed aside); default: a line on stderr. */
  onWarning?: (message: string) => void;
  /** Stored in every checkpoint; on resume it must match the checkpoint's config. */
  config: Record<string, unknown>;
  /** Normalization statistics, stored in every checkpoint. */
  normalization?: Record<string, unknown>;
  /** Stop (after writing a checkpoint) when aborted. */
  signal?: AbortSignal;
}

/** Outcome of `trainLoop`. */
export interface TrainResult {
  epochsDone: number;
  globalStep: number;
  stoppedEarly: boolean;
  aborted: boolean;
  lastValLoss: number | null;
  /**
   * One entry per finished epoch: mean training loss, validation loss and learning rate, and
   * every loss part (e.g. recon, kl) of the training epoch mean and of the validation pass
   * (`trainParts` / `valParts`; absent in checkpoints written before they were recorded).
   */
  history: {
    epoch: number;
    trainLoss: number;
    valLoss: number | null;
    lr: number;
    trainParts?: Record<string, number>;
    valParts?: Record<string, number>;
  }[];
  finalCheckpoint: string | null;
  /** Corrupt checkpoints renamed aside when this run resumed (empty when none). */
  checkpointWarnings: string[];
  /** The time budget (`maxSeconds`) ended this call. */
  budgetSpent: boolean;
  /** Global step of the checkpoint this call resumed from (0 for a fresh start). */
  resumedFromStep: number;
  /** The epoch with the lowest monitored loss so far (see `onBest`) and that loss; null before one finished. */
  best: { epoch: number; loss: number } | null;
}

/**
 * Where and how far a model's dataset-level training runs (PINN, CVAE): every model's trainer
 * takes these beside its own training options (its zod schema's keys).
 */
export interface ModelTrainingRequest<P extends Progress = Progress> {
  /** grid-io dataset directory with a split column. */
  datasetDir: string;
  /** Model directory: the model's files and `checkpoints/` ({@link checkpointDirOf}). */
  outDir: string;
  /** Stop after this many epochs in total (a chunk of a longer run; default: all epochs). */
  untilEpoch?: number;
  /**
   * true: resume from the newest checkpoint in `<outDir>/checkpoints` that verifies, if any (newer
   * corrupt ones are renamed aside and named in `checkpointWarnings`); a string: from that file.
   */
  resume?: boolean | string;
  /** Read losses back every this many steps (the trainer's default otherwise). */
  reportEverySteps?: number;
  /** Aborting writes a checkpoint and returns `{ aborted: true }`. */
  signal?: AbortSignal;
  onProgress?: (p: P) => void | Promise<void>;
  /** Receives warnings (corrupt checkpoints renamed aside on resume); default: a line on stderr. */
  onWarning?: (message: string) => void;
}

/**
 * What every model's dataset-level training returns (PINN, CVAE): one shape, so that callers
 * (the worker's training activity, the CLI) handle every model alike.
 */
export interface ModelTrainingResult {
  /** The model directory written. */
  modelDir: string;
  /** Epochs completed in total (earlier calls included). */
  epochsDone: number;
  /** The run is finished: all epochs done or early stopping fired (a spent time budget is not "done"). */
  done: boolean;
  stoppedEarly: boolean;
  /** The time budget of this call ended it (see `maxMinutes`). */
  budgetSpent: boolean;
  /** Aborted (signal): a checkpoint was written, resume continues. */
  aborted: boolean;
  globalStep: number;
  /** Global step this call resumed from (0 for a fresh start). */
  resumedFromStep: number;
  /** Newest checkpoint written by this call, or null. */
  lastCheckpoint: string | null;
  history: TrainResult['history'];
  /** Epoch of the lowest monitored loss so far and that loss (see `TrainOptions.onBest`). */
  best: TrainResult['best'];
  /** Corrupt checkpoints renamed aside when this call resumed (empty when none). */
  checkpointWarnings: string[];
  /** Wall time of this call in seconds. */
  durationS: number;
  /** nn-core backend name (tensorflow, wasm, cpu). */
  backend: string;
  /** How the gradients were computed: a compiled TensorFlow graph (`TrainOptions.gradients`) or tfjs autodiff (absent: autodiff). */
  gradients?: 'graph' | 'autodiff';
}

/** The training state stored in a checkpoint's metadata (besides config and normalization). */
export interface LoopState {
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  seed: number;
  rngState: RngState;
  optimizer: { kind: string; hyper: Record<string, number>; step: number };
  schedule: Record<string, unknown>;
  earlyStopping: Record<string, unknown> | null;
  /** Float32 sums of the loss parts over the current epoch, and the batch count. */
  epochLossSums: Record<string, number>;
  epochBatches: number;
  history: TrainResult['history'];
  config: Record<string, unknown>;
  normalization: Record<string, unknown> | null;
  backend: string | null;
  createdAt: string;
}

/** Find the newest `ckpt-*.safetensors` in a directory, or null. */
export async function latestCheckpoint(dir: string): Promise<string | null> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  const ckpts = names.filter((n) => /^ckpt-\d+\.safetensors$/.test(n)).sort();
  return ckpts.length ? join(dir, ckpts.at(-1)!) : null;
}

/** Default warning sink of the training loop: one line on stderr. */
export function warnOnStderr(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

/** Outcome of {@link findResumableCheckpoint}. */
export interface ResumableCheckpoint {
  /** The newest checkpoint that verifies, or null when the directory holds none at all. */
  path: string | null;
  /** Its verified contents. */
  checkpoint: DecodedCheckpoint | null;
  /** Its loop state. */
  state: LoopState | null;
  /** Newer checkpoints that failed to verify, and the names they were renamed to. */
  quarantined: { path: string; renamedTo: string; reason: string }[];
  /** One message per renamed checkpoint (also passed to `onWarning`). */
  warnings: string[];
}

/**
 * The checkpoint a run in `dir` resumes from: the newest `ckpt-*.safetensors` that verifies
 * (sha256, layout, kind 'training'). Newer ones that do not verify (truncated by a crash or a
 * full disk, bit rot) are renamed to `<name>.corrupt-<timestamp>` — kept for inspection, never
 * resumed from or pruned — and named in a warning. When checkpoints exist but none verifies, a
 * CheckpointError names every one with its reason and leaves them in place. An empty or missing
 * directory gives `{ path: null }`. With `tensors: false` every candidate is still verified in full
 * (streamed through its checksum), but the returned checkpoint carries only its kind and state.
 */
export async function findResumableCheckpoint(
  dir: string,
  opts: { onWarning?: (message: string) => void; tensors?: boolean } = {},
): Promise<ResumableCheckpoint> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    names = [];
  }
  const ckpts = names
    .filter((n) => /^ckpt-\d+\.safetensors$/.test(n))
    .sort()
    .reverse();
  const bad: { path: string; reason: string }[] = [];
  for (const n of ckpts) {
    const path = join(dir, n);
    let ck: DecodedCheckpoint;
    try {
      ck = await readCheckpoint(path, { tensors: opts.tensors });
    } catch (err) {
      if (!(err instanceof CheckpointError)) throw err;
      if (err.detail === 'file not found') continue; // pruned meanwhile
      bad.push({ path, reason: err.detail });
      continue;
    }
    if (ck.kind !== 'training') {
      bad.push({ path, reason: `is a '${ck.kind}' file, not a training checkpoint` });
      continue;
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const quarantined: ResumableCheckpoint['quarantined'] = [];
    const warnings: string[] = [];
    for (const b of bad) {
      const renamedTo = `${b.path}.corrupt-${stamp}`;
      await rename(b.path, renamedTo);
      quarantined.push({ ...b, renamedTo });
      const message = `checkpoint ${b.path} is corrupt (${b.reason}); renamed to ${basename(renamedTo)}, resuming from the older ${basename(path)}`;
      warnings.push(message);
      opts.onWarning?.(message);
    }
    return { path, checkpoint: ck, state: ck.state as LoopState, quarantined, warnings };
  }
  if (bad.length) {
    throw new CheckpointError(
      dir,
      `no checkpoint to resume from verifies: ${bad.map((b) => `${basename(b.path)} (${b.reason})`).join('; ')}. ` +
        'They are left in place; move them aside (or start a fresh run) to train from the beginning',
    );
  }
  return { path: null, checkpoint: null, state: null, quarantined: [], warnings: [] };
}

/**
 * Keep the `keep` newest checkpoints of a directory (step, epoch-end and final ones, from this
 * and earlier attempts alike) and delete the rest, never `current`: a multi-day run must not fill
 * the disk with checkpoints it will never resume from.
 */
export async function pruneCheckpoints(dir: string, keep: number, current?: string): Promise<string[]> {
  if (!Number.isFinite(keep)) return [];
  const names = (await readdir(dir)).filter((n) => /^ckpt-\d+\.safetensors$/.test(n)).sort();
  const doomed = names
    .slice(0, Math.max(0, names.length - Math.max(1, keep)))
    .map((n) => join(dir, n))
    .filter((p) => p !== current);
  for (const p of doomed) await unlink(p).catch(() => {});
  return doomed;
}

/** The checkpoint folder of a model directory: `<modelDir>/checkpoints` (every model's convention). */
export const CHECKPOINT_SUBDIR = 'checkpoints';

/** `<modelDir>/checkpoints`: where a model's training keeps its checkpoints. */
export function checkpointDirOf(modelDir: string): string {
  return join(modelDir, CHECKPOINT_SUBDIR);
}

/** Delete the `ckpt-*.safetensors` files of a directory (a fresh run's start); a missing directory is fine. */
export async function removeCheckpoints(dir: string): Promise<void> {
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) if (/^ckpt-\d+\.safetensors$/.test(n)) await unlink(join(dir, n));
}

/** The epoch of lowest monitored loss (validation, else training) in a history; null when empty. */
export function bestOfHistory(history: TrainResult['history']): { epoch: number; loss: number } | null {
  let best: { epoch: number; loss: number } | null = null;
  for (const h of history) {
    const loss = h.valLoss ?? h.trainLoss;
    if (Number.isFinite(loss) && (best === null || loss < best.loss)) best = { epoch: h.epoch, loss };
  }
  return best;
}

function ckptName(step: number): string {
  return `ckpt-${String(step).padStart(10, '0')}.safetensors`;
}

/** Mean validation loss over a source, in order, in batches. */
export function evaluateLoss(
  loss: (b: Batch) => LossResult,
  source: BatchSource,
  batchSize: number,
): Record<string, number> {
  let sums: Record<string, tf.Tensor> = {};
  let count = 0;
  for (let start = 0; start < source.numExamples; start += batchSize) {
    const n = Math.min(batchSize, source.numExamples - start);
    const idx = new Int32Array(n).map((_, i) => start + i);
    const batch = source.batch(idx);
    const next = tf.tidy(() => {
      const r = loss(batch);
      const parts: Record<string, tf.Scalar> = { total: r.total, ...(r.parts ?? {}) };
      const out: Record<string, tf.Tensor> = {};
      for (const [k, v] of Object.entries(parts))
        out[k] = sums[k] ? tf.add(sums[k], tf.mul(v, n)) : tf.mul(v, n);
      return out;
    });
    for (const t of Object.values(sums)) t.dispose();
    for (const t of Object.values(batch)) t.dispose();
    sums = next;
    count += n;
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(sums)) {
    out[k] = (v.dataSync()[0] as number) / count;
    v.dispose();
  }
  return out;
}

/**
 * Train `params` to minimise `loss` over `train`, resumably. Every `checkpointEverySteps` steps,
 * at epoch ends and at the end, the full state is written atomically: weights, optimizer slots
 * and step, schedule and early-stopping state, data position (epoch, step in epoch), RNG state,
 * config and normalization. Resuming from any checkpoint reproduces the uninterrupted run
 * (bitwise on the cpu backend). The order of examples in epoch e is a permutation drawn from
 * `Rng(deriveSeed(seed, e))`.
 */
export async function trainLoop(opts: TrainOptions): Promise<TrainResult> {
  const { params, optimizer, train, batchSize, epochs } = opts;
  const schedule = opts.schedule ?? new ConstantLr(1e-3);
  const reportEvery = opts.reportEverySteps ?? 50;
  const reportEveryMs = (opts.reportEverySeconds ?? 2) * 1000;
  const stepsPerEpoch = Math.ceil(train.numExamples / batchSize);
  if (opts.checkpointDir) {
    await mkdir(opts.checkpointDir, { recursive: true });
    // Temporary files of checkpoint writes that a crash interrupted (nothing writes here yet).
    await removeStaleTempFiles(opts.checkpointDir, { includeLive: true });
  }
  const onWarning = opts.onWarning ?? warnOnStderr;
  const checkpointWarnings: string[] = [];

  let epoch = 0;
  let stepInEpoch = 0;
  let globalStep = 0;
  /** A progress report at the current position (no losses, the schedule's rate and 0 samples/s unless given). */
  const report = (
    phase: Progress['phase'],
    p: Partial<Pick<Progress, 'losses' | 'valLoss' | 'lr' | 'samplesPerSec' | 'checkpointPath'>> = {},
  ) => {
    const q: Progress = {
      phase,
      epoch,
      stepInEpoch,
      stepsPerEpoch,
      globalStep,
      losses: {},
      lr: schedule.lr(globalStep),
      samplesPerSec: 0,
      ...p,
      resumedFromStep,
      resumedFrom,
      rssMiB: Math.round(process.memoryUsage.rss() / 2 ** 20),
    };
    return opts.onProgress?.(
      checkpointWarnings.length ? { ...q, checkpointWarnings: [...checkpointWarnings] } : q,
    );
  };
  let rng = new Rng(opts.seed);
  let epochSums: Record<string, number> = {};
  let epochBatches = 0;
  let history: TrainResult['history'] = [];
  const t0 = performance.now();
  let resumedFromStep = 0;
  let resumedFrom: string | null = null;

  let resumeFrom = opts.resumeFrom;
  let found: ResumableCheckpoint | null = null;
  if (resumeFrom === 'latest' || resumeFrom === 'latest-if-any') {
    found = await findResumableCheckpoint(opts.checkpointDir ?? '.', { onWarning });
    if (!found.path && resumeFrom === 'latest')
      throw new CheckpointError(
        opts.checkpointDir ?? '.',
        'no checkpoint to resume from (no ckpt-*.safetensors in the directory)',
      );
    checkpointWarnings.push(...found.warnings);
    if (!found.path) resumeFrom = undefined;
  }
  if (!resumeFrom && opts.checkpointDir) await removeCheckpoints(opts.checkpointDir);
  if (resumeFrom) {
    let path: string;
    let ck: DecodedCheckpoint;
    if (found?.path) {
      path = found.path;
      ck = found.checkpoint!;
    } else {
      path = resumeFrom;
      ck = await readCheckpoint(path);
    }
    const st = applyTrainingCheckpoint(ck, path, params, optimizer);
    if (JSON.stringify(st.config) !== JSON.stringify(opts.config)) {
      throw new CheckpointError(
        path,
        'was written with a different config; refusing to resume (start a new run or pass the same options)',
      );
    }
    if (st.seed !== opts.seed)
      throw new CheckpointError(path, `was written with seed ${st.seed}, this run uses ${opts.seed}`);
    epoch = st.epoch;
    stepInEpoch = st.stepInEpoch;
    globalStep = st.globalStep;
    rng = new Rng(st.rngState);
    schedule.setState(st.schedule);
    if (opts.earlyStopping && st.earlyStopping) opts.earlyStopping.setState(st.earlyStopping);
    epochSums = { ...st.epochLossSums };
    epochBatches = st.epochBatches;
    history = st.history;
    resumedFromStep = globalStep;
    resumedFrom = path;
  }
  let best = bestOfHistory(history);
  let budgetSpent = false;

  // Device-side running sums: one tensor per loss part, replaced (not grown) every step.
  let windowSums: Record<string, tf.Tensor> = {};
  let epochSumsT: Record<string, tf.Tensor> = {};
  const seedEpochSums = () => {
    epochSumsT = {};
    for (const [k, v] of Object.entries(epochSums)) epochSumsT[k] = tf.scalar(v, 'float32');
  };
  seedEpochSums();
  let windowSteps = 0;
  let windowSamples = 0;
  let windowStart = performance.now();
  // A run that had already stopped early (its last checkpoint says so) trains no further.
  let stoppedEarly = resumedFrom !== null && (opts.earlyStopping?.stopped ?? false);
  let aborted = false;
  let lastCheckpoint: string | null = null;
  let lastValLoss: number | null = history.length ? history.at(-1)!.valLoss : null;

  const readSums = (sums: Record<string, tf.Tensor>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(sums)) out[k] = v.dataSync()[0] as number;
    return out;
  };

  const saveCheckpoint = async (_reason: 'step' | 'epoch' | 'final') => {
    if (!opts.checkpointDir) return;
    const state: LoopState = {
      epoch,
      stepInEpoch,
      globalStep,
      seed: opts.seed,
      rngState: rng.state(),
      optimizer: { kind: optimizer.kind, hyper: { ...optimizer.hyper }, step: optimizer.step },
      schedule: schedule.getState(),
      earlyStopping: opts.earlyStopping ? opts.earlyStopping.getState() : null,
      epochLossSums: readSums(epochSumsT),
      epochBatches,
      history,
      config: opts.config,
      normalization: opts.normalization ?? null,
      backend: currentBackend()?.name ?? tf.getBackend(),
      createdAt: new Date().toISOString(),
    };
    const path = join(opts.checkpointDir, ckptName(globalStep));
    await writeCheckpoint(path, collectTrainingTensors(params, optimizer), 'training', state);
    lastCheckpoint = path;
    await pruneCheckpoints(opts.checkpointDir, opts.keepCheckpoints ?? 3, path);
    await report('checkpoint', { checkpointPath: path });
  };

  await report('start');
  outer: while (!stoppedEarly && epoch < epochs) {
    const epochRng = new Rng(deriveSeed(opts.seed, epoch));
    const perm = train.epochOrder
      ? train.epochOrder(epoch, epochRng)
      : epochRng.permutation(train.numExamples);
    if (perm.length !== train.numExamples)
      throw new Error(`epochOrder returned ${perm.length} indices, expected ${train.numExamples}`);
    while (stepInEpoch < stepsPerEpoch) {
      if (opts.signal?.aborted) {
        aborted = true;
        break outer;
      }
      const start = stepInEpoch * batchSize;
      const idx = perm.subarray(start, Math.min(start + batchSize, perm.length));
      const batch = train.batch(idx);
      const lr = schedule.lr(globalStep);
      const parts = opts.gradients
        ? applyGradients(optimizer, opts.gradients(batch), lr)
        : trainStep(params, optimizer, () => opts.loss(batch), lr);
      for (const t of Object.values(batch)) t.dispose();
      const nextWindow: Record<string, tf.Tensor> = {};
      const nextEpoch: Record<string, tf.Tensor> = {};
      tf.tidy(() => {
        for (const [k, v] of Object.entries(parts)) {
          nextWindow[k] = tf.keep(windowSums[k] ? tf.add(windowSums[k], v) : tf.add(v, 0));
          nextEpoch[k] = tf.keep(epochSumsT[k] ? tf.add(epochSumsT[k], v) : tf.add(v, 0));
        }
      });
      for (const t of [...Object.values(parts), ...Object.values(windowSums), ...Object.values(epochSumsT)])
        t.dispose();
      windowSums = nextWindow;
      epochSumsT = nextEpoch;
      stepInEpoch += 1;
      globalStep += 1;
      epochBatches += 1;
      windowSteps += 1;
      windowSamples += idx.length;

      if (
        windowSteps >= reportEvery ||
        stepInEpoch === stepsPerEpoch ||
        performance.now() - windowStart >= reportEveryMs
      ) {
        const sums = readSums(windowSums);
        const losses: Record<string, number> = {};
        for (const [k, v] of Object.entries(sums)) losses[k] = v / windowSteps;
        const now = performance.now();
        const samplesPerSec = (windowSamples / Math.max(1e-9, now - windowStart)) * 1000;
        for (const t of Object.values(windowSums)) t.dispose();
        windowSums = {};
        windowSteps = 0;
        windowSamples = 0;
        windowStart = now;
        await report('step', { losses, lr, samplesPerSec });
      }
      if (opts.checkpointEverySteps && globalStep % opts.checkpointEverySteps === 0)
        await saveCheckpoint('step');
    }

    // End of epoch: validation, schedule, early stopping.
    const sums = readSums(epochSumsT);
    const trainLosses: Record<string, number> = {};
    for (const [k, v] of Object.entries(sums)) trainLosses[k] = v / Math.max(1, epochBatches);
    const val = opts.validation
      ? evaluateLoss(opts.loss, opts.validation, opts.validationBatchSize ?? batchSize * 4)
      : null;
    const metric = val ? val.total : trainLosses.total;
    lastValLoss = val ? val.total : null;
    const lrUsed = schedule.lr(Math.max(0, globalStep - 1));
    schedule.onEpochEnd(metric);
    history.push({
      epoch,
      trainLoss: trainLosses.total,
      valLoss: lastValLoss,
      lr: lrUsed,
      trainParts: { ...trainLosses },
      ...(val ? { valParts: { ...val } } : {}),
    });
    if (opts.earlyStopping?.update(metric, epoch)) stoppedEarly = true;
    if (Number.isFinite(metric) && (best === null || metric < best.loss)) {
      best = { epoch, loss: metric };
      await opts.onBest?.(best);
    }
    await report('epoch', { losses: trainLosses, valLoss: val?.total, lr: lrUsed });
    epoch += 1;
    stepInEpoch = 0;
    epochBatches = 0;
    for (const t of Object.values(epochSumsT)) t.dispose();
    epochSums = {};
    epochSumsT = {};
    if (stoppedEarly) break;
    if (opts.maxSeconds !== undefined && epoch < epochs && performance.now() - t0 > opts.maxSeconds * 1000) {
      budgetSpent = true;
      break;
    }
    if ((opts.checkpointEachEpoch ?? true) && epoch < epochs) await saveCheckpoint('epoch');
  }
  // The final checkpoint reads the running epoch sums (mid-epoch after an abort): save, then dispose.
  await saveCheckpoint('final');
  for (const t of [...Object.values(windowSums), ...Object.values(epochSumsT)]) t.dispose();
  await report('done');
  return {
    epochsDone: epoch,
    globalStep,
    stoppedEarly,
    aborted,
    lastValLoss,
    history,
    finalCheckpoint: lastCheckpoint,
    checkpointWarnings,
    budgetSpent,
    resumedFromStep,
    best,
  };
}

/**
 * One optimizer step, as `trainLoop` takes it: the gradients of `loss()` with respect to every
 * parameter, then the optimizer's update at learning rate `lr`, each gradient released as soon
 * as its parameter is updated (see AdamFamily `apply`). Returns the loss and its parts (the
 * caller disposes them); every other tensor of the step is freed.
 */
export function trainStep(
  params: ParamStore,
  optimizer: AdamFamily,
  loss: () => LossResult,
  lr: number,
): Record<string, tf.Scalar> {
  const names = params.names();
  const varList = names.map((n) => params.get(n));
  return tf.tidy(() => {
    let partsOut: Record<string, tf.Scalar> = {};
    const { value, grads } = tf.variableGrads(() => {
      const r = loss();
      partsOut = { total: r.total, ...(r.parts ?? {}) };
      for (const t of Object.values(partsOut)) tf.keep(t);
      return r.total;
    }, varList);
    if (value !== partsOut.total) value.dispose();
    const named: Record<string, tf.Tensor> = {};
    names.forEach((n, i) => (named[n] = grads[varList[i].name]));
    return applyGradients(optimizer, { parts: partsOut as GradientsResult['parts'], grads: named }, lr);
  });
}

/** One optimizer update from precomputed gradients (released); returns the loss parts. */
export function applyGradients(
  optimizer: AdamFamily,
  step: GradientsResult,
  lr: number,
): Record<string, tf.Scalar> {
  optimizer.apply(step.grads, lr, { releaseGradients: true });
  return step.parts;
}

/** Parameters as `param/<name>` and optimizer slots as `opt/<slot>` tensors. */
export function collectTrainingTensors(
  params: ParamStore,
  optimizer?: AdamFamily,
): Map<string, StoredTensor> {
  // lazy: each variable is copied to the host only while its bytes are written
  return new Map([...params.toStoredTensors('param/'), ...(optimizer?.slotsToStoredTensors('opt/') ?? [])]);
}

/** Load a training checkpoint into params and optimizer; returns its loop state. */
export async function loadTrainingCheckpoint(
  path: string,
  params: ParamStore,
  optimizer?: AdamFamily,
): Promise<LoopState> {
  return applyTrainingCheckpoint(await readCheckpoint(path), path, params, optimizer);
}

/** Restore params and optimizer from a decoded training checkpoint (read from `path`); returns its loop state. */
export function applyTrainingCheckpoint(
  ck: DecodedCheckpoint,
  path: string,
  params: ParamStore,
  optimizer?: AdamFamily,
): LoopState {
  if (ck.kind !== 'training')
    throw new CheckpointError(path, `is a '${ck.kind}' file, not a training checkpoint`);
  const state = ck.state as LoopState;
  const values = new Map<string, { shape: number[]; data: Float32Array }>();
  const slots = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, t] of ck.tensors) {
    if (k.startsWith('param/')) values.set(k.slice(6), { shape: t.shape, data: t.data as Float32Array });
    else if (k.startsWith('opt/')) slots.set(k.slice(4), { shape: t.shape, data: t.data as Float32Array });
  }
  try {
    params.restore(values);
    if (optimizer)
      optimizer.setState({
        kind: state.optimizer.kind as AdamFamily['kind'],
        hyper: state.optimizer.hyper as any,
        step: state.optimizer.step,
        slots,
      });
  } catch (err) {
    throw new CheckpointError(path, `does not fit this model: ${(err as Error).message}`);
  }
  return state;
}
