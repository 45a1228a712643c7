// The parameter-recovery validation's options: one zod schema with the defaults (the
// `@stellar-emu/param-nn/options` subpath: zod only, no tfjs), read by `validateEmulatorOnDataset`,
// the pipeline config's `validation` section and `stellar-emu validate cvae` alike.
import { z } from 'zod';

/** PCA working-memory cap of a validation, MiB (fitPca's default too). */
export const DEFAULT_PCA_MEMORY_MIB = 512;

/**
 * Options of a recovery validation (the CVAE paper's Table 3): the PCA, the recovery network's
 * training and the generated set. Every key is a key of the pipeline config's `validation`
 * section and a flag of `stellar-emu validate cvae` (camelCase → kebab-case); the default here is
 * the only one (the paper's network, 200 epochs, batch 1024, Adamax 1e-3, patience 10, 25 components).
 */
export const recoveryValidationSchema = z
  .object({
    preset: z
      .enum(['paper', 'small'])
      .default('paper')
      .describe('recovery network: paper (k-5000-2000-1000-64-6) or small (k-256-128-64-32-6)'),
    epochs: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(200)
      .describe('maximum epochs of the recovery network'),
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(65_536)
      .default(1024)
      .describe(
        "recovery-network batch size (the paper's 1024; smaller for small datasets, or an epoch is one step)",
      ),
    learningRate: z
      .number()
      .positive()
      .max(1)
      .default(1e-3)
      .describe('Adamax learning rate (halved on plateau)'),
    patience: z.number().int().min(0).default(10).describe('early-stopping patience in epochs (0: off)'),
    seed: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe('seed of the split, PCA, noise, training and generated labels'),
    noisyCopies: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(1)
      .describe(
        "noisy copies (SNR 5..300) of each training and validation spectrum the recovery network learns from (the paper's 1)",
      ),
    pcaComponents: z.number().int().min(1).max(2000).default(25).describe("PCA components (the paper's 25)"),
    maxPcaError: z
      .number()
      .positive()
      .lt(1)
      .optional()
      .describe(
        'instead of pcaComponents: the fewest components (up to 100) whose relative reconstruction error on the training spectra is at most this',
      ),
    pcaMemoryMib: z
      .number()
      .positive()
      .default(DEFAULT_PCA_MEMORY_MIB)
      .describe('PCA working-memory cap in MiB'),
    generatedAt: z
      .enum(['test', 'uniform'])
      .default('test')
      .describe(
        "labels of the generated spectra: the test spectra's (the paper's Table 3) or uniform draws in the emulator's box",
      ),
    generatedCount: z
      .number()
      .int()
      .min(10)
      .optional()
      .describe('generated spectra with generatedAt uniform (default: the size of the test set)'),
  })
  .strict();

/** Recovery-validation options with every default applied. */
export type RecoveryValidationOptions = z.output<typeof recoveryValidationSchema>;
/** Recovery-validation options as a caller writes them (defaults optional). */
export type RecoveryValidationInput = z.input<typeof recoveryValidationSchema>;
