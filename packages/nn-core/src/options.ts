// Training options every model shares, as a zod schema (the `@stellar-emu/nn-core/options` subpath:
// zod only, no tfjs, no I/O — safe in the Temporal workflow sandbox and in config files).
import { z } from 'zod';

/**
 * Options of a training run that every model's schema extends: how often the loop checkpoints and
 * the time budget. Each key is also a CLI flag (`checkpointEverySteps` → `--checkpoint-every-steps`)
 * and a key of the pipeline config's model section; the default here is the only one.
 */
export const trainingRunSchema = z
  .object({
    checkpointEverySteps: z
      .number()
      .int()
      .min(0)
      .default(200)
      .describe('checkpoint every this many steps inside an epoch (0: at epoch ends only)'),
    maxMinutes: z
      .number()
      .positive()
      .optional()
      .describe(
        'time budget in minutes of training: stop at the first epoch end after it (a later resume continues)',
      ),
  })
  .strict();

/** A model's training-option schema: an object schema of plain values (numbers, booleans, enums). */
export type TrainingSchema = z.ZodObject<z.ZodRawShape>;

/**
 * Parse the keys of `schema` out of `values` (other keys, e.g. paths and callbacks, are left
 * alone; `undefined` means "the default"), with the schema's defaults applied. An invalid value
 * throws one error naming every bad option, prefixed with `where`.
 */
export function parseTrainingOptions<S extends TrainingSchema>(
  schema: S,
  values: object,
  where: string,
): z.output<S> {
  const picked: Record<string, unknown> = {};
  for (const k of Object.keys(schema.shape)) {
    const v = (values as Record<string, unknown>)[k];
    if (v !== undefined) picked[k] = v;
  }
  const r = schema.safeParse(picked);
  if (!r.success) {
    throw new Error(
      `${where}: ${r.error.issues.map((i) => `option '${i.path.join('.')}': ${i.message}`).join('; ')}`,
    );
  }
  return r.data;
}
