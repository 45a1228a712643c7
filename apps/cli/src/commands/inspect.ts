// `stellar-emu inspect <dataset|file>`: manifest summary of a dataset, or the parsed header of each model in a deck file.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { deckMetallicity, readDeckResults, readManifest, type DatasetManifest } from '@stellar-emu/grid-io';

/** Human-readable summary of a dataset manifest. */
export function formatManifest(dir: string, m: DatasetManifest): string {
  const L: string[] = [];
  L.push(`${dir}: ${m.kind} dataset, schema v${m.schemaVersion}, ${m.rowCount} rows in ${m.files.map((f) => `${f.path} (${f.rowGroups} row groups)`).join(', ')}`);
  L.push(`  synthetic: ${m.syntheticCount} of ${m.rowCount}; created ${m.createdAt}`);
  L.push(`  split: ${m.split ? `${m.split.scheme} seed ${m.split.seed}` : 'none'}; counts: ${Object.entries(m.splitCounts).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`);
  if (m.layerCounts) L.push(`  layers: ${Object.entries(m.layerCounts).map(([k, v]) => `${k} x ${v}`).join(', ')}`);
  if (m.pixels) L.push(`  pixels per spectrum: ${m.pixels.min}..${m.pixels.max}; NaN pixels: ${m.pixels.nanCount}`);
  L.push('  label ranges:');
  for (const [k, r] of Object.entries(m.labelRanges)) L.push(`    ${k.padEnd(12)} ${String(r.min).padStart(10)} .. ${r.max}`);
  L.push('  normalization (transformed space):');
  for (const [k, s] of Object.entries(m.normalization)) L.push(`    ${k.padEnd(14)} ${s.transform.padEnd(6)} min ${s.min.toPrecision(5)} max ${s.max.toPrecision(5)} mean ${s.mean.toPrecision(5)} std ${s.std.toPrecision(4)} (n=${s.count})`);
  L.push(`  inputs: ${m.inputs.length} file(s) with sha256`);
  return `${L.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description('summarize a dataset (manifest, split counts, label ranges) or list the models of a Kurucz deck file')
    .argument('<path>', 'dataset directory or deck file')
    .option('--json', 'print JSON')
    .action(async (path: string, opts: { json?: boolean }) => {
      if (existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, 'manifest.json'))) {
        const m = await readManifest(path);
        process.stdout.write(opts.json ? `${JSON.stringify(m, null, 2)}\n` : formatManifest(path, m));
        return;
      }
      const out: unknown[] = [];
      let bad = 0;
      for await (const r of readDeckResults(path, { label: path })) {
        if (!r.ok) {
          bad++;
          if (opts.json) out.push({ error: r.error.message });
          else process.stdout.write(`REJECTED ${r.error.message}\n`);
          continue;
        }
        const d = r.deck;
        const met = deckMetallicity(d);
        const head = { line: d.line, index: d.indexInFile, teffK: d.teffK, logg: d.logg, mh: met.mh, feh: met.feh, afe: met.afe, solarReference: met.reference.name, title: d.title, nLayers: d.nLayers, columns: d.columnNames, abundanceScale: d.abundanceScale, convection: d.convection, pradk: d.pradk, iterations: d.iterations };
        if (opts.json) out.push(head);
        else
          process.stdout.write(
            `${path}:${d.line}  #${d.indexInFile}  Teff ${d.teffK} K  log g ${d.logg}  [M/H] ${met.mh.toFixed(3)}  [Fe/H] ${met.feh.toFixed(3)}  [a/Fe] ${met.afe.toFixed(3)} (${met.reference.name})  ${d.nLayers} layers ${d.columnNames.join(',')}  "${d.title}"  PRADK ${d.pradk}  iterations ${d.iterations}\n`,
          );
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      if (bad) process.exitCode = 1;
    });
}
