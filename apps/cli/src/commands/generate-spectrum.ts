// `stellar-emu generate spectrum`: spectra from a trained CVAE at physical labels (z ~ N(0, I) seeded, or z = 0).
import type { Command } from 'commander';
import { initBackend } from '@stellar-emu/nn-core';
import { join, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import {
  generateSpectra,
  labelMatrix,
  loadCvaeModel,
  readLabelTable,
  writeSpectraCsv,
  writeSpectraFits,
  writeSpectraParquet,
} from '@stellar-emu/cvae';
import { sha256File } from '@stellar-emu/grid-io';
import { STELLAR_EMU_VERSION } from '../repo.js';

interface GenerateCliOptions {
  model: string;
  teff?: string;
  logg?: string;
  vsini?: string;
  mh?: string;
  vmic?: string;
  resolution?: string;
  labels?: string;
  n: string;
  seed: string;
  zZero?: boolean;
  batchSize: string;
  allowExtrapolation?: boolean;
  out: string;
}

/** The `generate` parent command, created if absent. */
function generateCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'generate') ??
    program.command('generate').description('generate with a trained emulator')
  );
}

export function register(program: Command): void {
  generateCommand(program)
    .command('spectrum')
    .description('generate continuum-normalized spectra with a trained CVAE')
    .requiredOption('--model <dir>', 'model directory written by `train cvae`')
    .option('--teff <K>', 'effective temperature in K')
    .option('--logg <dex>', 'log10 surface gravity (cgs)')
    .option('--vsini <km/s>', 'projected rotational velocity in km/s')
    .option('--mh <dex>', 'metallicity [M/H] in dex')
    .option('--vmic <km/s>', 'microturbulence in km/s')
    .option('--resolution <R>', 'resolving power lambda/FWHM')
    .option('--labels <file>', 'CSV (header of label names) or Parquet table of labels: one spectrum per row')
    .option('--n <count>', 'spectra per label set (different z draws)', '1')
    .option('--seed <n>', 'seed of the latent draws', '0')
    .option('--z-zero', 'use z = 0 (the mean spectrum) instead of z ~ N(0, I)')
    .option('--batch-size <n>', 'spectra per decoder call', '256')
    .option('--allow-extrapolation', 'allow labels outside the training box')
    .requiredOption(
      '--out <file>',
      '.fits (flux array with a wavelength WCS in Å, labels in HDU LABELS; opens in specutils), .csv (wavelength in Å, then one flux column per spectrum), .parquet, or a dataset directory',
    )
    .action(async (o: GenerateCliOptions) => {
      const kind = await outputKind(o.out);
      const loaded = await loadCvaeModel(o.model);
      await initBackend({ quiet: true });
      let rows: Record<string, number>[];
      if (o.labels) rows = await readLabelTable(o.labels);
      else {
        const given = {
          teffK: o.teff,
          logg: o.logg,
          vsiniKms: o.vsini,
          mh: o.mh,
          vmicKms: o.vmic,
          resolution: o.resolution,
        };
        const row: Record<string, number> = {};
        for (const [k, v] of Object.entries(given)) if (v !== undefined) row[k] = Number(v);
        rows = [row];
      }
      const n = Number(o.n);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--n must be a positive integer, got '${o.n}'`);
      rows = rows.flatMap((r) => Array.from({ length: n }, () => r));
      const labels = labelMatrix(loaded.meta, rows, o.allowExtrapolation);
      const t0 = performance.now();
      const flux = await generateSpectra(loaded, labels, {
        z: o.zZero ? 'zero' : 'sample',
        seed: Number(o.seed),
        batchSize: Number(o.batchSize),
      });
      const seconds = (performance.now() - t0) / 1000;
      const producer = {
        version: STELLAR_EMU_VERSION,
        modelDir: resolve(o.model),
        weightsSha256: await sha256File(join(o.model, loaded.meta.weightsFile)),
        seed: Number(o.seed),
        z: o.zZero ? ('zero' as const) : ('sample' as const),
      };
      if (kind === 'csv') await writeSpectraCsv(o.out, loaded.meta, flux, producer);
      else if (kind === 'fits') await writeSpectraFits(o.out, loaded.meta, labels, flux, producer);
      else
        await writeSpectraParquet(o.out, loaded.meta, labels, flux, o.model, {
          seed: producer.seed,
          z: producer.z,
          stellarEmu: producer.version,
          weightsSha256: producer.weightsSha256,
        });
      loaded.model.dispose();
      process.stdout.write(
        `generated ${rows.length} spectra of ${loaded.meta.config.nPixels} pixels in ${seconds.toFixed(2)} s -> ${o.out}\n`,
      );
    });
}

/**
 * What `--out` asks for, checked before any work: `.fits`/`.fit`, `.csv`, `.parquet`, or a
 * dataset directory (an existing directory, or a name without an extension). Any other
 * extension is an error rather than a directory of that name.
 */
async function outputKind(out: string): Promise<'fits' | 'csv' | 'parquet' | 'dataset'> {
  if (/\.fits?$/i.test(out)) return 'fits';
  if (/\.csv$/i.test(out)) return 'csv';
  if (/\.parquet$/i.test(out)) return 'parquet';
  const isDir = await stat(out).then(
    (st) => st.isDirectory(),
    () => false,
  );
  const ext = /\.([A-Za-z0-9]+)$/.exec(out.replace(/\/+$/, ''));
  if (!isDir && ext)
    throw new Error(
      `--out ${out}: '.${ext[1]}' is not an output this command writes; use .fits, .csv, .parquet, or a dataset directory (a name without an extension)`,
    );
  return 'dataset';
}
