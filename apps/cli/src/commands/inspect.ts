// `stellar-emu inspect <dataset|file>`: a dataset's manifest checked against its data, what a Parquet file holds (and how to adopt it), or the parsed header of each model in a deck file.
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import {
  checkDatasetAgainstData,
  datasetKindsOf,
  deckMetallicity,
  describeParquetFile,
  hasManifest,
  isParquetFile,
  LEGACY_MANIFEST_FILE,
  MANIFEST_FILE,
  manifestPath,
  readDeckResults,
  type DatasetManifest,
  type ParquetFileInfo,
} from '@stellar-emu/grid-io';

/** Human-readable summary of a dataset manifest. */
export function formatManifest(dir: string, m: DatasetManifest): string {
  const L: string[] = [];
  L.push(
    `${dir}: ${m.kind} dataset, schema v${m.schemaVersion}, ${m.rowCount} rows in ${m.files.map((f) => `${f.path} (${f.rowGroups} row groups)`).join(', ')}`,
  );
  L.push(`  synthetic: ${m.syntheticCount} of ${m.rowCount}; created ${m.createdAt}`);
  L.push(
    `  split: ${m.split ? `${m.split.scheme} seed ${m.split.seed}` : 'none'}; counts: ${
      Object.entries(m.splitCounts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '-'
    }`,
  );
  if (m.layerCounts)
    L.push(
      `  layers: ${Object.entries(m.layerCounts)
        .map(([k, v]) => `${k} x ${v}`)
        .join(', ')}`,
    );
  if (m.pixels)
    L.push(`  pixels per spectrum: ${m.pixels.min}..${m.pixels.max}; NaN pixels: ${m.pixels.nanCount}`);
  L.push('  label ranges:');
  for (const [k, r] of Object.entries(m.labelRanges))
    L.push(`    ${k.padEnd(12)} ${String(r.min).padStart(10)} .. ${r.max}`);
  L.push('  normalization (transformed space):');
  for (const [k, s] of Object.entries(m.normalization))
    L.push(
      `    ${k.padEnd(14)} ${s.transform.padEnd(6)} min ${s.min.toPrecision(5)} max ${s.max.toPrecision(5)} mean ${s.mean.toPrecision(5)} std ${s.std.toPrecision(4)} (n=${s.count})`,
    );
  L.push(`  inputs: ${m.inputs.length} file(s) with sha256`);
  return `${L.join('\n')}\n`;
}

/** What a Parquet file without a manifest is, and the command that adopts it as a dataset. */
export function formatParquetFile(info: ParquetFileInfo): string {
  const L: string[] = [];
  L.push(`${info.path}: a Parquet file, not a stellar-emu dataset (no ${MANIFEST_FILE} beside it)`);
  L.push(
    `  ${info.rows} rows in ${info.rowGroups} row group(s); codecs ${info.codecs.join(', ') || '-'}; written by ${info.createdBy ?? 'unknown'}`,
  );
  L.push(`  columns (${info.columns.length}):`);
  for (const c of info.columns)
    L.push(`    ${c.name.padEnd(28)} ${c.type}${c.nullable ? ' (nullable)' : ''}`);
  const fit = datasetKindsOf(info.columns);
  if (fit.kinds.length) {
    for (const kind of fit.kinds)
      L.push(
        `  its columns fit a ${kind} dataset: adopt it with\n    stellar-emu ingest parquet ${info.path} --kind ${kind} --out <dataset> [--split 90/10]`,
      );
  } else {
    L.push(
      '  to adopt it as a dataset (`stellar-emu ingest parquet <file> --kind atmospheres|spectra --out <dataset>`), it still needs:',
    );
    L.push(`    as spectra: ${fit.missing.spectra.join(', ')}`);
    L.push(`    as atmospheres: ${fit.missing.atmospheres.join(', ')}`);
  }
  return `${L.join('\n')}\n`;
}

/** Where `inspect` writes; `err` gets every error and mismatch. */
export interface InspectIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

const processIo: InspectIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/**
 * Inspect `path` and return the exit code: 0 when everything is consistent, 1 when a dataset's
 * manifest disagrees with its data, a deck file has rejected models, or `path` is neither.
 */
