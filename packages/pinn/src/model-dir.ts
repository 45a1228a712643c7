// Model directories: model.json (config, training box, normalization, tau convention, provenance) beside the weights.
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDirectoryAtomic, type DeckDefaults } from '@stellar-emu/grid-io';
import { CheckpointError } from '@stellar-emu/nn-core';
import { LABEL_NAMES, type PhysicsOptions, type PinnArchitecture } from './config.js';
import { MODEL_KIND, PinnEmulator } from './emulator.js';
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
  labelRanges: Record<(typeof LABEL_NAMES)[number], { min: number; max: number }> & { log10Tau: { min: number; max: number } };
  normalization: Normalization;
  tauConvention: string;
  /** Output quantities, their units and the transform learned (log10 of each). */
  outputs: { name: string; unit: string }[];
  backend: string;
  dataset: { dir: string; hash: string; rowCount: number; splitCounts: Record<string, number>; trainModels: number; valModels: number };
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

/** sha256 of a file (hex). */
export async function fileSha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/**
 * Write the weights and model.json of `emulator` into `dir` as one unit: both go into a temporary
 * sibling folder (with the rest of `dir` — checkpoints/ — hard-linked in), fsynced, which then
 * replaces `dir` (grid-io `writeDirectoryAtomic`). A failure at any point leaves the previous
 * model (weights and model.json matching each other) and the checkpoints as they were.
 */
export async function writeModelDir(dir: string, emulator: PinnEmulator, meta: Omit<PinnModelJson, 'kind' | 'formatVersion' | 'weights' | 'arch' | 'physics' | 'seed' | 'normalization' | 'tauConvention' | 'labelRanges' | 'outputs' | 'createdAt'>): Promise<PinnModelJson> {
  return writeDirectoryAtomic(dir, (stage) => writeModelFiles(stage, emulator, meta));
}

async function writeModelFiles(dir: string, emulator: PinnEmulator, meta: Parameters<typeof writeModelDir>[2]): Promise<PinnModelJson> {
  const weightsPath = join(dir, MODEL_WEIGHTS);
  await emulator.save(weightsPath, { modelJson: MODEL_JSON });
  const n = emulator.norm;
  const json: PinnModelJson = {
    kind: MODEL_KIND,
    formatVersion: 1,
    weights: { file: MODEL_WEIGHTS, sha256: await fileSha256(weightsPath) },
    ...meta,
    arch: emulator.arch,
    physics: emulator.physics,
    seed: emulator.seed,
    labelRanges: {
      ...(Object.fromEntries(LABEL_NAMES.map((k, i) => [k, { min: n.labelMin[i], max: n.labelMax[i] }])) as PinnModelJson['labelRanges']),
      log10Tau: { min: n.logTauMin, max: n.logTauMax },
    },
    normalization: n,
    tauConvention: TAU_CONVENTION,
    outputs: [
      { name: 'rhox', unit: 'g cm^-2' },
      { name: 'temperature', unit: 'K' },
      { name: 'pressure', unit: 'dyn cm^-2' },
      { name: 'xne', unit: 'cm^-3' },
      { name: 'abross', unit: 'cm^2 g^-1' },
      { name: 'accrad', unit: 'cm s^-2' },
    ],
    createdAt: new Date().toISOString(),
  };
  await writeFile(join(dir, MODEL_JSON), `${JSON.stringify(json, null, 2)}\n`);
  return json;
}

/**
 * Load a model directory written by `trainPinnOnDataset`: model.json and the weights it names.
 * A missing directory, missing or unparsable model.json, a missing or corrupt weights file, or
 * weights that do not match model.json give a ModelDirError / CheckpointError naming the file.
 */
export async function loadPinnModel(dir: string): Promise<{ emulator: PinnEmulator; model: PinnModelJson }> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new ModelDirError(dir, 'is not a directory');
  } catch (err) {
    if (err instanceof ModelDirError) throw err;
    throw new ModelDirError(dir, 'does not exist (train one with `stellar-emu train pinn --out <dir>`)');
  }
  let text: string;
  try {
    text = await readFile(join(dir, MODEL_JSON), 'utf8');
  } catch {
    throw new ModelDirError(dir, `has no ${MODEL_JSON}: not a PINN model directory, or training has not finished a chunk yet`);
  }
  let model: PinnModelJson;
  try {
    model = JSON.parse(text) as PinnModelJson;
  } catch (err) {
    throw new ModelDirError(dir, `${MODEL_JSON} is not valid JSON (${(err as Error).message}): the file is corrupt`);
  }
  if (model?.kind !== MODEL_KIND) throw new ModelDirError(dir, `${MODEL_JSON} has kind '${model?.kind}', expected '${MODEL_KIND}'`);
  if (!model.weights?.file || !model.normalization || !model.arch) throw new ModelDirError(dir, `${MODEL_JSON} is incomplete (weights, arch or normalization missing)`);
  const weightsPath = join(dir, model.weights.file);
  let sha: string;
  try {
    sha = await fileSha256(weightsPath);
  } catch {
    throw new CheckpointError(weightsPath, 'file not found (the model directory is incomplete)');
  }
  if (sha !== model.weights.sha256) throw new ModelDirError(dir, `${model.weights.file} does not match ${MODEL_JSON} (sha256 ${sha.slice(0, 12)}…, expected ${model.weights.sha256.slice(0, 12)}…): corrupt or replaced`);
  const { emulator } = await PinnEmulator.load(weightsPath);
  return { emulator, model };
}
