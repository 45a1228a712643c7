// Small helpers shared by the commands: numeric option parsing and parent commands that several
// modules add sub-commands to (`train pinn|cvae`, `validate cvae` and `validate --config`).
import { Option, type Command } from 'commander';
import type { TrainingSchema } from '@stellar-emu/nn-core/options';
import type { z } from 'zod';

/** A numeric option, or undefined when absent; a clear error naming the flag when not a number. */
export function optionalNumber(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new Error(`--${name} must be a number, got '${v}'`);
  return x;
}

/** A required numeric option. */
export function requiredNumber(name: string, v: string | undefined): number {
  const x = optionalNumber(name, v);
  if (x === undefined) throw new Error(`--${name} must be a number, got '${v}'`);
  return x;
}

/** The parent command `name` of `program`, created with `description` if absent. */
export function parentCommand(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

/**
 * A sub-command's options with those its parent captured: commander gives a flag that both
 * define (e.g. `validate --artifacts` and `validate pinn-spectra --artifacts`) to the parent, so
 * every parent option given on the command line or by the environment overrides the child's.
 */
export function withParentOptions<T>(cmd: Command): T {
  const own: Record<string, unknown> = { ...cmd.opts() };
  const parent = cmd.parent;
  if (parent) {
    const p = parent.opts();
    for (const k of Object.keys(p)) {
      const src = parent.getOptionValueSource(k);
      if (src === 'cli' || src === 'env') own[k] = p[k];
    }
  }
  return own as T;
}

/** One key of a training-option schema, as a flag: its kind, default, choices and description. */
interface SchemaFlag {
  key: string;
  flag: string;
  kind: 'number' | 'boolean' | 'enum';
  choices?: readonly string[];
  defaultValue?: unknown;
  description: string;
}

/** Spellings of schema flags kept from earlier versions (hidden from --help): `--lr`, `--val-latent`, `--components`, `--memory-mib`. */
const FLAG_ALIASES: Record<string, string> = {
  lr: 'learningRate',
  valLatent: 'validationLatent',
  components: 'pcaComponents',
  memoryMib: 'pcaMemoryMib',
};

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function schemaFlags(schema: TrainingSchema): SchemaFlag[] {
  return Object.entries(schema.shape).map(([key, field]) => {
    let t = field as z.ZodType;
    let defaultValue: unknown;
    for (;;) {
      const def = t._zod.def as { type: string; innerType?: z.ZodType; defaultValue?: unknown };
      if (def.type === 'default') defaultValue = def.defaultValue;
      if (def.type !== 'default' && def.type !== 'optional') break;
      t = def.innerType!;
    }
    const type = t._zod.def.type;
    if (type !== 'number' && type !== 'boolean' && type !== 'enum')
      throw new Error(`schema key '${key}': a ${type} cannot be a flag`);
    const choices = type === 'enum' ? (t as z.ZodEnum).options.map(String) : undefined;
    return {
      key,
      flag: kebab(key),
      kind: type,
      choices,
      defaultValue,
      description: (field as z.ZodType).description ?? key,
    };
  });
}

/**
 * Add one flag per key of a training-option schema (`learningRate` → `--learning-rate <x>`,
 * booleans as switches), with the schema's description, choices and default: the CLI's training
 * flags are the pipeline config's keys by construction. `except`: keys the command sets itself.
 */
export function addSchemaOptions(
  cmd: Command,
  schema: TrainingSchema,
  except: readonly string[] = [],
): Command {
  for (const [alias, key] of Object.entries(FLAG_ALIASES))
    if (key in schema.shape) cmd.addOption(new Option(`--${kebab(alias)} <x>`).hideHelp());
  for (const f of schemaFlags(schema)) {
    if (except.includes(f.key)) continue;
    const dflt = f.defaultValue !== undefined && f.kind !== 'boolean' ? ` (default ${f.defaultValue})` : '';
    const choices = f.choices ? ` (${f.choices.join(', ')})` : '';
    cmd.option(
      f.kind === 'boolean' ? `--${f.flag}` : `--${f.flag} <${f.kind === 'enum' ? 'name' : 'x'}>`,
      `${f.description}${choices}${dflt}`,
    );
  }
  return cmd;
}

/**
 * The schema's keys from a command's parsed flags (numbers parsed, absent flags left to the
 * schema's defaults), validated by the schema: a bad value is an error naming its flag.
 */
export function schemaOptionValues<S extends TrainingSchema>(
  schema: S,
  o: Record<string, unknown>,
): z.output<S> {
  const out: Record<string, unknown> = {};
  for (const f of schemaFlags(schema)) {
    const alias = Object.entries(FLAG_ALIASES).find(([, k]) => k === f.key)?.[0];
    const v = o[f.key] ?? (alias !== undefined ? o[alias] : undefined);
    if (v === undefined) continue;
    out[f.key] = f.kind === 'number' ? requiredNumber(f.flag, String(v)) : v;
  }
  const r = schema.safeParse(out);
  if (!r.success)
    throw new Error(r.error.issues.map((i) => `--${kebab(String(i.path[0]))}: ${i.message}`).join('; '));
  return r.data;
}
