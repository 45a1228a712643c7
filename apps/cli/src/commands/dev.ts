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
      const s = await (await loadDevServerTools()).startDevServer();
      if (opts.json) return out(JSON.stringify(s, null, 2));
      const how = s.external
        ? 'reusing a Temporal server not started here'
        : s.reused
          ? `already running (pid ${s.pid})`
          : `started (pid ${s.pid})`;
      out(`temporal dev server ${how} at ${s.address}, namespace ${s.namespace}, UI ${s.uiUrl}`);
    });

  dev
    .command('stop')
    .description('stop the dev server started by this tooling; no process is left behind')
    .option('--json', 'print what was stopped as JSON')
    .action(async (opts: { json?: boolean }) => {
      const s = await (await loadDevServerTools()).stopDevServer();
      if (opts.json) return out(JSON.stringify(s, null, 2));
      if (s.stopped.length === 0) {
        out(
          s.externalStillAnswering
            ? `a Temporal server not started by this tooling answers at ${s.address}; left alone`
            : 'temporal dev server was not running',
        );
      }
      for (const p of s.stopped) out(`stopped temporal dev server pid ${p.pid} (${p.signal}, ${p.ms} ms)`);
    });

  dev
    .command('status')
    .description('whether the dev server runs and answers (exit code 3 when not running)')
    .option('--json', 'print the status record as JSON')
    .action(async (opts: { json?: boolean }) => {
      const s = await (await loadDevServerTools()).devServerStatus();
      if (opts.json) out(JSON.stringify(s, null, 2));
      else if (!s.running)
        out(`temporal dev server not running (would listen at ${s.address}, state ${s.dbFile})`);
      else
        out(
          `temporal dev server ${s.external ? 'not started by this tooling' : `pid ${s.pid}`} at ${s.address} (${s.healthy ? 'SERVING' : 'not answering'}), UI ${s.uiUrl}`,
        );
      if (!s.running) process.exitCode = 3;
    });
}
