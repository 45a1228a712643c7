// Model directories: model.json (config, training box, normalization, tau convention, provenance) beside the weights.
import { ATMOSPHERE_QUANTITIES, ATMOSPHERE_QUANTITY_INFO, type DeckDefaults } from '@stellar-emu/grid-io';
import {
  CheckpointError,
  readModelDir,
  writeModelDir as writeModelDirectory,
  type ModelDirFormat,
} from '@stellar-emu/nn-core';
import { z } from 'zod';
import { LABEL_NAMES, type PhysicsOptions, type PinnArchitecture } from './config.js';
import { PinnEmulator } from './emulator.js';
import { MODEL_KIND } from './model-file.js';
import type { Normalization } from './normalization.js';

/** File names inside a model directory. */
export const MODEL_JSON = 'model.json';
export const MODEL_WEIGHTS = 'model.safetensors';
export const CHECKPOINT_SUBDIR = 'checkpoints';

/** The Rosseland tau convention of every PINN model (see `rosselandTau`). */
export const TAU_CONVENTION =
  'Rosseland tau = trapezoid integral of ABROSS over RHOX from the surface, tau_0 = ABROSS_0 * RHOX_0 (grid-io rosselandTau); network input log10 tau';

/** Contents of model.json: everything prediction needs besides the weights file. */
export interface PinnModelJson {
  kind: typeof MODEL_KIND;
  formatVersion: 1;
  /** Weights file (safetensors, self-verifying) and its sha256. */
  weights: { file: string; sha256: string };
  preset: string;
  arch: PinnArchitecture;
  physics: PhysicsOptions;
  seed: number;
  /** Training box of the physical labels (teffK in K, logg dex cgs, feh and afe dex) and of log10 tau. */
  labelRanges: Record<(typeof LABEL_NAMES)[number], { min: number; max: number }> & {
    log10Tau: { min: number; max: number };
  };
  normalization: Normalization;
  tauConvention: string;
  /** Output quantities, their units and the transform learned (log10 of each). */
  outputs: { name: string; unit: string }[];
  backend: string;
  dataset: {
    dir: string;
    hash: string;
    rowCount: number;
    splitCounts: Record<string, number>;
    trainModels: number;
    valModels: number;
  };
  /** The training grid's abundance mix and PRADK ratio (its manifest's `notes.deckDefaults`), for exported decks; absent in models trained before it was recorded. */
  deckDefaults?: DeckDefaults | null;
  training: {
    config: Record<string, unknown>;
    epochs: number;
    epochsDone: number;
    done: boolean;
    stoppedEarly: boolean;
    globalStep: number;
    durationS: number;
    /** How the training gradients were computed (the last chunk); absent in older models. */
    gradients?: 'graph' | 'autodiff';
    history: { epoch: number; trainLoss: number; valLoss: number | null; lr: number }[];
  };
  createdAt: string;
}

/** Error for a missing, incomplete or corrupt model directory. */
export class ModelDirError extends Error {
  constructor(
    readonly dir: string,
    detail: string,
  ) {
    super(`model directory ${dir}: ${detail}`);
    this.name = 'ModelDirError';
  }
}

const range = z.object({ min: z.number(), max: z.number() });
const widths = z.array(z.number().int().positive());
const numbers = z.array(z.number());
/** A loss: JSON has no NaN, so a diverged epoch's NaN was written as null; read back as NaN. */
const loss = z
  .number()
  .nullable()
  .transform((v) => v ?? Number.NaN);

