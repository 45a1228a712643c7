// `stellar-emu split <dataset> --out <dataset2> --scheme 90/10|70/15/15 --seed N`: write a dataset's split column.
import type { Command } from 'commander';
import { parseSplitScheme, resplitDataset } from '@stellar-emu/grid-io';

export function register(program: Command): void {
  program
    .command('split')
    .description('copy a dataset with a deterministic split column (hash of each row id and the seed)')
    .argument('<dataset>', 'input dataset directory')
    .requiredOption('--out <dataset>', 'output dataset directory')
    .option('--scheme <scheme>', '90/10 or 70/15/15', '90/10')
    .option('--seed <n>', 'seed of the split hash', '0')
    .action(async (src: string, opts: { out: string; scheme: string; seed: string }) => {
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got "${opts.seed}"`);
      const m = await resplitDataset(src, opts.out, { scheme: parseSplitScheme(opts.scheme), seed });
      const counts = Object.entries(m.splitCounts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      process.stdout.write(
        `wrote ${m.rowCount} rows to ${opts.out} (${opts.scheme}, seed ${seed}): ${counts}\n`,
      );
    });
}
