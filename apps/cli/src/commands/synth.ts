// `stellar-emu synth atmospheres|spectra --n N --seed S --out <dataset>`: seeded synthetic datasets, labelled synthetic.
import type { Command } from 'commander';
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
function* withProgress<T>(items: Iterable<T>, total: number, label: string, err: NodeJS.WriteStream | null): Generator<T> {
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
export async function runSynth(kind: 'atmospheres' | 'spectra', opts: SynthCommandOptions): Promise<SynthResult> {
  const n = parseInteger('n', opts.n);
  if (n < 1) throw new Error(`--n must be >= 1, got ${n}`);
  const seed = parseInteger('seed', opts.seed, 0);
  const split = opts.split ? { scheme: parseSplitScheme(opts.split), seed: parseInteger('split-seed', opts.splitSeed, 0) } : undefined;
  const err = opts.quiet ? null : process.stderr;
  const notes = { command: `stellar-emu synth ${kind} --n ${n} --seed ${seed}`, generator: `synthetic:${kind}`, seed, synthetic: true };
  const t0 = performance.now();
  let manifest: DatasetManifest;
  if (kind === 'atmospheres') {
    const models: Iterable<AtmosphereModel> = withProgress(syntheticAtmospheres({ n, seed }), n, 'synth atmospheres', err);
    manifest = await writeAtmosphereDataset(models, opts.out, { split, notes });
  } else {
    const snr = opts.snr === undefined ? undefined : Number(opts.snr);
    if (snr !== undefined && !(snr > 0)) throw new Error(`--snr must be > 0, got "${opts.snr}"`);
    const records: Iterable<SpectrumRecord> = withProgress(syntheticSpectra({ n, seed, ...(snr ? { snr } : {}) }), n, 'synth spectra', err);
    manifest = await writeSpectrumDataset(records, opts.out, { split, notes: snr ? { ...notes, snr } : notes });
  }
  const seconds = (performance.now() - t0) / 1000;
  return { kind, out: opts.out, rows: manifest.rowCount, seconds, perSecond: manifest.rowCount / seconds, manifest };
}

export function register(program: Command): void {
  const synth = program.command('synth').description('write seeded synthetic datasets (labelled synthetic in every row and in the manifest)');
  for (const kind of ['atmospheres', 'spectra'] as const) {
    const cmd = synth
      .command(kind)
      .description(
        kind === 'atmospheres'
          ? 'hydrostatic grey atmospheres (80 layers, log tau -6.875..2) over the Kurucz-a1 box: Teff 2500-50000 K, log g -1..5.5, [Fe/H] -4..1.5, [a/Fe] -0.2..0.6'
          : 'normalized spectra on 4450-5399.95 Å at 0.05 Å with CVAE labels drawn in Teff 4000-11000 K, log g 2-5, v sin i 0-300 km/s, [M/H] -1.5..1.5, vmic 0-4 km/s, R 1000-115000',
      )
      .requiredOption('--n <count>', 'number of rows')
      .option('--seed <seed>', 'seed of the label draws', '0')
      .requiredOption('--out <dataset>', 'output dataset directory (e.g. atm.parquet is used as a directory name)')
      .option('--split <scheme>', 'assign a split column: 90/10 or 70/15/15')
      .option('--split-seed <n>', 'seed of the split hash', '0')
      .option('--json', 'print the summary as JSON')
      .option('--quiet', 'no progress on stderr');
    if (kind === 'spectra') cmd.option('--snr <snr>', 'add seeded Gaussian noise of sd 1/snr per pixel');
    cmd.action(async (opts: SynthCommandOptions) => {
        const r = await runSynth(kind, opts);
        if (opts.json) process.stdout.write(`${JSON.stringify({ kind: r.kind, out: r.out, rows: r.rows, seconds: r.seconds, perSecond: r.perSecond, synthetic: r.manifest.synthetic }, null, 2)}\n`);
        else process.stdout.write(`wrote ${r.rows} synthetic ${kind} to ${r.out} in ${r.seconds.toFixed(2)} s (${r.perSecond.toFixed(1)}/s)\n`);
      });
  }
}
