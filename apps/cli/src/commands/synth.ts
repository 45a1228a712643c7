// `stellar-emu synth atmospheres|spectra --n N --seed S --out <dataset>`: seeded synthetic datasets, labelled synthetic.
import { randomUUID } from 'node:crypto';
import { cp, rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  TASK_QUEUES,
  type DatasetRef,
  type SmeSpectraSettings,
  type StepOutcome,
} from '@stellar-emu/workflows';
import { smeSource } from '@stellar-emu/workflows/config';
import { startOrAttach, watchWorkflow } from '../pipeline-client.js';
import { addConnectionOptions, type TemporalConnectionFlags } from '../temporal.js';
import { withTemporal } from './pipeline.js';
import { optionalNumber, requiredNumber } from './shared.js';
import {
  type AtmosphereModel,
  type DatasetManifest,
  type SpectrumRecord,
  parseSplitScheme,
  syntheticAtmospheres,
  syntheticSpectra,
  writeAtmosphereDataset,
  writeSpectrumDataset,
} from '@stellar-emu/grid-io';

/** Options of the synth command (strings as commander passes them). */
export interface SynthCommandOptions {
  n: string;
  seed?: string;
  out: string;
  split?: string;
  splitSeed?: string;
  snr?: string;
  json?: boolean;
  quiet?: boolean;
}

/** What one synth run produced. */
export interface SynthResult {
  kind: 'atmospheres' | 'spectra';
  out: string;
  rows: number;
  seconds: number;
  perSecond: number;
  manifest: DatasetManifest;
}

function parseInteger(name: string, text: string | undefined, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  const v = Number(text);
  if (!Number.isSafeInteger(v)) throw new Error(`--${name} must be an integer, got "${text}"`);
  return v;
}

/** Wrap an iterator and report progress on `err` (a line per ~10 % when not a TTY). */
function* withProgress<T>(
  items: Iterable<T>,
  total: number,
  label: string,
  err: NodeJS.WriteStream | null,
): Generator<T> {
  const t0 = performance.now();
  let done = 0;
  let lastShown = -1;
  const show = (final: boolean) => {
    if (!err) return;
    const s = (performance.now() - t0) / 1000;
    const rate = done / Math.max(s, 1e-9);
    const text = `${label} ${done}/${total} (${rate.toFixed(1)}/s, ${s.toFixed(1)} s)`;
    if (err.isTTY) err.write(`\r${text}${final ? '\n' : ''}`);
    else err.write(`${text}\n`);
  };
  for (const item of items) {
    yield item;
    done++;
    const tenth = Math.floor((10 * done) / Math.max(total, 1));
    if (err?.isTTY ? done % 25 === 0 : tenth !== lastShown && done !== total) {
      lastShown = tenth;
      show(false);
    }
  }
  show(true);
}

/**
 * Generate `n` synthetic atmospheres or spectra with `seed` and write them as a dataset
 * directory `out` (a name like `atm.parquet` is used as the directory name). Progress goes to
 * stderr unless `quiet`.
 */
