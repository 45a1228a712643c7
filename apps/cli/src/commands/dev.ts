// `stellar-emu dev start|stop|status`: the local Temporal dev server (same tooling as `npm run temporal`).
import type { Command } from 'commander';
import { loadDevServerTools } from '../repo.js';

const out = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

export function register(program: Command): void {
  const dev = program
    .command('dev')
    .description(
      'the local Temporal dev server on 127.0.0.1 (state in .data/temporal/; port from STELLAR_EMU_TEMPORAL_PORT, default 7233); ' +
        'uses the temporal CLI on PATH or builds the pinned one into .tools/',
    );

  dev
    .command('start')
    .description('start `temporal server start-dev` (or reuse the running one) and wait until it answers')
    .option('--json', 'print the server record as JSON')
    .action(async (opts: { json?: boolean }) => {
      const tools = await loadDevServerTools();
      const s = await tools.startDevServer();
      if (opts.json) return out(JSON.stringify(s, null, 2));
      out(tools.describeStart(s));
    });

  dev
    .command('stop')
    .description('stop the dev server started by this tooling; no process is left behind')
    .option('--json', 'print what was stopped as JSON')
    .action(async (opts: { json?: boolean }) => {
      const tools = await loadDevServerTools();
      const s = await tools.stopDevServer();
      if (opts.json) return out(JSON.stringify(s, null, 2));
      for (const line of tools.describeStop(s)) out(line);
    });

  dev
    .command('status')
    .description('whether the dev server runs and answers (exit code 3 when not running)')
    .option('--json', 'print the status record as JSON')
    .action(async (opts: { json?: boolean }) => {
      const tools = await loadDevServerTools();
      const s = await tools.devServerStatus();
      out(opts.json ? JSON.stringify(s, null, 2) : tools.describeStatus(s));
      if (!s.running) process.exitCode = 3;
    });
}
