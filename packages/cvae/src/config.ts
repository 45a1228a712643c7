// CVAE configuration: architecture presets (paper, small), loss weights and the training schedule.

/** Architecture, loss and optimisation settings of a spectrum CVAE (everything a checkpoint must match). */
export interface CvaeConfig {
  /** Preset the config was derived from ('paper', 'small' or 'custom'). */
  preset: string;
  /** Pixels per spectrum N (from the dataset manifest). */
  nPixels: number;
  /** Label column names of the dataset, in conditioning-vector order (from the manifest). */
  labelColumns: string[];
  /** Encoder hidden widths (ReLU), input = spectrum ⊕ labels. */
  encoderWidths: number[];
  /** Size of the latent mean and log-variance. */
  latentDim: number;
  /** Decoder hidden widths (ReLU), input = latent ⊕ labels; output N pixels with a sigmoid. */
  decoderWidths: number[];
  /**
   * Weight of the KL term: loss = mean_batch[ mean_pixels (ŷ − y)² ] + beta · mean_batch[ sum_latent KL ]
   * (the Keras-style "MSE + KL" of the paper's reference implementation). With the per-pixel mean,
   * beta = 1 makes one nat of KL cost as much as the whole mean squared error, which drives the
   * posterior to the prior: the decoder learns the spectrum from the labels, and z = 0 or
   * z ~ N(0, I) decodes correctly. beta = 1/N gives the textbook ELBO (summed squared error + KL)
   * up to a constant factor, under which the encoder carries most of the spectrum in z.
   */
  beta: number;
  /** Linear KL warm-up: beta is scaled by min(1, step / klWarmupSteps) (0: no warm-up). */
  klWarmupSteps: number;
  /**
   * Soft bound B on the latent log-variance: log σ² = B·tanh(raw / B), so σ stays in
   * [e^(−B/2), e^(B/2)] and neither exp(log σ²) in the reparameterisation nor −log σ² in the KL
   * can run away in one step (the KL spikes of unbounded heads). Near 0 the head is the identity,
   * so initialisation is unchanged. `null`: unbounded (model directories written before the bound).
   */
  logvarBound: number | null;
  /**
   * Scaled flux y = (flux − fluxRange[0]) / (fluxRange[1] − fluxRange[0]) is what the sigmoid
   * output models (continuum-normalized flux, dimensionless).
   */
  fluxRange: [number, number];
  /** Adam learning rate at the start (reduced on plateau: the paper's "dynamical learning rate"). */
  learningRate: number;
  /** Reduce-on-plateau: factor, patience in epochs, floor. */
  plateau: { factor: number; patience: number; minLr: number };
  /**
   * Latent used for the validation loss that drives early stopping and the learning-rate
   * schedule: 'sample' (z = μ + σ ε with a fixed draw per validation spectrum: the same
   * reconstruction term as in training), 'mean' (z = μ) or 'zero' (z = 0). All three are reported.
   * With a collapsed posterior the decoder sees z ~ N(0, I) in training, whose typical set
   * excludes the origin, so z = μ ≈ 0 is an atypical input and a poor early-stopping signal.
   */
  validationLatent: 'sample' | 'mean' | 'zero';
  /**
   * Labels conditioned on log10(value + offset) instead of the value, by record key or column
   * (e.g. { vsiniKms: 3, resolution: 0 }); the others linearly. Each is min-max scaled to [-1, 1]
   * in its own space, and model.json stores the offset with the label's scale.
   */
  labelLog10Offsets: Record<string, number>;
  /** Early stopping patience in epochs on the validation loss. */
  earlyStoppingPatience: number;
  batchSize: number;
  /** Maximum epochs. */
  epochs: number;
  /** Seed of weight initialisation, shuffling and the reparameterisation noise. */
  seed: number;
}

/** Architecture presets. `paper`: the published network; `small`: for CPU tests and demos. */
export const CVAE_PRESETS: Record<
  'paper' | 'small',
  Pick<CvaeConfig, 'encoderWidths' | 'latentDim' | 'decoderWidths'> & { nPixels: number }
> = {
  paper: {
    nPixels: 19000,
    encoderWidths: [4000, 2000, 1000],
    latentDim: 100,
    decoderWidths: [1000, 2000, 4000],
  },
  small: { nPixels: 19000, encoderWidths: [512, 256], latentDim: 16, decoderWidths: [256, 512] },
};

