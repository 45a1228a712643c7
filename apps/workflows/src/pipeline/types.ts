// Activity inputs and outputs of the pipeline: paths and content hashes, never bulk data.
import type { CvaeTrainingInput } from '@stellar-emu/cvae/options';
import type { PinnTrainingInput } from '@stellar-emu/pinn/options';
import type { WindowedSpectrumSettings } from '@stellar-emu/synthesis';

/** A dataset in the artifact store. */
export interface DatasetRef {
  /** Absolute path of the dataset directory. */
  path: string;
  /** Content hash of the directory (see the worker's artifact store). */
  sha256: string;
  rows: number;
  kind: 'atmospheres' | 'spectra';
  synthetic: boolean;
}

/**
 * Spectra synthesized with PySME from real atmospheres and a VALD line list (see
 * `@stellar-emu/synthesis`). Labels: `n` seeded rows (in groups of `perAtmosphere` sharing one
 * intrinsic spectrum) or a CSV label table.
 */
export interface SmeSpectraSettings {
  /** Number of spectra to sample (with `seed`), or omit and give `labels`. */
  n?: number;
  seed: number;
  /** CSV label table (teff, logg, mh, vmic, vsini, resolution). */
  labels?: string;
  /** Spectra per intrinsic spectrum (one PySME call each): v sin i and R vary within a group. */
  perAtmosphere: number;
  /** VALD line list. */
  linelist: string;
  /** Folder of ATLAS9 decks to interpolate in (e.g. Kurucz's 1993 grid), or `pinn:<model-dir>` for a trained PINN emulator. */
  grid: string;
  /** Output wavelength window [first, last pixel centre + step) in Å and the pixel step. */
  window: [number, number];
  stepAngstrom: number;
  /** Wavelength medium of the output ('air': HARPS, SYNSPEC). */
  medium: 'air' | 'vac';
  /** Radial–tangential macroturbulence (km/s), 0 as the CVAE paper. */
  vmacKms: number;
  /** Rows per `synth` activity. */
  batchSize: number;
  /** Narrower label ranges than the CVAE paper's Table 1 (each cut further to the grid's coverage). */
  box?: Partial<
    Record<'teffK' | 'logg' | 'mh' | 'vmicKms' | 'vsiniKms' | 'resolution', { min: number; max: number }>
  >;
  /** Check the engine on the Sun first: a solar deck synthesized against an observed solar spectrum (shown in the report). */
  sun?: SunCheckSettings;
}

/** The synthesized Sun against an observed one (e.g. ksun.mod against the HARPS Sun). */
export interface SunCheckSettings {
  /** A Kurucz deck of the Sun. */
  deck: string;
  /** The observed spectrum (CSV or two-column text: wavelength in Å, relative flux; in the source's medium). */
  observed: string;
  /** Wavelength window [first, last) in Å (default the CVAE paper's 4450–5400). */
  window: [number, number];
  vmicKms: number;
  vsiniKms: number;
  /** Radial–tangential macroturbulence, km/s. */
  vmacKms: number;
  resolution: number;
}

/**
 * Kurucz-a1 end to end: spectra of the emulator's atmospheres against the true decks' (see
 * `@stellar-emu/synthesis` compareEmulatedSpectra). Defaults (the config's `pinn.spectra` schema):
 * two windows 4450–4650 and 5150–5350 Å, R 50,000, v_mic 1 km/s, no rotation, 0.02 Å pixels;
 * 200 validation models with Teff in 3,500–12,000 K.
 */
export interface PinnSpectraSettings extends WindowedSpectrumSettings {
  /** Validation models to compare (a seeded sample; all when fewer qualify). */
  models: number;
  seed: number;
  teffRangeK: [number, number];
  /** Models per `synth` activity. */
  batchSize: number;
  /** Paper Fig. 5: the observed Sun, the true solar deck and the emulator's atmosphere at its labels. */
  sun?: SunCheckSettings & { zooms: { name: string; fromAngstrom: number; toAngstrom: number }[] };
}