/** zod schema of model.json (fields unknown to it are kept). */
export const PINN_MODEL_JSON_SCHEMA: z.ZodType<PinnModelJson> = z.looseObject({
  kind: z.literal(MODEL_KIND),
  formatVersion: z.literal(1),
  weights: z.looseObject({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  preset: z.string(),
  arch: z.looseObject({
    labelEncoder: widths,
    tauEncoder: widths,
    mlp: widths,
    activation: z.enum(['gelu', 'relu', 'sigmoid', 'linear']),
    layerNorm: z.boolean(),
  }),
  physics: z.looseObject({
    alpha: z.number(),
    includeAccrad: z.boolean(),
    maskOuterLayers: z.number().int().nonnegative(),
    maskInnerLayers: z.number().int().nonnegative(),
  }),
  seed: z.number(),
  labelRanges: z.looseObject({ teffK: range, logg: range, feh: range, afe: range, log10Tau: range }),
  normalization: z.looseObject({
    labelMean: numbers,
    labelStd: numbers,
    logTauMean: z.number(),
    logTauStd: z.number(),
    outMean: numbers,
    outStd: numbers,
    labelMin: numbers,
    labelMax: numbers,
    logTauMin: z.number(),
    logTauMax: z.number(),
    defaultLogTauGrid: numbers,
  }),
  tauConvention: z.string(),
  outputs: z.array(z.looseObject({ name: z.string(), unit: z.string() })),
  backend: z.string(),
  dataset: z.looseObject({
    dir: z.string(),
    hash: z.string(),
    rowCount: z.number(),
    splitCounts: z.record(z.string(), z.number()),
    trainModels: z.number(),
    valModels: z.number(),
  }),
  deckDefaults: z
    .looseObject({
      abundanceChange: numbers,
      abundanceFrom: z.string(),
      abundanceDiffering: z.number(),
      decks: z.number(),
      pradkRatio: z.looseObject({ teffK: numbers, ratio: numbers }),
    })
    .nullable()
    .optional(),
  training: z.looseObject({
    config: z.record(z.string(), z.unknown()),
    epochs: z.number(),
    epochsDone: z.number(),
    done: z.boolean(),
    stoppedEarly: z.boolean(),
    globalStep: z.number(),
    durationS: z.number(),
    history: z.array(
      z.looseObject({ epoch: z.number(), trainLoss: loss, valLoss: z.number().nullable(), lr: z.number() }),
    ),
  }),
  createdAt: z.string(),
});

/** The layout of a PINN model directory (nn-core `writeModelDir` / `readModelDir`). */
export const PINN_MODEL_DIR: ModelDirFormat<PinnModelJson> = {
  metaFile: MODEL_JSON,
  schema: PINN_MODEL_JSON_SCHEMA,
  weightsOf: (m) => m.weights,
  error: (dir, detail) => new ModelDirError(dir, detail),
  weightsError: (path, detail) => new CheckpointError(path, detail),
  hints: {
    missingDir: 'train one with `stellar-emu train pinn --out <dir>`',
    missingMeta: 'not a PINN model directory, or training has not finished a chunk yet',
  },
};

/**
 * Write the weights and model.json of `emulator` into `dir` as one unit (nn-core
 * `writeModelDir`): both go into a temporary sibling folder (with the rest of `dir` —
 * checkpoints/ — hard-linked in), fsynced, which then replaces `dir`. A failure at any point
 * leaves the previous model (weights and model.json matching each other) and the checkpoints as
 * they were.
 */
export async function writeModelDir(
  dir: string,
  emulator: PinnEmulator,
  meta: Omit<
    PinnModelJson,
    | 'kind'
    | 'formatVersion'
    | 'weights'
    | 'arch'
    | 'physics'
    | 'seed'
    | 'normalization'
    | 'tauConvention'
    | 'labelRanges'
    | 'outputs'
    | 'createdAt'
  >,
): Promise<PinnModelJson> {
  const n = emulator.norm;
  return writeModelDirectory<PinnModelJson>(dir, PINN_MODEL_DIR, {
    weightsFile: MODEL_WEIGHTS,
    writeWeights: (path) => emulator.save(path, { modelJson: MODEL_JSON }),
    meta: (weights) => ({
      kind: MODEL_KIND,
      formatVersion: 1,
      weights,
      ...meta,
      arch: emulator.arch,
      physics: emulator.physics,
      seed: emulator.seed,
      labelRanges: {
        ...(Object.fromEntries(
          LABEL_NAMES.map((k, i) => [k, { min: n.labelMin[i], max: n.labelMax[i] }]),
        ) as PinnModelJson['labelRanges']),
        log10Tau: { min: n.logTauMin, max: n.logTauMax },
      },
      normalization: n,
      tauConvention: TAU_CONVENTION,
      outputs: ATMOSPHERE_QUANTITIES.map((name) => ({ name, unit: ATMOSPHERE_QUANTITY_INFO[name].unit })),
      createdAt: new Date().toISOString(),
    }),
  });
}

/**
 * Load a model directory written by `trainPinnOnDataset`: model.json (validated by
 * {@link PINN_MODEL_JSON_SCHEMA}) and the weights it names (verified against its sha256). A
 * missing directory, missing, unparsable or invalid model.json (naming the field), a missing or
 * corrupt weights file, or weights that do not match model.json give a ModelDirError /
 * CheckpointError naming the file.
 */
export async function loadPinnModel(dir: string): Promise<{ emulator: PinnEmulator; model: PinnModelJson }> {
  const { meta: model, weightsPath } = await readModelDir(dir, PINN_MODEL_DIR);
  const { emulator } = await PinnEmulator.load(weightsPath);
  return { emulator, model };
}
