#!/usr/bin/env node
// `npm run temporal -- ensure|start|stop|status`: the Temporal CLI (temporal-cli.mjs) and the local dev server (temporal-server.mjs).
//   ensure  print the path of a `temporal` CLI, building the pinned one if none is found
//   start   start `temporal server start-dev` on 127.0.0.1 (or reuse the running one) and wait until it answers
//   stop    stop the server this tooling started; no process is left behind
//   status  print what runs where (--json for the record)
// Ports and data folder: STELLAR_EMU_TEMPORAL_PORT (7233), STELLAR_EMU_TEMPORAL_UI_PORT (port + 1000),
// STELLAR_EMU_TEMPORAL_DATA_DIR (.data/temporal). TEMPORAL_CLI=/path/to/temporal skips the lookup.
import { ensureTemporalCli } from './temporal-cli.mjs';
import {
  describeStart,
  describeStatus,
  describeStop,
  devServerStatus,
  startDevServer,
  stopDevServer,
} from './temporal-server.mjs';

const [command, ...rest] = process.argv.slice(2);
const json = rest.includes('--json');
/** @param {string} text */
const out = (text) => process.stdout.write(`${text}\n`);

async function main() {
  switch (command) {
    case 'ensure':
      out(await ensureTemporalCli());
      return;
    case 'start': {
      const s = await startDevServer();
      if (json) return out(JSON.stringify(s, null, 2));
      out(describeStart(s));
      if (!s.external) out(`state ${s.dbFile}, log ${s.logFile}`);
      return;
    }
    case 'stop': {
      const s = await stopDevServer();
      if (json) return out(JSON.stringify(s, null, 2));
      for (const line of describeStop(s)) out(line);
      return;
    }
    case 'status': {
      const s = await devServerStatus();
      if (json) return out(JSON.stringify(s, null, 2));
      out(describeStatus(s));
      if (!s.running) process.exitCode = 3;
      return;
    }
    default:
      process.stderr.write('usage: node tools/temporal.mjs ensure|start|stop|status [--json]\n');
      process.exitCode = 2;
  }
}

main().catch((err) => {
  process.stderr.write(`[temporal] error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
