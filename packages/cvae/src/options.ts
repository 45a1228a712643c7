// The CVAE's training options: one zod schema with the defaults (the `@stellar-emu/cvae/options`
// subpath: zod and plain config only, no tfjs), read by the trainer, the pipeline config and the CLI.
import { trainingRunSchema } from '@stellar-emu/nn-core/options';
import { z } from 'zod';
import { CVAE_TRAINING_DEFAULTS as D } from './config.js';

/**
 * Options of a spectrum-CVAE training. Every key is a key of the pipeline config's `cvae`
 * section and a flag of `stellar-emu train cvae` (camelCase → kebab-case); the defaults are
 * the paper's (batch 512, patience 50) from `CVAE_TRAINING_DEFAULTS`, the only place they are written.
 */
export const cvaeTrainingSchema = trainingRunSchema
  .extend({
    preset: z
      .enum(['small', 'paper'])
      .default('small')
      .describe('architecture preset: small, or paper (4000/2000/1000, latent 100)'),
    epochs: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(D.epochs)
      .describe('maximum epochs (early stopping may end sooner)'),
    seed: z.number().int().min(0).default(D.seed).describe('seed of initialisation, shuffling and noise'),
    batchSize: z.number().int().min(1).max(65_536).default(D.batchSize).describe('batch size'),
    learningRate: z
      .number()
      .positive()
      .max(1)
      .default(D.learningRate)
      .describe('initial Adam learning rate (halved on plateau)'),
    beta: z.number().min(0).default(D.beta).describe('KL weight relative to the pixel-mean squared error'),
    klWarmupSteps: z
      .number()
      .int()
      .min(0)
      .default(D.klWarmupSteps)
      .describe('linear KL warm-up over this many optimizer steps'),
    patience: z
      .number()
      .int()
      .min(1)
      .default(D.earlyStoppingPatience)
      .describe('early-stopping patience in epochs on the validation reconstruction loss'),
    validationLatent: z
      .enum(['sample', 'mean', 'zero'])
      .default(D.validationLatent)
      .describe('latent of the validation loss: a posterior sample with a fixed draw, z = mu, or z = 0'),
  })
  .strict();

/** CVAE training options with every default applied. */
export type CvaeTrainingOptions = z.output<typeof cvaeTrainingSchema>;
/** CVAE training options as a caller writes them (defaults optional). */
export type CvaeTrainingInput = z.input<typeof cvaeTrainingSchema>;
