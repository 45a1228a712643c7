// `stellar-emu validate pinn-spectra`: Kurucz-a1 end to end — the evaluatePinnSpectra workflow on trained PINN model directories.
import { randomUUID } from 'node:crypto';
import { copyFile, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readManifest, sha256File } from '@stellar-emu/grid-io';
import { datasetHash, MODEL_JSON } from '@stellar-emu/pinn';
import { evaluateChecks, type PinnSpectraSection, type RunMetrics } from '@stellar-emu/report';
import {
  TASK_QUEUES,
  type DatasetRef,
  type MetricsRef,
  type ModelRef,
  type StepOutcome,
} from '@stellar-emu/workflows';
import { pinnSpectra } from '@stellar-emu/workflows/config';
import { startOrAttach, watchWorkflow } from '../pipeline-client.js';
import { addConnectionOptions, type TemporalConnectionFlags } from '../temporal.js';
import { withTemporal } from './pipeline.js';
import { optionalNumber, parentCommand, withParentOptions } from './shared.js';
import { parseWindow } from './synth.js';

interface Options extends TemporalConnectionFlags {
  model: string;
  baseline?: string;
  dataset: string;
  linelist: string;
  sunDeck?: string;
  sunObserved?: string;
  models?: string;
  seed?: string;
  teffRange?: string;
  window?: string[];
  batchSize?: string;
  artifacts: string;
  out?: string;
  worker: boolean;
  synthWorkers?: string;
  json?: boolean;
}

async function modelRef(dir: string): Promise<ModelRef> {
  const path = resolve(dir);
  const sha256 = await sha256File(join(path, MODEL_JSON)).catch(() => {
    throw new Error(
      `${dir}: not a PINN model directory (no ${MODEL_JSON}; train one with \`stellar-emu train pinn\`)`,
    );
  });
  const meta = JSON.parse(await readFile(join(path, MODEL_JSON), 'utf8')) as {
    training?: { epochsDone?: number };
  };
  return { model: 'pinn', path, sha256, epochsDone: meta.training?.epochsDone ?? 0 };
}

/** The numbers and verdicts of a finished evaluation (for the terminal). */
export function pinnSpectraVerdicts(s: PinnSpectraSection): { lines: string[]; pass: boolean } {
  const f = (x: number | null) => (x === null ? 'failed ' : x.toFixed(5));
  const lines = [
    `${s.models.length} validation models (of ${s.sample.candidates} with Teff ${s.sample.teffRangeK.join('–')} K), windows ${s.settings.windows.map((w) => w.join('–')).join(', ')} Å, R ${s.settings.resolution}, v_mic ${s.settings.vmicKms} km/s, PySME ${s.engine.version}`,
    `|ΔF| over models            median of medians   median of p95   p95 of p95`,
    `PINN (alpha ${s.alpha})${' '.repeat(Math.max(1, 20 - String(s.alpha).length))}${f(s.summary.pinn.medianOfMedians)}             ${f(s.summary.pinn.medianOfP95)}         ${f(s.summary.pinn.p95OfP95)}`,
  ];
  if (s.summary.baseline)
    lines.push(
      `baseline (alpha ${s.baselineAlpha})${' '.repeat(Math.max(1, 16 - String(s.baselineAlpha).length))}${f(s.summary.baseline.medianOfMedians)}             ${f(s.summary.baseline.medianOfP95)}         ${f(s.summary.baseline.p95OfP95)}`,
    );
  for (const [name, v] of [
    ['PINN', s.summary.pinn],
    ['baseline', s.summary.baseline],
  ] as const)
    if (v && v.failed > 0)
      lines.push(
        `${name}: ${v.failed} of ${s.models.length} emulated atmospheres could not be synthesized (ranked worst), e.g. ${s.failures.find((x) => x.emulator === (name === 'PINN' ? 'pinn' : 'baseline'))?.reason ?? ''}`,
      );
  if (s.sun) {
    const r = s.sun.residuals;
    lines.push(
      `Sun vs ${s.sun.observedFile}: median |obs − synth| true deck ${f(r.trueVsObserved.median)}, PINN ${f(r.pinnVsObserved.median)}${r.baselineVsObserved ? `, baseline ${f(r.baselineVsObserved.median)}` : ''}; |PINN − true| median ${f(r.pinnVsTrue.median)}, p95 ${f(r.pinnVsTrue.p95)}`,
    );
  }
  // The report's checks, at its default limits: one verdict everywhere.
  const checks = evaluateChecks({ thresholds: {}, pinnSpectra: s } as unknown as RunMetrics);
  const pass = checks.every((c) => c.pass);
  for (const c of checks)
    lines.push(
      `${c.pass ? 'PASS' : 'FAIL'} ${c.name}: ${c.value?.toPrecision(4) ?? '—'} (limit ${c.limit}${c.unit === 'ratio' ? '×' : ''})`,
    );
  return { lines, pass };
}

