// `stellar-emu ingest atmospheres <files...> --out <dataset>`: Kurucz decks to a Parquet dataset, with a quarantine report.
// `stellar-emu ingest spectra --labels <labels.csv> --out <dataset>`: real spectra listed in a label table to a spectrum dataset.
// `stellar-emu ingest parquet <file> --kind atmospheres|spectra --out <dataset>`: adopt a Parquet file written by another tool.
import type { Command } from 'commander';
import {
  SPECTRUM_DEFAULT_GRID,
  adoptParquetFile,
  ingestAtmospheres,
  ingestSpectra,
  parseSplitScheme,
  type IngestResult,
  type IngestSpectraResult,
  type SpectrumGrid,
  IngestError,
  type QuarantineEntry,
} from '@stellar-emu/grid-io';

/** Options of the ingest command. */
export interface IngestCommandOptions {
  out: string;
  split?: string;
  seed?: string;
  strict?: boolean;
  json?: boolean;
}

/** Print the rejects of an ingest that wrote nothing (the output folder was left as it was). */
function printNothingIngested(
  out: (s: string) => void,
  dir: string,
  rejected: QuarantineEntry[],
  json: boolean | undefined,
): void {
  if (json) {
    out(`${JSON.stringify({ out: dir, ingested: 0, unchanged: true, rejected }, null, 2)}\n`);
    return;
  }
  out(`ingested nothing; ${dir} was left unchanged\n`);
  if (rejected.length) {
    out(`rejected ${rejected.length}:\n`);
    for (const r of rejected) out(`  ${r.reason}\n`);
  }
}

/**
 * Run an atmosphere ingest and print its summary. Returns the exit code: 0 on success, 1 when
 * nothing was ingested (the output folder is then left as it was, `result` is null), 2 when
 * `--strict` is given and something was rejected.
 */
export async function runIngest(
  inputs: string[],
  opts: IngestCommandOptions,
  out: (s: string) => void = (s) => process.stdout.write(s),
): Promise<{ code: number; result: IngestResult | null }> {
  const split = opts.split
    ? { scheme: parseSplitScheme(opts.split), seed: Number(opts.seed ?? 0) }
    : undefined;
  if (split && !Number.isInteger(split.seed))
    throw new Error(`--seed must be an integer, got "${opts.seed}"`);
  let result: IngestResult;
  try {
    result = await ingestAtmospheres(inputs, opts.out, {
      split,
      notes: { command: `stellar-emu ingest atmospheres ${inputs.length} inputs` },
    });
  } catch (err) {
    if (!(err instanceof IngestError)) throw err;
    printNothingIngested(out, opts.out, err.rejected, opts.json);
    return { code: 1, result: null };
  }
  const mb = result.inputBytes / 1e6;
  if (opts.json) {
    out(
      `${JSON.stringify({ out: opts.out, ingested: result.ingested, rejected: result.rejected, files: result.files, seconds: result.seconds, modelsPerSecond: result.ingested / result.seconds, inputMBPerSecond: mb / result.seconds }, null, 2)}\n`,
    );
  } else {
    for (const f of result.files)
      out(
        `  ${f.models.toString().padStart(5)} models  ${f.rejected ? `${f.rejected} rejected  ` : ''}${f.file}\n`,
      );
    out(
      `ingested ${result.ingested} models into ${opts.out} in ${result.seconds.toFixed(2)} s (${(result.ingested / result.seconds).toFixed(0)} models/s, ${(mb / result.seconds).toFixed(1)} MB/s of input)\n`,
    );
    if (result.rejected.length) {
      out(`rejected ${result.rejected.length} (report: ${result.quarantinePath}):\n`);
      for (const r of result.rejected) out(`  ${r.reason}\n`);
    }
  }
  const code = result.ingested === 0 ? 1 : opts.strict && result.rejected.length > 0 ? 2 : 0;
  return { code, result };
}

/** Options of `ingest spectra` (strings as commander passes them). */
export interface IngestSpectraCommandOptions {
  labels: string;
  out: string;
  normalize?: boolean;
  split?: string;
  seed?: string;
  grid?: string;
  method?: string;
  maxGap?: string;
  json?: boolean;
  quiet?: boolean;
  strict?: boolean;
  allowOutside?: boolean;
}

/** Parse `--grid <start>,<step>,<n>` (Å, Å, pixels). */
export function parseGridOption(text: string): SpectrumGrid {
  const parts = text.split(',').map((p) => p.trim());
  const [startAngstrom, stepAngstrom, n] = parts.map(Number);
  if (
    parts.length !== 3 ||
    parts.some((p) => p === '') ||
    !(startAngstrom > 0 && stepAngstrom > 0 && Number.isInteger(n) && n >= 1)
  ) {
    throw new Error(`--grid must be <start Å>,<step Å>,<pixels> (e.g. 4450,0.05,19000), got "${text}"`);
  }
  return { startAngstrom, stepAngstrom, n };
}