/** Where a dataset comes from. */
export type DataSource =
  | { synthetic: { n: number; seed: number; pixels?: number } }
  | { grid: string }
  | { dataset: string }
  | { sme: SmeSpectraSettings };

/** A step's result plus whether it was skipped because an identical run already completed. */
export interface StepOutcome<T> {
  skipped: boolean;
  /** What the step wants the user to know (e.g. label limits cut to a grid's coverage). */
  notes?: string[];
  /** Hash of the step's name, config and inputs. */
  key: string;
  result: T;
}

/** Keys every training section has (defaults applied by the config schema) and the chunk size. */
interface TrainRun {
  preset: 'small' | 'paper';
  epochs: number;
  seed: number;
  /** Checkpoint every this many steps inside an epoch (0: at epoch ends only). */
  checkpointEverySteps: number;
  /** Time budget in minutes of training wall time over all chunks (none: epochs and early stopping decide). */
  maxMinutes?: number;
  /** Epochs per activity attempt; bounds the work lost to a crash and the history size. */
  epochsPerChunk: number;
}

/**
 * A training's settings: the model package's training options (its zod schema's keys, passed to
 * the trainer unchanged) and the chunk size. The pipeline config's `pinn` / `cvae` sections are these.
 */
export type PinnTrainSettings = PinnTrainingInput & TrainRun;
/** See {@link PinnTrainSettings}. */
export type CvaeTrainSettings = CvaeTrainingInput & TrainRun;
/** Settings of either model's training. */
export type TrainSettings = PinnTrainSettings | CvaeTrainSettings;

/** Input of one training chunk. */
export interface TrainChunkInput {
  model: 'pinn' | 'cvae';
  dataset: DatasetRef;
  settings: TrainSettings;
  artifacts: string;
  /** Train until this many epochs are done in total (the chunk's end). */
  untilEpoch: number;
  /** What is left of the time budget, in seconds (CVAE: stop at the first epoch end after it). */
  maxSeconds?: number;
}

/** Live training progress: heartbeat details and the workflows' progress query. */
export interface TrainProgress {
  model: 'pinn' | 'cvae';
  epoch: number;
  epochs: number;
  globalStep: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  losses: Record<string, number>;
  valLoss: number | null;
  samplesPerSec: number;
  /** Resident memory of the training worker process, MiB (absent before its first report). */
  rssMiB?: number;
  /** Seconds left, estimated from the recent rate (capped by what is left of a time budget). */
  etaSeconds: number | null;
  /** 'budget' when the time budget ends the training before its last epoch would (absent: the epochs). */
  etaBy?: 'budget';
  checkpoint: string | null;
  /** The global step this attempt resumed from (0 for a fresh start). */
  resumedFromStep: number;
  /** When the worker produced this progress (ms since the epoch): how old what `status` shows is. */
  reportedAt?: number;
  /** Corrupt checkpoints this attempt renamed aside before resuming from an older one (absent when none). */
  checkpointWarnings?: string[];
}

/** Result of one training chunk. */
export interface TrainChunkResult {
  /** Model directory (checkpoints, model.json). */
  modelDir: string;
  epochsDone: number;
  done: boolean;
  stoppedEarly: boolean;
  progress: TrainProgress;
  /** Content hash of the final model directory when done. */
  sha256: string | null;
  /** Wall-clock seconds of training in this chunk (the time budget's account). */
  seconds?: number;
  /** True when the time budget ended this chunk. */
  budgetSpent?: boolean;
}

/** A trained model in the artifact store. */
export interface ModelRef {
  model: 'pinn' | 'cvae';
  path: string;
  sha256: string;
  epochsDone: number;
}

/** Metrics written by an evaluation or validation step. */
export interface MetricsRef {
  /** Path of the metrics JSON file. */
  path: string;
  sha256: string;
  /** A few headline numbers for logs and the progress query. */
  summary: Record<string, number | string | boolean>;
}

/** A generated report. */
export interface ReportRef {
  /** Directory holding index.html, metrics.json and the figures. */
  dir: string;
  pass: boolean;
  checks: { name: string; value: number | null; limit: number; pass: boolean }[];
}