export async function runSynth(
  kind: 'atmospheres' | 'spectra',
  opts: SynthCommandOptions,
): Promise<SynthResult> {
  if (opts.n === undefined) throw new Error('--n <count> is required');
  const n = parseInteger('n', opts.n);
  if (n < 1) throw new Error(`--n must be >= 1, got ${n}`);
  const seed = parseInteger('seed', opts.seed, 0);
  const split = opts.split
    ? { scheme: parseSplitScheme(opts.split), seed: parseInteger('split-seed', opts.splitSeed, 0) }
    : undefined;
  const err = opts.quiet ? null : process.stderr;
  const notes = {
    command: `stellar-emu synth ${kind} --n ${n} --seed ${seed}`,
    generator: `synthetic:${kind}`,
    seed,
    synthetic: true,
  };
  const t0 = performance.now();
  let manifest: DatasetManifest;
  if (kind === 'atmospheres') {
    const models: Iterable<AtmosphereModel> = withProgress(
      syntheticAtmospheres({ n, seed }),
      n,
      'synth atmospheres',
      err,
    );
    manifest = await writeAtmosphereDataset(models, opts.out, { split, notes });
  } else {
    const snr = opts.snr === undefined ? undefined : Number(opts.snr);
    if (snr !== undefined && !(snr > 0)) throw new Error(`--snr must be > 0, got "${opts.snr}"`);
    const records: Iterable<SpectrumRecord> = withProgress(
      syntheticSpectra({ n, seed, ...(snr ? { snr } : {}) }),
      n,
      'synth spectra',
      err,
    );
    manifest = await writeSpectrumDataset(records, opts.out, {
      split,
      notes: snr ? { ...notes, snr } : notes,
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    kind,
    out: opts.out,
    rows: manifest.rowCount,
    seconds,
    perSecond: manifest.rowCount / seconds,
    manifest,
  };
}

/** Options of `synth spectra --engine sme`. */
export interface SmeSynthOptions extends TemporalConnectionFlags {
  n?: string;
  seed?: string;
  labels?: string;
  perAtmosphere?: string;
  window?: string;
  step?: string;
  linelist?: string;
  grid?: string;
  atmospheres?: string;
  medium?: string;
  vmac?: string;
  batchSize?: string;
  synthWorkers?: string;
  artifacts?: string;
  out: string;
  worker: boolean;
  json?: boolean;
}

/** Parse `4450-5400` into [4450, 5400] (Å). */
export function parseWindow(text: string): [number, number] {
  const m = /^\s*([0-9.]+)\s*[-:,]\s*([0-9.]+)\s*$/.exec(text);
  const a = m ? Number(m[1]) : Number.NaN;
  const b = m ? Number(m[2]) : Number.NaN;
  if (!(a > 0 && b > a))
    throw new Error(`--window must look like 4450-5400 (Å, first below last), got '${text}'`);
  return [a, b];
}

/** The `sme` spectra source of a `synth spectra --engine sme` command line (validated by the pipeline config schema). */
export function smeSourceFromOptions(opts: SmeSynthOptions): SmeSpectraSettings {
  if (opts.atmospheres !== undefined && !opts.atmospheres.startsWith('pinn:'))
    throw new Error(`--atmospheres must be pinn:<model-dir>, got '${opts.atmospheres}'`);
  if (opts.atmospheres !== undefined && opts.grid !== undefined)
    throw new Error('give one atmosphere source: --grid <ATLAS9 folder> or --atmospheres pinn:<model-dir>');
  if (!opts.linelist) throw new Error('--linelist <VALD file> is required with --engine sme');
  const atmospheres =
    opts.atmospheres !== undefined
      ? `pinn:${resolve(opts.atmospheres.slice('pinn:'.length))}`
      : opts.grid !== undefined
        ? resolve(opts.grid)
        : null;
  if (!atmospheres)
    throw new Error(
      '--grid <folder of ATLAS9 decks> or --atmospheres pinn:<model-dir> is required with --engine sme',
    );
  if ((opts.n === undefined) === (opts.labels === undefined))
    throw new Error('give exactly one of --n N (seeded labels) or --labels <csv>');
  const raw = {
    ...(opts.n !== undefined ? { n: requiredNumber('n', opts.n) } : {}),
    ...(opts.labels !== undefined ? { labels: resolve(opts.labels) } : {}),
    seed: optionalNumber('seed', opts.seed) ?? 0,
    perAtmosphere: optionalNumber('per-atmosphere', opts.perAtmosphere) ?? 4,
    linelist: resolve(opts.linelist),
    grid: atmospheres,
    window: parseWindow(opts.window ?? '4450-5400'),
    stepAngstrom: optionalNumber('step', opts.step) ?? 0.05,
    medium: opts.medium ?? 'air',
    vmacKms: optionalNumber('vmac', opts.vmac) ?? 0,
    batchSize: optionalNumber('batch-size', opts.batchSize) ?? 16,
  };
  const parsed = smeSource.safeParse(raw);
  if (!parsed.success)
    throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || 'sme'}: ${i.message}`).join('; '));
  return parsed.data as SmeSpectraSettings;
}

/** Run the synthesizeGrid workflow (local dev server and workers unless told otherwise) and copy its dataset to `--out`. */
export async function runSmeSynth(
  opts: SmeSynthOptions,
): Promise<{ out: string; rows: number; seconds: number; result: StepOutcome<DatasetRef> }> {
  const source = smeSourceFromOptions(opts);
  const artifacts = resolve(opts.artifacts ?? '.artifacts');
  const out = resolve(opts.out);
  const t0 = performance.now();
  const synthWorkers = optionalNumber('synth-workers', opts.synthWorkers);
  const result = await withTemporal({ ...opts, synthWorkers }, async (client) => {
    const workflowId = `synthesize-grid-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 6)}`;
    const { handle } = await startOrAttach(client, 'synthesizeGrid', {
      workflowId,
      taskQueue: TASK_QUEUES.cpu,
      args: [{ source, artifacts }],
      memo: { kind: 'synthesizeGrid' },
    });
    process.stderr.write(`started workflow ${handle.workflowId} (rows and dataset in ${artifacts})\n`);
    return watchWorkflow<StepOutcome<DatasetRef>>(client, handle, { expectedSteps: 3 });
  });
  // Copy the finished dataset next to --out and rename it into place: an existing --out is replaced only when the copy is complete.
  const tmp = `${out}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await cp(result.result.path, tmp, { recursive: true });
  await rm(out, { recursive: true, force: true });
  await rename(tmp, out);
  return { out, rows: result.result.rows, seconds: (performance.now() - t0) / 1000, result };
}

