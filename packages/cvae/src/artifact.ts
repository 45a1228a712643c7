// The model directory: model.json (config, labels, scales, training box, wavelength grid) + weights.safetensors.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDirectoryAtomic, writeFileAtomic } from '@stellar-emu/grid-io';
import { CheckpointError, readCheckpoint, writeCheckpoint, type StoredTensor, type TrainResult } from '@stellar-emu/nn-core';
import { validateCvaeConfig, type CvaeConfig } from './config.js';
import type { LabelScale } from './data.js';
import { SpectrumCvae } from './model.js';

/** Format tag of model.json. */
export const CVAE_MODEL_FORMAT = 'stellar-emu-cvae/1';
/** File names inside a model directory. */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_FILE = 'weights.safetensors';

/** One conditioning label as stored in model.json (physical units of the dataset column). */
export interface ModelLabel extends LabelScale {
  /** camelCase record key (teffK, logg, vsiniKms, mh, vmicKms, resolution) when the dataset has one. */
  key: string;
  /** Training box: the range of the label over the training rows. */
  rangeMin: number;
  rangeMax: number;
}

/** Contents of model.json. */
export interface CvaeModelJson {
  format: typeof CVAE_MODEL_FORMAT;
  createdAt: string;
  config: CvaeConfig;
  labels: ModelLabel[];
  /** Wavelength grid: flux[i] is at startAngstrom + i · stepAngstrom (Å). */
  wavelength: { startAngstrom: number; stepAngstrom: number; nPixels: number };
  weightsFile: string;
  /** Provenance and training summary (free JSON). */
  training: Record<string, unknown>;
}

/** A loaded model: the network with its weights and the metadata generation needs. */
export interface LoadedCvae {
  dir: string;
  meta: CvaeModelJson;
  model: SpectrumCvae;
}

/** Error for a missing or corrupt model directory. */
export class CvaeModelError extends Error {
  constructor(
    readonly dir: string,
    detail: string,
  ) {
    super(`CVAE model ${dir}: ${detail}`);
    this.name = 'CvaeModelError';
  }
}

/**
 * Write the network's parameters to `<dir>/weights.safetensors` and `meta` to `<dir>/model.json`
 * as one unit: both go into a temporary sibling folder (with the rest of `dir` — checkpoints/ —
 * hard-linked in), fsynced, which then replaces `dir` (grid-io `writeDirectoryAtomic`). A failure
 * at any point leaves the previous weights, model.json and checkpoints as they were.
 */
export async function saveCvaeModel(dir: string, model: SpectrumCvae, meta: Omit<CvaeModelJson, 'format' | 'weightsFile' | 'createdAt'>): Promise<void> {
  const tensors = new Map<string, StoredTensor>();
  for (const [k, v] of model.params.snapshot()) tensors.set(k, v);
  const json: CvaeModelJson = { format: CVAE_MODEL_FORMAT, createdAt: new Date().toISOString(), weightsFile: WEIGHTS_FILE, ...meta };
  await writeDirectoryAtomic(dir, async (stage) => {
    await writeCheckpoint(join(stage, WEIGHTS_FILE), tensors, 'cvae-weights', { config: meta.config });
    await writeFile(join(stage, MODEL_JSON), `${JSON.stringify(json, null, 2)}\n`);
  });
}

/** Validate a parsed model.json. */
export function parseModelJson(value: unknown, dir: string): CvaeModelJson {
  const v = value as Partial<CvaeModelJson> | null;
  const fail = (what: string): never => {
    throw new CvaeModelError(dir, `${MODEL_JSON} ${what}`);
  };
  if (!v || typeof v !== 'object') return fail('is not a JSON object');
  if (v.format !== CVAE_MODEL_FORMAT) fail(`has format ${JSON.stringify(v.format)}, expected '${CVAE_MODEL_FORMAT}'`);
  if (!v.config || typeof v.config !== 'object') fail('has no config');
  // Model directories written before the log-variance bound have no such field: unbounded.
  if (v.config!.logvarBound === undefined) v.config!.logvarBound = null;
  try {
    validateCvaeConfig(v.config!);
  } catch (err) {
    fail(`has an invalid config: ${(err as Error).message}`);
  }
  if (!Array.isArray(v.labels) || v.labels.length !== v.config!.labelColumns.length) fail('labels do not match config.labelColumns');
  for (const l of v.labels!) {
    for (const k of ['min', 'max', 'rangeMin', 'rangeMax'] as const) if (typeof l[k] !== 'number' || !Number.isFinite(l[k])) fail(`label ${l.column}: ${k} is not a finite number`);
  }
  const w = v.wavelength;
  if (!w || !Number.isFinite(w.startAngstrom) || !(w.stepAngstrom > 0) || w.nPixels !== v.config!.nPixels) fail('has no valid wavelength grid matching config.nPixels');
  if (typeof v.weightsFile !== 'string') fail('names no weights file');
  return v as CvaeModelJson;
}

/** Load a model directory; a missing or corrupt model.json or weights file gives a CvaeModelError. */
export async function loadCvaeModel(dir: string): Promise<LoadedCvae> {
  let text: string;
  try {
    text = await readFile(join(dir, MODEL_JSON), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CvaeModelError(dir, code === 'ENOENT' ? `no ${MODEL_JSON} (not a model directory; train one with 'stellar-emu train cvae')` : `cannot read ${MODEL_JSON} (${code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CvaeModelError(dir, `${MODEL_JSON} is not valid JSON (${(err as Error).message})`);
  }
  const meta = parseModelJson(json, dir);
  let ck;
  try {
    ck = await readCheckpoint(join(dir, meta.weightsFile));
  } catch (err) {
    throw new CvaeModelError(dir, err instanceof CheckpointError ? err.message : String(err));
  }
  if (ck.kind !== 'cvae-weights') throw new CvaeModelError(dir, `${meta.weightsFile} is a '${ck.kind}' file, not CVAE weights`);
  const model = new SpectrumCvae(meta.config);
  try {
    const values = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, t] of ck.tensors) values.set(k, { shape: t.shape, data: t.data as Float32Array });
    model.params.restore(values);
  } catch (err) {
    model.dispose();
    throw new CvaeModelError(dir, `${meta.weightsFile} does not fit model.json: ${(err as Error).message}`);
  }
  return { dir, meta, model };
}

/** File of a model directory with the per-epoch loss curves of its training. */
export const TRAINING_HISTORY_JSON = 'training-history.json';

/** The loss curves of a CVAE training (all epochs so far, across resumes). */
export interface CvaeTrainingHistory {
  preset: string;
  epochsDone: number;
  bestEpoch: number | null;
  budgetSpent: boolean;
  trainExamples: number;
  valExamples: number;
  /** nn-core's per-epoch history: trainLoss, valLoss, lr, trainParts (recon, kl, klMu, klVar), valParts (also reconPrior, reconSample). */
  history: TrainResult['history'];
}

/** Write `training-history.json` (atomically) into a model directory. */
export async function writeTrainingHistory(dir: string, h: CvaeTrainingHistory): Promise<void> {
  await writeFileAtomic(join(dir, TRAINING_HISTORY_JSON), `${JSON.stringify(h)}\n`);
}

/** The training history of a model directory, or null when it has none (older models). */
export async function readTrainingHistory(dir: string): Promise<CvaeTrainingHistory | null> {
  try {
    return JSON.parse(await readFile(join(dir, TRAINING_HISTORY_JSON), 'utf8')) as CvaeTrainingHistory;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CvaeModelError(dir, `${TRAINING_HISTORY_JSON}: ${(err as Error).message}`);
  }
}