/** Name of a preset. */
export type CvaePresetName = keyof typeof CVAE_PRESETS;

/**
 * Labels the CVAE conditions on a log scale by default: the broadening ones. A spectrum changes
 * with v sin i and R through the line width, roughly sqrt(v sin i² + (c/R)² + v_th²), so equal
 * steps in log10(v sin i + 3 km/s) (3 km/s: about a metal line's thermal-plus-turbulent width) and
 * in log10 R change it about equally; on linear scales the sharp-lined spectra (v sin i < 30 km/s,
 * R < 10,000) sit in a tenth of the input range. Measured on the demo's PySME grid (4,800
 * spectra, 4811–4911 Å, `small`, 5 min): validation reconstruction 3.1e-5 against 6.1e-5 at
 * epoch 150 (see the cvae README).
 */
export const DEFAULT_LABEL_LOG10_OFFSETS: Record<string, number> = { vsiniKms: 3, resolution: 0 };

/** Defaults of the non-architecture settings (batch 512 and patience 50 as in the paper). */
export const CVAE_TRAINING_DEFAULTS = {
  beta: 1,
  klWarmupSteps: 0,
  logvarBound: 4 as number | null,
  fluxRange: [0, 1.1] as [number, number],
  learningRate: 1e-3,
  plateau: { factor: 0.5, patience: 10, minLr: 1e-6 },
  validationLatent: 'sample' as 'sample' | 'mean' | 'zero',
  labelLog10Offsets: DEFAULT_LABEL_LOG10_OFFSETS,
  earlyStoppingPatience: 50,
  batchSize: 512,
  epochs: 1000,
  seed: 1,
};

/**
 * Build a config from a preset, the dataset's pixel count and label columns, and overrides.
 * The preset's N is only the paper's; the dataset decides N and the label set.
 */
export function makeCvaeConfig(
  preset: CvaePresetName | 'custom',
  dataset: { nPixels: number; labelColumns: string[] },
  overrides: Partial<CvaeConfig> = {},
): CvaeConfig {
  const arch = preset === 'custom' ? CVAE_PRESETS.small : CVAE_PRESETS[preset];
  if (!arch)
    throw new Error(`unknown CVAE preset '${preset}' (expected ${Object.keys(CVAE_PRESETS).join(', ')})`);
  const cfg: CvaeConfig = {
    preset,
    nPixels: dataset.nPixels,
    labelColumns: [...dataset.labelColumns],
    encoderWidths: arch.encoderWidths,
    latentDim: arch.latentDim,
    decoderWidths: arch.decoderWidths,
    ...CVAE_TRAINING_DEFAULTS,
    ...overrides,
  };
  validateCvaeConfig(cfg);
  return cfg;
}

/** Throw a clear error for an inconsistent config. */
export function validateCvaeConfig(c: CvaeConfig): void {
  const bad = (msg: string) => {
    throw new Error(`invalid CVAE config: ${msg}`);
  };
  if (!Number.isInteger(c.nPixels) || c.nPixels < 1)
    bad(`nPixels must be a positive integer, got ${c.nPixels}`);
  if (c.labelColumns.length < 1) bad('needs at least one label column');
  for (const w of [...c.encoderWidths, ...c.decoderWidths, c.latentDim])
    if (!Number.isInteger(w) || w < 1) bad(`widths must be positive integers, got ${w}`);
  if (!(c.fluxRange[1] > c.fluxRange[0])) bad(`fluxRange [${c.fluxRange}] must be increasing`);
  if (!(c.beta >= 0)) bad(`beta must be >= 0, got ${c.beta}`);
  if (c.logvarBound !== null && !(c.logvarBound > 0))
    bad(`logvarBound must be > 0 or null, got ${c.logvarBound}`);
  if (!(c.learningRate > 0)) bad(`learningRate must be > 0`);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1) bad(`batchSize must be a positive integer`);
  for (const [k, o] of Object.entries(c.labelLog10Offsets))
    if (!(Number.isFinite(o) && o >= 0)) bad(`labelLog10Offsets.${k} must be a finite number >= 0, got ${o}`);
  if (!['sample', 'mean', 'zero'].includes(c.validationLatent))
    bad(`validationLatent must be 'sample', 'mean' or 'zero'`);
}
