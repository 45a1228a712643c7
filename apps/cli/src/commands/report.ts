// `stellar-emu report`: regenerate a run's HTML report from its stored metrics (no retraining), or a demo run's.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { generateReportFromRun, runDirectory, type ReportResult } from '@stellar-emu/report';

interface ReportOptions {
  run?: string;
  artifacts: string;
  out?: string;
  demo?: boolean;
  seed: string;
  size: string;
  failOnCheck?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('report')
    .description(
      "write index.html, metrics.json and figures (SVG, PNG) from a run's stored metrics (<artifacts>/runs/<id>/metrics-input.json)",
    )
    .option('--run <id>', 'run id whose stored metrics to report')
    .option('--artifacts <dir>', 'artifact directory', '.artifacts')
    .option(
      '--out <dir>',
      'output directory (default <artifacts>/runs/<id>/report; with --demo, <id> is demo-<seed>)',
    )
    .option(
      '--demo',
      "a demo run in this process (no Temporal): grid-io's synthetic atmospheres and spectra, small PINN and CVAE trainings, the real evaluation and recovery validation, the report (stored as run demo-<seed>)",
    )
    .option('--seed <n>', 'seed of the --demo data', '1')
    .option('--size <tiny|small>', 'size of the --demo run: tiny (seconds) or small (minutes)', 'small')
    .option('--fail-on-check', 'exit with status 2 when a threshold check fails')
    .option('--json', 'print the result (paths, checks, pass) as JSON')
    .action(async (opts: ReportOptions) => {
      if (!opts.run && !opts.demo) throw new Error('give --run <id> (or --demo)');
      if (opts.run && opts.demo) throw new Error('--run and --demo exclude each other');
      let result: ReportResult;
      if (opts.demo) {
        const seed = Number(opts.seed);
        if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got '${opts.seed}'`);
        if (opts.size !== 'tiny' && opts.size !== 'small')
          throw new Error(`--size must be tiny or small, got '${opts.size}'`);
        // The worker's steps, loaded only for the demo.
        const { runDemo } = await import('@stellar-emu/worker/demo');
        const demo = await runDemo({
          artifacts: opts.artifacts,
          seed,
          size: opts.size,
          log: (step) => process.stderr.write(`demo: ${step}\n`),
        });
        const runReport = resolve(runDirectory(opts.artifacts, demo.runId), 'report');
        result = await generateReportFromRun(
          opts.artifacts,
          demo.runId,
          opts.out ? resolve(opts.out) : runReport,
        );
      } else {
        result = await generateReportFromRun(
          opts.artifacts,
          opts.run!,
          opts.out ? resolve(opts.out) : undefined,
        );
      }
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ indexHtml: result.indexHtml, metricsJson: result.metricsJson, figures: result.figures, checks: result.checks, pass: result.pass }, null, 2)}\n`,
        );
      } else {
        const failed = result.checks.filter((c) => !c.pass);
        process.stdout.write(`${result.indexHtml}\n`);
        process.stdout.write(
          `${result.figures.length} figures, ${result.checks.length - failed.length}/${result.checks.length} checks pass${failed.length ? `; failed: ${failed.map((c) => c.name).join(', ')}` : ''}\n`,
        );
      }
      if (opts.failOnCheck && !result.pass) process.exitCode = 2;
    });
}
