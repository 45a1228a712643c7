// `stellar-emu backend`: which tfjs backend would run here, and why.
import type { Command } from 'commander';
import { BACKEND_PREFERENCE, describeBackend } from '@stellar-emu/nn-core';

export function register(program: Command): void {
  program
    .command('backend')
    .description(
      `print the tfjs backend that would be selected (order: ${BACKEND_PREFERENCE.join(' -> ')}) and why`,
    )
    .option('--json', 'print the full selection record as JSON')
    .action(async (opts: { json?: boolean }) => {
      const info = await describeBackend();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${info.name}  (${info.reason}; tfjs ${info.tfjsVersion})\n`);
      for (const a of info.attempts) {
        process.stdout.write(
          `  ${a.ok ? 'ok     ' : 'skipped'} ${a.name}${a.reason ? `: ${a.reason}` : ''}\n`,
        );
      }
    });
}