/**
 * Run a spectrum ingest: progress on `err` (a line per ~10 % when not a TTY, a counter when it
 * is) unless `quiet`, which header columns were used as aliases or ignored on `err`, and a
 * summary (or JSON) on `out`: the count ingested, then every rejected row (`<labels>:<line>: …`:
 * bad label, missing or unreadable file, file outside the table's folder, spectrum not covering
 * the grid) with the quarantine report's path. Returns the exit code with the result: 0, 2 when
 * `--strict` is given and a row was rejected, 1 when no row was good (nothing written; the output
 * folder is left as it was, `result` is null). Problems of the table itself are thrown.
 */
export async function runIngestSpectra(
  opts: IngestSpectraCommandOptions,
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: NodeJS.WriteStream | null = opts.quiet ? null : process.stderr,
): Promise<{ code: number; result: IngestSpectraResult | null }> {
  const seed = Number(opts.seed ?? 0);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got "${opts.seed}"`);
  const split = opts.split === 'none' ? null : { scheme: parseSplitScheme(opts.split ?? '90/10'), seed };
  const grid = opts.grid ? parseGridOption(opts.grid) : SPECTRUM_DEFAULT_GRID;
  const method = opts.method ?? 'linear';
  if (method !== 'linear' && method !== 'average')
    throw new Error(`--method must be linear or average, got "${method}"`);
  const maxGapAngstrom = opts.maxGap === undefined ? undefined : Number(opts.maxGap);
  if (maxGapAngstrom !== undefined && !(maxGapAngstrom > 0))
    throw new Error(`--max-gap must be a number > 0 (Å), got "${opts.maxGap}"`);
  const t0 = performance.now();
  let lastTenth = -1;
  let result: IngestSpectraResult;
  try {
    result = await ingestSpectra({
      labels: opts.labels,
      out: opts.out,
      grid,
      method,
      maxGapAngstrom,
      normalize: Boolean(opts.normalize),
      split,
      allowOutside: Boolean(opts.allowOutside),
      notes: { command: `stellar-emu ingest spectra --labels ${opts.labels}` },
      onProgress: ({ done, total }) => {
        if (!err) return;
        const s = (performance.now() - t0) / 1000;
        const text = `ingest spectra ${done}/${total} (${(done / Math.max(s, 1e-9)).toFixed(1)}/s, ${s.toFixed(1)} s)`;
        if (err.isTTY) {
          if (done % 25 === 0 || done === total) err.write(`\r${text}${done === total ? '\n' : ''}`);
        } else {
          const tenth = Math.floor((10 * done) / total);
          if (tenth !== lastTenth || done === total) {
            lastTenth = tenth;
            err.write(`${text}\n`);
          }
        }
      },
    });
  } catch (e) {
    if (!(e instanceof IngestError)) throw e;
    printNothingIngested(out, opts.out, e.rejected, opts.json);
    return { code: 1, result: null };
  }
  const aliases = result.columns.filter((c) => c.alias);
  if (err && aliases.length)
    err.write(
      `${opts.labels}: header ${aliases.map((c) => `'${c.header}' read as ${c.column}`).join(', ')}\n`,
    );
  if (err && result.ignoredColumns.length)
    err.write(
      `${opts.labels}: ignored column${result.ignoredColumns.length > 1 ? 's' : ''} ${result.ignoredColumns.map((c) => `'${c}'`).join(', ')}\n`,
    );
  const m = result.manifest;
  const last = grid.startAngstrom + (grid.n - 1) * grid.stepAngstrom;
  const splitText = m.split
    ? `split ${m.split.scheme} seed ${m.split.seed}: ${Object.entries(m.splitCounts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`
    : 'no split';
  if (opts.json) {
    out(
      `${JSON.stringify({ out: opts.out, ingested: result.ingested, rejected: result.rejected, quarantine: result.quarantinePath, seconds: result.seconds, spectraPerSecond: result.ingested / result.seconds, grid, method, normalize: Boolean(opts.normalize), split: m.split, splitCounts: m.splitCounts, columns: result.columns, ignoredColumns: result.ignoredColumns }, null, 2)}\n`,
    );
  } else {
    out(
      `ingested ${result.ingested} ${result.ingested === 1 ? 'spectrum' : 'spectra'} from ${opts.labels} into ${opts.out} in ${result.seconds.toFixed(2)} s (${(result.ingested / result.seconds).toFixed(1)}/s; ` +
        `${grid.n} px ${grid.startAngstrom}–${last} Å, ${method}${opts.normalize ? ', continuum-normalized' : ''}; ${splitText})\n`,
    );
    if (result.rejected.length) {
      out(`rejected ${result.rejected.length} (report: ${result.quarantinePath}):\n`);
      for (const r of result.rejected) out(`  ${r.reason}\n`);
    }
  }
  return { code: opts.strict && result.rejected.length > 0 ? 2 : 0, result };
}

export function register(program: Command): void {
  const ingest = program
    .command('ingest')
    .description(
      'ingest model atmospheres (Kurucz decks) or spectra (fort.7 text or CSV, listed in a label table) into a Parquet dataset',
    );
  ingest
    .command('atmospheres')
    .description(
      'read Kurucz decks (ATLAS9 grids, ATLAS12 models; plain or gzip; files or directories) into <dataset>/data.parquet + _manifest.json',
    )
    .argument('<inputs...>', 'deck files or directories')
    .requiredOption('--out <dataset>', 'output dataset directory')
    .option('--split <scheme>', 'assign a split column: 90/10 or 70/15/15')
    .option('--seed <n>', 'seed of the split hash', '0')
    .option('--strict', 'exit non-zero when any file or model was rejected')
    .option('--json', 'print the summary as JSON')
    .action(async (inputs: string[], opts: IngestCommandOptions) => {
      const { code } = await runIngest(inputs, opts);
      if (code !== 0) {
        process.stderr.write(
          code === 1
            ? 'stellar-emu ingest: nothing was ingested\n'
            : 'stellar-emu ingest: --strict and some inputs were rejected\n',
        );
        process.exitCode = code;
      }
    });
  ingest
    .command('spectra')
    .description(
      'read the spectra listed in a CSV label table (file + teff_k, logg, vsini_kms, mh, vmic_kms, resolution; aliases teff, vsini, feh, vmic), ' +
        'resample each onto the grid (linear interpolation at pixel centres by default), optionally continuum-normalize, into <dataset>/data.parquet + _manifest.json',
    )
    .requiredOption(
      '--labels <labels.csv>',
      'label table; its file column is relative to the folder of the table (.csv spectra read as CSV, others as two-column text, gzip accepted)',
    )
    .requiredOption('--out <dataset>', 'output dataset directory')
    .option('--normalize', 'continuum-normalize each spectrum (0.95 quantile in 20 Å windows)')
    .option('--split <scheme>', 'split column: 90/10, 70/15/15 or none', '90/10')
    .option('--seed <n>', 'seed of the split hash', '0')
    .option('--grid <start,step,n>', 'target grid in Å (default 4450,0.05,19000: 4450-5399.95 Å)')
    .option(
      '--method <m>',
      'resampling: linear (interpolation at pixel centres) or average (exact pixel means)',
      'linear',
    )
    .option(
      '--max-gap <angstrom>',
      'samples further apart than this are a gap (an error inside the grid)',
      '1',
    )
    .option('--allow-outside', "read spectrum files outside the label table's folder (refused by default)")
    .option('--strict', 'exit non-zero when any row was rejected')
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress on stderr')
    .action(async (opts: IngestSpectraCommandOptions) => {
      const { code, result } = await runIngestSpectra(opts);
      if (result?.rejected.length)
        process.stderr.write(
          `stellar-emu ingest spectra: ${result.rejected.length} row${result.rejected.length > 1 ? 's' : ''} rejected (see ${result.quarantinePath})\n`,
        );
      if (code !== 0) {
        process.stderr.write(
          code === 1
            ? 'stellar-emu ingest spectra: nothing was ingested\n'
            : 'stellar-emu ingest spectra: --strict and some rows were rejected\n',
        );
        process.exitCode = code;
      }
    });
  ingest
    .command('parquet')
    .description(
      'adopt a Parquet file written by another tool (pyarrow, polars, DuckDB) as a dataset: its rows into <dataset>/data.parquet + _manifest.json with statistics. ' +
        'spectra need flux (list), wavelength_start_angstrom, wavelength_step_angstrom and numeric label columns; atmospheres the label and depth columns of an atmosphere dataset (`stellar-emu inspect <file>` says which fit)',
    )
    .argument('<file>', 'Parquet file')
    .requiredOption('--kind <kind>', 'atmospheres or spectra')
    .requiredOption('--out <dataset>', 'output dataset directory')
    .option(
      '--split <scheme>',
      "assign a split column by id hash: 90/10 or 70/15/15 (default: keep the file's split column)",
    )
    .option('--seed <n>', 'seed of the split hash', '0')
    .option('--json', 'print the manifest as JSON')
    .action(
      async (
        file: string,
        opts: { kind: string; out: string; split?: string; seed: string; json?: boolean },
      ) => {
        if (opts.kind !== 'atmospheres' && opts.kind !== 'spectra')
          throw new Error(`--kind must be atmospheres or spectra, got "${opts.kind}"`);
        const split = opts.split
          ? { scheme: parseSplitScheme(opts.split), seed: Number(opts.seed) }
          : undefined;
        if (split && !Number.isInteger(split.seed))
          throw new Error(`--seed must be an integer, got "${opts.seed}"`);
        const m = await adoptParquetFile(file, opts.out, {
          kind: opts.kind,
          split,
          notes: { command: 'stellar-emu ingest parquet' },
        });
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(m, null, 2)}\n`
            : `adopted ${m.rowCount} ${m.kind} rows of ${file} into ${opts.out} (labels: ${m.labels.join(', ')}; split counts: ${
                Object.entries(m.splitCounts)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(', ') || 'none'
              })\n`,
        );
      },
    );
}
