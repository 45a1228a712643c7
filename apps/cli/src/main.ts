#!/usr/bin/env node
// The stellar-emu command: one sub-command module per topic under ./commands.
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import { describeFailure, exitCodeFor, formatFailure } from './failure.js';
import { STELLAR_EMU_VERSION } from './repo.js';

const program = new Command('stellar-emu')
  .description('Neural emulators for stellar atmospheres and spectra, run as durable Temporal workflows')
  .version(STELLAR_EMU_VERSION)
  .showHelpAfterError();
registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // A failed workflow: say which step and activity failed and the root cause, not Temporal's wrapper.
  const failure = describeFailure(err);
  const message = failure ? formatFailure(failure) : err instanceof Error ? err.message : String(err);
  process.stderr.write(`stellar-emu: ${message}\n`);
  if (process.env.STELLAR_EMU_DEBUG && err instanceof Error && err.stack)
    process.stderr.write(`${err.stack}\n`);
  process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : exitCodeFor(err);
});
