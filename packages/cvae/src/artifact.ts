// The model directory: model.json (config, labels, scales, training box, wavelength grid) + weights.safetensors.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@stellar-emu/grid-io';
import {
  CheckpointError,
  parseModelMeta,
  readCheckpoint,
  readModelDir,
  writeCheckpoint,
  writeModelDir,
  type ModelDirFormat,
  type TrainResult,
} from '@stellar-emu/nn-core';
import { z } from 'zod';
import { validateCvaeConfig, type CvaeConfig } from './config.js';
import type { LabelScale } from './data.js';
import { SpectrumCvae } from './model.js';

/** Format tag of model.json. */
export const CVAE_MODEL_FORMAT = 'stellar-emu-cvae/1';
/** File names inside a model directory. */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_FILE = 'weights.safetensors';

/**
 * One conditioning label as stored in model.json: its scale (min and max of the value, or of
 * log10(value + log10Offset)) and its training box in physical units of the dataset column.
 */
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
  /** sha256 of the weights file (absent in model directories written before it was recorded). */
  weightsSha256?: string;
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

const widths = z.array(z.number());

/** zod schema of the config in model.json; the rules are `validateCvaeConfig`'s. */
const cvaeConfigSchema = z
  .looseObject({
    preset: z.string(),
    nPixels: z.number(),
    labelColumns: z.array(z.string()),
    encoderWidths: widths,
    latentDim: z.number(),
    decoderWidths: widths,
    beta: z.number(),
    klWarmupSteps: z.number(),
    // Model directories written before the log-variance bound have no such field: unbounded.
    logvarBound: z.number().nullable().default(null),
    fluxRange: z.tuple([z.number(), z.number()]),
    learningRate: z.number(),
    plateau: z.looseObject({ factor: z.number(), patience: z.number(), minLr: z.number() }),
    validationLatent: z.enum(['sample', 'mean', 'zero']),
    // Model directories written before log-scaled labels: every label linear.
    labelLog10Offsets: z.record(z.string(), z.number()).default({}),
    earlyStoppingPatience: z.number(),
    batchSize: z.number(),
    epochs: z.number(),
    seed: z.number(),
  })
  .superRefine((config, ctx) => {
    try {
      validateCvaeConfig(config);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

/** zod schema of model.json (fields unknown to it are kept). */
export const CVAE_MODEL_JSON_SCHEMA: z.ZodType<CvaeModelJson> = z
  .looseObject({
    format: z.literal(CVAE_MODEL_FORMAT),
    createdAt: z.string(),
    config: cvaeConfigSchema,
    labels: z.array(
      z.looseObject({
        column: z.string(),
        key: z.string(),
        min: z.number(),
        max: z.number(),
        log10Offset: z.number().optional(),
        rangeMin: z.number(),
        rangeMax: z.number(),
      }),
    ),
    wavelength: z.looseObject({
      startAngstrom: z.number(),
      stepAngstrom: z.number().positive(),
      nPixels: z.number(),
    }),
    weightsFile: z.string().min(1),
    weightsSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    training: z.record(z.string(), z.unknown()),
  })
  .superRefine((m, ctx) => {
    if (m.labels.length !== m.config.labelColumns.length)
      ctx.addIssue({
        code: 'custom',
        path: ['labels'],
        message: `${m.labels.length} labels do not match the ${m.config.labelColumns.length} of config.labelColumns`,
      });
    if (m.wavelength.nPixels !== m.config.nPixels)
      ctx.addIssue({
        code: 'custom',
        path: ['wavelength', 'nPixels'],
        message: `${m.wavelength.nPixels} does not match config.nPixels ${m.config.nPixels}`,
      });
  });

/** The layout of a CVAE model directory (nn-core `writeModelDir` / `readModelDir`). */
export const CVAE_MODEL_DIR: ModelDirFormat<CvaeModelJson> = {
  metaFile: MODEL_JSON,
  schema: CVAE_MODEL_JSON_SCHEMA,
  weightsOf: (m) => ({ file: m.weightsFile, sha256: m.weightsSha256 ?? null }),
  error: (dir, detail) => new CvaeModelError(dir, detail),
  hints: {
    missingDir: "train one with 'stellar-emu train cvae'",
    missingMeta: "not a model directory; train one with 'stellar-emu train cvae'",
  },
};

/**
 * Write the network's parameters to `<dir>/weights.safetensors` and `meta` to `<dir>/model.json`
 * (with the weights' sha256) as one unit (nn-core `writeModelDir`): both go into a temporary
 * sibling folder (with the rest of `dir` — checkpoints/ — hard-linked in), fsynced, which then
 * replaces `dir`. A failure at any point leaves the previous weights, model.json and checkpoints
 * as they were.
 */
export async function saveCvaeModel(
  dir: string,
  model: SpectrumCvae,
  meta: Omit<CvaeModelJson, 'format' | 'weightsFile' | 'weightsSha256' | 'createdAt'>,
): Promise<void> {
  const tensors = model.params.toStoredTensors();
  const createdAt = new Date().toISOString();
  await writeModelDir<CvaeModelJson>(dir, CVAE_MODEL_DIR, {
    weightsFile: WEIGHTS_FILE,
    writeWeights: (path) => writeCheckpoint(path, tensors, 'cvae-weights', { config: meta.config }),
    meta: (weights) => ({
      format: CVAE_MODEL_FORMAT,
      createdAt,
      weightsFile: weights.file,
      ...meta,
      weightsSha256: weights.sha256,
    }),
  });
}

/** Validate a parsed model.json ({@link CVAE_MODEL_JSON_SCHEMA}); a CvaeModelError names each failing field. */
export function parseModelJson(value: unknown, dir: string): CvaeModelJson {
  return parseModelMeta(CVAE_MODEL_DIR, value, dir);
}

/**
 * Load a model directory: model.json (validated, naming the failing field) and the weights it
 * names (verified against its sha256 when recorded, and by their own checksum); a missing or
 * corrupt model.json or weights file gives a CvaeModelError.
 */
export async function loadCvaeModel(dir: string): Promise<LoadedCvae> {
  const { meta, weightsPath } = await readModelDir(dir, CVAE_MODEL_DIR);
  let ck;
  try {
    ck = await readCheckpoint(weightsPath);
  } catch (err) {
    throw new CvaeModelError(dir, err instanceof CheckpointError ? err.message : String(err));
  }
  if (ck.kind !== 'cvae-weights')
    throw new CvaeModelError(dir, `${meta.weightsFile} is a '${ck.kind}' file, not CVAE weights`);
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
