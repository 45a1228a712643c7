// `stellar-emu ingest atmospheres <files...> --out <dataset>`: Kurucz decks to a Parquet dataset, with a quarantine report.
import type { Command } from 'commander';
import { ingestAtmospheres, parseSplitScheme, type IngestResult } from '@stellar-emu/grid-io';

/** Options of the ingest command. */
export interface IngestCommandOptions {
  out: string;
  split?: string;
  seed?: string;
  strict?: boolean;
  json?: boolean;
}

/**
 * Run an atmosphere ingest and print its summary. Returns the exit code: 0 on success, 1 when
 * nothing was ingested, 2 when `--strict` is given and something was rejected.
 */
export async function runIngest(inputs: string[], opts: IngestCommandOptions, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<{ code: number; result: IngestResult }> {
  const split = opts.split ? { scheme: parseSplitScheme(opts.split), seed: Number(opts.seed ?? 0) } : undefined;
  if (split && !Number.isInteger(split.seed)) throw new Error(`--seed must be an integer, got "${opts.seed}"`);
  const result = await ingestAtmospheres(inputs, opts.out, { split, notes: { command: `stellar-emu ingest atmospheres ${inputs.length} inputs` } });
  const mb = result.inputBytes / 1e6;
  if (opts.json) {
    out(`${JSON.stringify({ out: opts.out, ingested: result.ingested, rejected: result.rejected, files: result.files, seconds: result.seconds, modelsPerSecond: result.ingested / result.seconds, inputMBPerSecond: mb / result.seconds }, null, 2)}\n`);
  } else {
    for (const f of result.files) out(`  ${f.models.toString().padStart(5)} models  ${f.rejected ? `${f.rejected} rejected  ` : ''}${f.file}\n`);
    out(`ingested ${result.ingested} models into ${opts.out} in ${result.seconds.toFixed(2)} s (${(result.ingested / result.seconds).toFixed(0)} models/s, ${(mb / result.seconds).toFixed(1)} MB/s of input)\n`);
    if (result.rejected.length) {
      out(`rejected ${result.rejected.length} (report: ${result.quarantinePath}):\n`);
      for (const r of result.rejected) out(`  ${r.reason}\n`);
    }
  }
  const code = result.ingested === 0 ? 1 : opts.strict && result.rejected.length > 0 ? 2 : 0;
  return { code, result };
}

export function register(program: Command): void {
  const ingest = program.command('ingest').description('ingest model atmospheres or spectra into a Parquet dataset');
  ingest
    .command('atmospheres')
    .description('read Kurucz decks (ATLAS9 grids, ATLAS12 models; plain or gzip; files or directories) into <dataset>/data.parquet + manifest.json')
    .argument('<inputs...>', 'deck files or directories')
    .requiredOption('--out <dataset>', 'output dataset directory')
    .option('--split <scheme>', 'assign a split column: 90/10 or 70/15/15')
    .option('--seed <n>', 'seed of the split hash', '0')
    .option('--strict', 'exit non-zero when any file or model was rejected')
    .option('--json', 'print the summary as JSON')
    .action(async (inputs: string[], opts: IngestCommandOptions) => {
      const { code } = await runIngest(inputs, opts);
      if (code !== 0) {
        process.stderr.write(code === 1 ? 'stellar-emu ingest: nothing was ingested\n' : 'stellar-emu ingest: --strict and some inputs were rejected\n');
        process.exitCode = code;
      }
    });
}