export function register(program: Command): void {
  const synth = program
    .command('synth')
    .description('write seeded synthetic datasets (labelled synthetic in every row and in the manifest)');
  for (const kind of ['atmospheres', 'spectra'] as const) {
    const cmd = synth
      .command(kind)
      .description(
        kind === 'atmospheres'
          ? 'hydrostatic grey atmospheres (80 layers, log tau -6.875..2) over the Kurucz-a1 box: Teff 2500-50000 K, log g -1..5.5, [Fe/H] -4..1.5, [a/Fe] -0.2..0.6'
          : 'normalized spectra on 4450-5399.95 Å at 0.05 Å with CVAE labels drawn in Teff 4000-11000 K, log g 2-5, v sin i 0-300 km/s, [M/H] -1.5..1.5, vmic 0-4 km/s, R 1000-115000',
      )
      .option('--n <count>', 'number of rows')
      .option('--seed <seed>', 'seed of the label draws', '0')
      .requiredOption(
        '--out <dataset>',
        'output dataset directory (e.g. atm.parquet is used as a directory name)',
      )
      .option('--split <scheme>', 'assign a split column: 90/10 or 70/15/15')
      .option('--split-seed <n>', 'seed of the split hash', '0')
      .option('--json', 'print the summary as JSON')
      .option('--quiet', 'no progress on stderr');
    if (kind === 'spectra') {
      cmd
        .option('--snr <snr>', 'add seeded Gaussian noise of sd 1/snr per pixel')
        .option(
          '--engine <engine>',
          "toy: the project's synthetic generator (unit tests); sme: PySME radiative transfer from ATLAS atmospheres and a VALD line list",
          'toy',
        )
        .option(
          '--labels <csv>',
          '(sme) label table with teff, logg, mh, vmic, vsini, resolution columns instead of --n',
        )
        .option(
          '--per-atmosphere <k>',
          '(sme) spectra per intrinsic spectrum: v sin i and R vary, one PySME call each group',
          '4',
        )
        .option('--window <from-to>', '(sme) wavelength window in Å', '4450-5400')
        .option('--step <angstrom>', '(sme) pixel step in Å', '0.05')
        .option(
          '--linelist <vald>',
          '(sme) VALD line list (e.g. ../shared/data/atomic/linelists/korg_vald_solar_threshold01/linelist.vald)',
        )
        .option(
          '--grid <dir>',
          '(sme) ATLAS9 grid folder to interpolate atmospheres in (e.g. ../shared/data/atlas9-kurucz1993)',
        )
        .option(
          '--atmospheres <source>',
          '(sme) pinn:<model-dir>: atmospheres from a trained PINN emulator instead of --grid',
        )
        .option('--medium <air|vac>', '(sme) wavelength medium of the output', 'air')
        .option('--vmac <kms>', '(sme) radial-tangential macroturbulence, km/s', '0')
        .option('--batch-size <rows>', '(sme) rows per synth activity', '16')
        .option('--synth-workers <n>', '(sme) local synth workers (default: one per core, at most 4)')
        .option('--artifacts <dir>', '(sme) artifact store (rows, plan, dataset)', '.artifacts')
        .option('--no-worker', '(sme) start no local workers (expect workers on the cpu and synth queues)');
      addConnectionOptions(cmd);
    }
    cmd.action(async (opts: SynthCommandOptions & Partial<SmeSynthOptions> & { engine?: string }) => {
      if (kind === 'spectra' && opts.engine !== undefined && opts.engine !== 'toy') {
        if (opts.engine !== 'sme') throw new Error(`--engine must be toy or sme, got '${opts.engine}'`);
        const r = await runSmeSynth({ ...(opts as SmeSynthOptions), n: opts.n });
        if (opts.json)
          process.stdout.write(
            `${JSON.stringify({ kind, engine: 'sme', out: r.out, rows: r.rows, seconds: r.seconds, skipped: r.result.skipped }, null, 2)}\n`,
          );
        else
          process.stdout.write(
            `wrote ${r.rows} PySME spectra to ${r.out} in ${r.seconds.toFixed(1)} s${r.result.skipped ? ' (an identical grid existed)' : ''}\n`,
          );
        return;
      }
      const r = await runSynth(kind, opts);
      if (opts.json)
        process.stdout.write(
          `${JSON.stringify({ kind: r.kind, out: r.out, rows: r.rows, seconds: r.seconds, perSecond: r.perSecond, synthetic: r.manifest.synthetic }, null, 2)}\n`,
        );
      else
        process.stdout.write(
          `wrote ${r.rows} synthetic ${kind} to ${r.out} in ${r.seconds.toFixed(2)} s (${r.perSecond.toFixed(1)}/s)\n`,
        );
    });
  }
}
