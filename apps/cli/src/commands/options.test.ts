// Typed options end to end: every training option of a model is a flag of its CLI command and a
// key of its pipeline-config section (with the schema's default), and the reverse.
import { Command, type Option } from 'commander';
import type { z } from 'zod';
import { cvaeTrainingSchema } from '@stellar-emu/cvae/options';
import { recoveryValidationSchema } from '@stellar-emu/param-nn/options';
import { pinnTrainingSchema } from '@stellar-emu/pinn/options';
import { pipelineConfigSchema } from '@stellar-emu/workflows/config';
import { registerCommands } from './index.js';

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The object schema inside optional/default wrappers. */
function objectShape(t: z.ZodType): Record<string, z.ZodType> {
  let cur = t as unknown as {
    _zod: { def: { type: string; innerType?: unknown; shape?: Record<string, z.ZodType> } };
  };
  while (cur._zod.def.type !== 'object') cur = cur._zod.def.innerType as typeof cur;
  return cur._zod.def.shape!;
}

function command(path: string[]): Command {
  const program = new Command('stellar-emu');
  registerCommands(program);
  let c = program;
  for (const name of path) c = c.commands.find((x) => x.name() === name)!;
  return c;
}

/** Long flags of a command that --help shows (hidden ones are the old spellings kept as aliases). */
function visibleFlags(c: Command): string[] {
  return (c.options as (Option & { hidden?: boolean })[])
    .filter((o) => !o.hidden)
    .map((o) => o.long!.slice(2));
}

const cases = [
  {
    name: 'PINN',
    schema: pinnTrainingSchema,
    cli: ['train', 'pinn'],
    // run control and I/O of the command, not training options
    cliOnly: ['data', 'out', 'until-epoch', 'resume', 'metrics', 'baseline', 'no-progress', 'json'],
    section: 'pinn',
    // pipeline orchestration around the training
    configOnly: ['epochsPerChunk', 'baseline', 'spectra'],
  },
  {
    name: 'CVAE',
    schema: cvaeTrainingSchema,
    cli: ['train', 'cvae'],
    cliOnly: ['data', 'out', 'memory-mib', 'resume', 'metrics', 'json'],
    section: 'cvae',
    configOnly: ['epochsPerChunk'],
  },
  {
    name: 'recovery validation',
    schema: recoveryValidationSchema,
    cli: ['validate', 'cvae'],
    cliOnly: ['model', 'data', 'generated', 'out', 'factor', 'resume', 'json'],
    section: 'validation',
    // keys that moved, kept only to say where they went
    configOnly: ['factor', 'generated', 'pca'],
  },
] as const;

describe.each(cases)('$name options', ({ schema, cli, cliOnly, section, configOnly }) => {
  const keys = Object.keys(schema.shape);

  test('every option is a flag of the command, and every other flag is the command’s own run control', () => {
    const flags = visibleFlags(command([...cli]));
    for (const k of keys) expect(flags).toContain(kebab(k));
    expect(flags.filter((f) => !keys.map(kebab).includes(f)).sort()).toEqual([...cliOnly].sort());
  });

  test('every option is a key of the pipeline section, with the same default; the other keys are the pipeline’s own', () => {
    const shape = objectShape(pipelineConfigSchema.shape[section] as unknown as z.ZodType);
    for (const k of keys) expect(Object.keys(shape)).toContain(k);
    expect(
      Object.keys(shape)
        .filter((k) => !keys.includes(k))
        .sort(),
    ).toEqual([...configOnly].sort());
    // The defaults: the section parsed from {} equals the schema parsed from {} (plus the pipeline's own defaults).
    const parsed = pipelineConfigSchema.shape[section].parse({}) as Record<string, unknown>;
    const own = schema.parse({}) as Record<string, unknown>;
    for (const k of keys) expect(parsed[k]).toEqual(own[k]);
  });
});