export function register(program: Command): void {
  const cmd = parentCommand(program, 'validate', 'validate an emulator')
    .command('pinn-spectra')
    .description(
      "Kurucz-a1 end to end: PySME spectra of a PINN's atmospheres (and an alpha = 0 baseline's) against the true decks' for validation models, and the Sun against HARPS (paper Fig. 5); runs the evaluatePinnSpectra workflow",
    )
    .requiredOption('--model <dir>', 'PINN model directory')
    .option('--baseline <dir>', 'alpha = 0 baseline model directory, compared alongside')
    .requiredOption(
      '--dataset <dir>',
      'the atmosphere dataset the PINN trained on (its validation split; rows point to their decks)',
    )
    .requiredOption('--linelist <vald>', 'VALD line list')
    .option('--sun-deck <deck>', 'solar Kurucz deck (e.g. ../shared/data/atomic/atmosphere/ksun.mod)')
    .option(
      '--sun-observed <file>',
      'observed Sun (e.g. ../shared/data/atomic/solar_spectrum/sun_harps_ganymede_4440-5410_air.csv)',
    )
    .option('--models <n>', 'validation models to compare (a seeded sample; default 200)')
    .option('--seed <n>', 'seed of the sample (default 0)')
    .option('--teff-range <from-to>', 'Teff range of the models, K (default 3500-12000)')
    .option(
      '--window <from-to>',
      'wavelength window in Å (repeat; default 4450-4650 and 5150-5350)',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--batch-size <n>', 'models per synth activity (default 8)')
    .option('--artifacts <dir>', 'artifact store', '.artifacts')
    .option('--out <metrics.json>', 'copy the metrics (the report section pinnSpectra) here')
    .option('--synth-workers <n>', 'local synth workers (default: one per core, at most 4)')
    .option('--no-worker', 'start no local workers (expect workers on the synth queue)')
    .option('--json', 'print the workflow result as JSON');
  addConnectionOptions(cmd);
  cmd.action(async (_o: Options, self: Command) => {
    const o = withParentOptions<Options>(self);
    if ((o.sunDeck === undefined) !== (o.sunObserved === undefined))
      throw new Error('give both --sun-deck and --sun-observed, or neither');
    const parsed = pinnSpectra.safeParse({
      linelist: resolve(o.linelist),
      ...(o.window?.length ? { windows: o.window.map(parseWindow) } : {}),
      ...(o.models !== undefined ? { models: optionalNumber('models', o.models) } : {}),
      ...(o.seed !== undefined ? { seed: optionalNumber('seed', o.seed) } : {}),
      ...(o.teffRange !== undefined ? { teffRangeK: parseWindow(o.teffRange) } : {}),
      ...(o.batchSize !== undefined ? { batchSize: optionalNumber('batch-size', o.batchSize) } : {}),
      ...(o.sunDeck ? { sun: { deck: resolve(o.sunDeck), observed: resolve(o.sunObserved!) } } : {}),
    });
    if (!parsed.success)
      throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const manifest = await readManifest(resolve(o.dataset));
    if (manifest.kind !== 'atmospheres')
      throw new Error(`${o.dataset}: is a ${manifest.kind} dataset; give the PINN's atmosphere dataset`);
    const dataset: DatasetRef = {
      path: resolve(o.dataset),
      sha256: datasetHash(manifest),
      rows: manifest.rowCount,
      kind: 'atmospheres',
      synthetic: manifest.synthetic,
    };
    const input = {
      model: await modelRef(o.model),
      ...(o.baseline ? { baseline: await modelRef(o.baseline) } : {}),
      dataset,
      settings: parsed.data,
      artifacts: resolve(o.artifacts),
    };
    const synthWorkers = optionalNumber('synth-workers', o.synthWorkers);
    const r = await withTemporal({ ...o, synthWorkers }, async (client) => {
      const workflowId = `evaluate-pinn-spectra-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 6)}`;
      const { handle } = await startOrAttach(client, 'evaluatePinnSpectra', {
        workflowId,
        taskQueue: TASK_QUEUES.cpu,
        args: [input],
        memo: { kind: 'evaluatePinnSpectra' },
      });
      process.stderr.write(`started workflow ${handle.workflowId} (spectra in ${input.artifacts})\n`);
      return watchWorkflow<StepOutcome<MetricsRef>>(client, handle, { expectedSteps: 3 });
    });
    if (o.out) await copyFile(r.result.path, resolve(o.out));
    const section = JSON.parse(await readFile(r.result.path, 'utf8')) as PinnSpectraSection;
    const v = pinnSpectraVerdicts(section);
    if (o.json) process.stdout.write(`${JSON.stringify({ ...r, pass: v.pass }, null, 2)}\n`);
    else
      process.stdout.write(
        `${v.lines.join('\n')}\nmetrics: ${r.result.path}${r.skipped ? ' (an identical evaluation existed)' : ''}\n`,
      );
    if (!v.pass) process.exitCode = 2;
  });
}
