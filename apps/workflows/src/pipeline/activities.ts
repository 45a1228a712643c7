// Activity signatures of the pipeline (types only; implemented in apps/worker).
import type { PipelineConfig } from './config.js';
import type {
  DataSource,
  DatasetRef,
  SmeSpectraSettings,
  SunCheckSettings,
  PinnSpectraSettings,
  MetricsRef,
  ModelRef,
  ReportRef,
  StepOutcome,
  TrainChunkInput,
  TrainChunkResult,
} from './types.js';

/** Input of `prepareDatasetStep`: synthesise, ingest or adopt a dataset. */
export interface PrepareDatasetInput {
  kind: 'atmospheres' | 'spectra';
  source: DataSource;
  artifacts: string;
}

/** Input of `splitDatasetStep`. */
export interface SplitDatasetInput {
  dataset: DatasetRef;
  scheme: '90/10' | '70/15/15';
  seed: number;
  artifacts: string;
}

/** Input of the evaluation steps. */
export interface EvaluateInput {
  model: ModelRef;
  dataset: DatasetRef;
  artifacts: string;
  /** PINN: a second model (the alpha = 0 baseline) evaluated alongside for the report. */
  baseline?: ModelRef;
}

/** Input of `validateCvaeStep`. */
export interface ValidateCvaeInput {
  cvae: ModelRef;
  dataset: DatasetRef;
  settings: NonNullable<PipelineConfig['validation']>;
  /** The verdict factor setting (config thresholds.recoveryFactor; absent: the per-label defaults). */
  factor?: NonNullable<PipelineConfig['thresholds']>['recoveryFactor'];
  artifacts: string;
}

/** Input of the `evaluatePinnSpectra` workflow and its planning step. */
export interface PinnSpectraInput {
  model: ModelRef;
  /** The alpha = 0 baseline, compared alongside. */
  baseline?: ModelRef;
  /** The PINN's atmosphere dataset (split): its validation models are compared. */
  dataset: DatasetRef;
  settings: PinnSpectraSettings;
  artifacts: string;
  /** Seconds without a heartbeat after which a batch counts as crashed (default 60). */
  heartbeatTimeoutSeconds?: number;
}

/** A planned spectral evaluation: the chosen models are in `<dir>/plan.json`. */
export interface PinnSpectraPlan {
  dir: string;
  key: string;
  models: number;
  candidates: number;
  batches: { start: number; end: number }[];
  /** The finished metrics when an identical evaluation completed before. */
  done: MetricsRef | null;
}

/** Input of `generateReportStep`. */
export interface GenerateReportInput {
  runId: string;
  artifacts: string;
  /** Wall-clock seconds of each finished pipeline step (the report's run metadata). */
  durationsSeconds?: Record<string, number>;
  pinn?: MetricsRef;
  cvae?: MetricsRef;
  recovery?: MetricsRef;
  /** The synthesis engine's check on the Sun. */
  synthesis?: MetricsRef;
  /** Spectra of the PINN's atmospheres against the true decks' (and the Sun, paper Fig. 5). */
  pinnSpectra?: MetricsRef;
  thresholds: PipelineConfig['thresholds'];
  /** Free-form run metadata: config, dataset hashes, durations. */
  metadata: Record<string, unknown>;
}

/** Input of `inputFingerprint`: what a scheduled run compares with the last trained model. */
export interface FingerprintInput {
  source: DataSource;
}

/** Input of the `synthesizeGrid` workflow and its planning step. */
export interface SynthesizeGridInput {
  source: SmeSpectraSettings;
  artifacts: string;
  /** Seconds without a heartbeat after which a batch counts as crashed and is retried elsewhere (default 30; heartbeats continue during a PySME call). */
  heartbeatTimeoutSeconds?: number;
}

/** A planned spectrum grid: its rows are on disk (`<dir>/plan.json`), batches are index ranges. */
export interface SpectrumGridPlan {
  /** Folder of the grid: plan, row store, dataset. */
  dir: string;
  /** Content key of the whole grid (every row key, in order). */
  key: string;
  rows: number;
  /** Distinct intrinsic spectra (PySME calls). */
  intrinsic: number;
  batches: { start: number; end: number }[];
  /** Label limits moved to the atmosphere source's coverage (e.g. [M/H] max 1.5 -> 1.0). */
  cut: string[];
  /** The finished dataset when an identical grid was assembled before. */
  done: DatasetRef | null;
}

/** One batch of a grid for a `synth` worker: rows [start, end) of the plan in `dir`. */
export interface SynthBatchInput {
  dir: string;
  start: number;
  end: number;
}

