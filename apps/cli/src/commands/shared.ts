// Small helpers shared by the commands: numeric option parsing and parent commands that several
// modules add sub-commands to (`train pinn|cvae`, `validate cvae` and `validate --config`).
import type { Command } from 'commander';

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