export async function runInspect(
  path: string,
  opts: { json?: boolean } = {},
  io: InspectIo = processIo,
): Promise<number> {
  if (!existsSync(path)) {
    io.err(`stellar-emu inspect: ${path}: no such file or directory\n`);
    return 1;
  }
  const isDir = statSync(path).isDirectory();
  if (isDir && hasManifest(path)) {
    const check = await checkDatasetAgainstData(path);
    if (opts.json)
      io.out(
        `${JSON.stringify({ manifestFile: manifestPath(path), manifest: check.manifest, data: { files: check.files, splitCounts: check.splitCounts }, problems: check.problems }, null, 2)}\n`,
      );
    else {
      io.out(formatManifest(path, check.manifest));
      if (!check.problems.length)
        io.out(
          `  checked against the data: ${check.files.reduce((n, f) => n + f.rows, 0)} rows, ${check.manifest.columns.length} columns${check.splitCounts ? ' and the split counts' : ''} as the manifest says\n`,
        );
    }
    if (basename(manifestPath(path)) === LEGACY_MANIFEST_FILE)
      io.err(
        `note: ${path} has its manifest as ${LEGACY_MANIFEST_FILE} (an older dataset): pyarrow and polars cannot open the folder as a Parquet dataset; renaming it to ${MANIFEST_FILE} fixes that\n`,
      );
    for (const p of check.problems) io.err(`MISMATCH ${path}: ${p}\n`);
    return check.problems.length ? 1 : 0;
  }
  if (isDir) {
    const parquet = (await readdir(path)).filter((n) => n.endsWith('.parquet')).sort();
    if (!parquet.length) {
      io.err(
        `stellar-emu inspect: ${path}: a directory without a dataset manifest (${MANIFEST_FILE}) or Parquet files; give a dataset directory or a file\n`,
      );
      return 1;
    }
    const infos = [];
    for (const n of parquet) infos.push(await describeParquetFile(join(path, n)));
    io.out(opts.json ? `${JSON.stringify(infos, null, 2)}\n` : infos.map(formatParquetFile).join(''));
    return 0;
  }
  if (await isParquetFile(path)) {
    const info = await describeParquetFile(path);
    io.out(
      opts.json
        ? `${JSON.stringify({ ...info, fits: datasetKindsOf(info.columns) }, null, 2)}\n`
        : formatParquetFile(info),
    );
    return 0;
  }
  const out: unknown[] = [];
  let bad = 0;
  let good = 0;
  for await (const r of readDeckResults(path, { label: path })) {
    if (!r.ok) {
      bad++;
      if (opts.json) out.push({ error: r.error.message });
      io.err(`REJECTED ${r.error.message}\n`);
      continue;
    }
    good++;
    const d = r.deck;
    const met = deckMetallicity(d);
    const head = {
      line: d.line,
      index: d.indexInFile,
      teffK: d.teffK,
      logg: d.logg,
      mh: met.mh,
      feh: met.feh,
      afe: met.afe,
      solarReference: met.reference.name,
      title: d.title,
      nLayers: d.nLayers,
      columns: d.columnNames,
      abundanceScale: d.abundanceScale,
      convection: d.convection,
      pradk: d.pradk,
      iterations: d.iterations,
    };
    if (opts.json) out.push(head);
    else
      io.out(
        `${path}:${d.line}  #${d.indexInFile}  Teff ${d.teffK} K  log g ${d.logg}  [M/H] ${met.mh.toFixed(3)}  [Fe/H] ${met.feh.toFixed(3)}  [a/Fe] ${met.afe.toFixed(3)} (${met.reference.name})  ${d.nLayers} layers ${d.columnNames.join(',')}  "${d.title}"  PRADK ${d.pradk}  iterations ${d.iterations}\n`,
      );
  }
  if (opts.json) io.out(`${JSON.stringify(out, null, 2)}\n`);
  if (bad && !good)
    io.err(
      `stellar-emu inspect: ${path}: not a dataset, a Parquet file or a Kurucz deck (no model could be read)\n`,
    );
  return bad ? 1 : 0;
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description(
      'summarize a dataset (manifest checked against its Parquet data: rows, columns, split counts), describe a Parquet file, or list the models of a Kurucz deck file',
    )
    .argument('<path>', 'dataset directory, Parquet file or deck file')
    .option('--json', 'print JSON')
    .action(async (path: string, opts: { json?: boolean }) => {
      const code = await runInspect(path, opts);
      if (code) process.exitCode = code;
    });
}