/** What a batch did: rows it computed and rows it found finished (by another attempt or worker). */
export interface SynthBatchResult {
  done: number;
  reused: number;
  /** PySME calls (one per intrinsic spectrum). */
  intrinsicCalls: number;
  engineSeconds: number;
  broadenSeconds: number;
}

/**
 * What a grid's synthesis cost, summed over its batches (recorded in the dataset manifest's
 * `notes.synthesis.cost`): PySME calls and their seconds, the derived spectra's broadening
 * seconds, and the spectra computed (a resumed grid counts only the rows computed this time).
 */
export interface SynthesisCost {
  computed: number;
  intrinsicCalls: number;
  engineSeconds: number;
  broadenSeconds: number;
}

/** Every pipeline activity. Training runs on the `gpu` task queue, the rest on `cpu`. */
export interface PipelineActivities {
  prepareDatasetStep(input: PrepareDatasetInput): Promise<StepOutcome<DatasetRef>>;
  splitDatasetStep(input: SplitDatasetInput): Promise<StepOutcome<DatasetRef>>;
  /** Train until `untilEpoch`; heartbeats {epoch, step, losses, checkpoint}; resumes from the last checkpoint. */
  trainChunk(input: TrainChunkInput): Promise<TrainChunkResult>;
  /** Record a finished training run so identical re-runs skip it. */
  finishTraining(input: TrainChunkInput & { result: TrainChunkResult }): Promise<ModelRef>;
  /** A finished training run with this input, if any (idempotent re-runs). */
  findTrainedModel(input: Omit<TrainChunkInput, 'untilEpoch'>): Promise<ModelRef | null>;
  /**
   * The identity of a training: its content key (model, settings, dataset hash) and the workflow
   * ID derived from it and the artifact store, so that one key is trained by one workflow however
   * many pipelines ask for it.
   */
  trainingIdentity(input: Omit<TrainChunkInput, 'untilEpoch'>): Promise<{ key: string; workflowId: string }>;
  evaluatePinnStep(input: EvaluateInput): Promise<StepOutcome<MetricsRef>>;
  evaluateCvaeStep(input: EvaluateInput): Promise<StepOutcome<MetricsRef>>;
  validateCvaeStep(input: ValidateCvaeInput): Promise<StepOutcome<MetricsRef>>;
  generateReportStep(input: GenerateReportInput): Promise<ReportRef>;
  /** `synth` queue: check the line list, the atmosphere source and every label row, write the plan. */
  planSpectrumGrid(input: SynthesizeGridInput): Promise<SpectrumGridPlan>;
  /** `synth` queue: synthesize one batch; heartbeats {done, total}; finished rows are kept across attempts and workers. */
  synthesizeSpectrumBatch(input: SynthBatchInput): Promise<SynthBatchResult>;
  /** `synth` queue: the synthesized Sun against the observed one (metrics for the report). */
  checkSynthesisStep(input: {
    sun: SunCheckSettings;
    linelist: string;
    medium: 'air' | 'vac';
    artifacts: string;
  }): Promise<StepOutcome<MetricsRef>>;
  /** `synth` queue: choose the validation models of a spectral evaluation, write the plan. */
  planPinnSpectra(input: PinnSpectraInput): Promise<PinnSpectraPlan>;
  /** `synth` queue: models [start, end) of a plan (true deck, PINN, baseline spectra); finished models are kept across attempts. */
  pinnSpectraBatch(input: SynthBatchInput): Promise<{ done: number; reused: number; engineSeconds: number }>;
  /** `synth` queue: paper Fig. 5 for a plan with `sun` settings (observed, true deck, PINN). */
  pinnSunSpectra(input: { dir: string }): Promise<{ engineSeconds: number }>;
  /** `synth` queue: gather the models' results into the report's pinnSpectra section. */
  assemblePinnSpectra(input: { dir: string; artifacts: string }): Promise<StepOutcome<MetricsRef>>;
  /** `synth` queue: write the grid-io spectrum dataset (with provenance) from the finished rows. */
  assembleSpectrumGrid(input: {
    dir: string;
    artifacts: string;
    cost?: SynthesisCost;
  }): Promise<StepOutcome<DatasetRef>>;
  /** Content hash of a data source's inputs (files of a grid, or the synthetic recipe). */
  inputFingerprint(input: FingerprintInput): Promise<string>;
  /** The input fingerprint the named schedule last trained on, or null. */
  readTrainedFingerprint(input: { artifacts: string; name: string }): Promise<string | null>;
  /** Remember the fingerprint a completed scheduled run trained on. */
  writeTrainedFingerprint(input: {
    artifacts: string;
    name: string;
    fingerprint: string;
    runId: string;
  }): Promise<void>;
}
