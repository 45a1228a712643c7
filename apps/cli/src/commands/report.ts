// `stellar-emu report`: regenerate a run's HTML report from its stored metrics (no retraining), or a demo.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildSampleMetrics, currentGitCommit, generateReportFromRun, writeReport, type ReportResult } from '@stellar-emu/report';

interface ReportOptions {
  run?: string;
  artifacts: string;
  out?: string;
  demo?: boolean;
  seed: string;
  failOnCheck?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('report')
    .description('write index.html, metrics.json and figures (SVG, PNG) from a run\'s stored metrics (<artifacts>/runs/<id>/metrics-input.json)')
    .option('--run <id>', 'run id whose stored metrics to report')
    .option('--artifacts <dir>', 'artifact directory', '.artifacts')
    .option('--out <dir>', 'output directory (default <artifacts>/runs/<id>/report, or <artifacts>/reports/demo-<seed> with --demo)')
    .option('--demo', 'report on sample metrics computed from analytic atmospheres and toy spectra (no run needed)')
    .option('--seed <n>', 'seed of the --demo metrics', '1')
    .option('--fail-on-check', 'exit with status 2 when a threshold check fails')
    .option('--json', 'print the result (paths, checks, pass) as JSON')
    .action(async (opts: ReportOptions) => {
      if (!opts.run && !opts.demo) throw new Error('give --run <id> (or --demo)');
      if (opts.run && opts.demo) throw new Error('--run and --demo exclude each other');
      let result: ReportResult;
      if (opts.demo) {
        const seed = Number(opts.seed);
        if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got '${opts.seed}'`);
        const metrics = buildSampleMetrics({ seed, size: 'full', gitCommit: currentGitCommit() });
        result = await writeReport({ metrics, outDir: resolve(opts.out ?? join(opts.artifacts, 'reports', `demo-${seed}`)) });
      } else {
        result = await generateReportFromRun(opts.artifacts, opts.run!, opts.out ? resolve(opts.out) : undefined);
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ indexHtml: result.indexHtml, metricsJson: result.metricsJson, figures: result.figures, checks: result.checks, pass: result.pass }, null, 2)}\n`);
      } else {
        const failed = result.checks.filter((c) => !c.pass);
        process.stdout.write(`${result.indexHtml}\n`);
        process.stdout.write(`${result.figures.length} figures, ${result.checks.length - failed.length}/${result.checks.length} checks pass${failed.length ? `; failed: ${failed.map((c) => c.name).join(', ')}` : ''}\n`);
      }
      if (opts.failOnCheck && !result.pass) process.exitCode = 2;
    });
}
