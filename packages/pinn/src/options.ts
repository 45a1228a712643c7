// The PINN's training options: one zod schema with the defaults (the `@stellar-emu/pinn/options`
// subpath: zod only, no tfjs), read by the trainer, the pipeline config and the CLI alike.
import { trainingRunSchema } from '@stellar-emu/nn-core/options';
import { z } from 'zod';

/**
 * Options of a Kurucz-a1 PINN training. Every key is a key of the pipeline config's `pinn`
 * section and a flag of `stellar-emu train pinn` (camelCase → kebab-case); the default written
 * here is the only one. Adding an option: a key here and its use in `trainPinnOnDataset`.
 */
export const pinnTrainingSchema = trainingRunSchema
  .extend({
    preset: z
      .enum(['small', 'paper'])
      .default('small')
      .describe('architecture: small or paper (512/512 encoders, 1024-512-256 MLP)'),
    epochs: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(30)
      .describe('total epochs (fixes the cosine learning-rate schedule)'),
    seed: z.number().int().min(0).default(1).describe('seed of initialisation and shuffling'),
    alpha: z
      .number()
      .min(0)
      .max(1)
      .default(0.03)
      .describe('weight of the hydrostatic term; 0 = plain MLP baseline'),
    batchSize: z.number().int().min(1).max(65_536).default(1024).describe('depth points per step'),
    learningRate: z
      .number()
      .positive()
      .max(1)
      .default(1e-3)
      .describe('peak Adam learning rate of the cosine schedule (1 % of it at the end)'),
    paperPhysics: z
      .boolean()
      .default(false)
      .describe('hydrostatic term with g alone (the paper) instead of g - ACCRAD'),
    patience: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('early stopping after this many epochs without validation improvement'),
  })
  .strict();

/** PINN training options with every default applied. */
export type PinnTrainingOptions = z.output<typeof pinnTrainingSchema>;
/** PINN training options as a caller writes them (defaults optional). */
export type PinnTrainingInput = z.input<typeof pinnTrainingSchema>;
