// `stellar-emu predict atmosphere`: atmospheres from a trained PINN model directory (one star, or a table of labels).
import { readFile, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  ATMOSPHERE_QUANTITIES,
  formatDeck,
  openDataset,
  parquetCompressors,
  writeAtmosphereDataset,
} from '@stellar-emu/grid-io';
import { initBackend } from '@stellar-emu/nn-core';
import {
  checkLabelRange,
  loadPinnModel,
  predictedAtmosphereModel,
  type PinnEmulator,
  type PinnModelJson,
  type PredictedAtmosphere,
  type StellarLabels,
} from '@stellar-emu/pinn';
import { STELLAR_EMU_VERSION } from '../repo.js';
import { pinnDeck } from './pinn-deck.js';
import { requiredNumber } from './shared.js';

interface PredictCliOptions {
  model: string;
  teff?: string;
  logg?: string;
  feh: string;
  afe: string;
  labels?: string;
  format: string;
  out?: string;
  allowExtrapolation?: boolean;
}

/** One row of a labels table: labels, optional own tau grid, optional split and id. */
interface LabelRow {
  labels: StellarLabels;
  tau: number[] | null;
  split: string | null;
  line: number;
}

const num = requiredNumber;

/** Accepted column names of each label (CSV header or Parquet column). */
const LABEL_COLUMNS: Record<keyof StellarLabels, string[]> = {
  teffK: ['teff_k', 'teffK', 'teff'],
  logg: ['logg', 'log_g'],
  feh: ['feh', 'fe_h', 'm_h', 'mh'],
  afe: ['afe', 'alpha_fe'],
};

function pick(row: Record<string, unknown>, key: keyof StellarLabels, where: string): number {
  for (const c of LABEL_COLUMNS[key]) {
    if (row[c] !== undefined && row[c] !== null && row[c] !== '') {
      const x = Number(row[c]);
      if (!Number.isFinite(x)) throw new Error(`${where}: ${c} = '${row[c]}' is not a number`);
      return x;
    }
  }
  if (key === 'afe') return 0;
  throw new Error(`${where}: no ${key} column (one of ${LABEL_COLUMNS[key].join(', ')})`);
}

/** Read labels from a CSV file, a grid-io atmosphere dataset directory, or a Parquet file. */
async function readLabelTable(path: string): Promise<LabelRow[]> {
  const st = await stat(path).catch(() => null);
  if (!st) throw new Error(`--labels ${path}: file not found`);
  let rows: Record<string, unknown>[];
  if (st.isDirectory()) {
    const ds = await openDataset(path);
    rows = [];
    for await (const batch of ds.iterateRows()) rows.push(...batch);
  } else if (/\.parquet$/i.test(path)) {
    const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
    rows = (await parquetReadObjects({
      file: await asyncBufferFromFile(path),
      compressors: parquetCompressors,
    })) as Record<string, unknown>[];
  } else {
    const lines = (await readFile(path, 'utf8'))
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    if (lines.length < 2) throw new Error(`--labels ${path}: expected a header line and at least one row`);
    const header = lines[0].split(',').map((h) => h.trim());
    rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v.trim()])));
  }
  return rows.map((r, i) => {
    const where = `--labels ${path}: row ${i + 1}`;
    const tauRaw = r.tau_rosseland ?? r.tauRosseland;
    const tau = tauRaw && typeof tauRaw !== 'string' ? Array.from(tauRaw as ArrayLike<number>, Number) : null;
    return {
      labels: {
        teffK: pick(r, 'teffK', where),
        logg: pick(r, 'logg', where),
        feh: pick(r, 'feh', where),
        afe: pick(r, 'afe', where),
      },
      tau: tau && tau.length > 1 ? tau : null,
      split: typeof r.split === 'string' ? r.split : null,
      line: i + 1,
    };
  });
}

function formatCsv(p: PredictedAtmosphere, model: PinnModelJson, dir: string): string {
  const head = ['tau_rosseland', ...ATMOSPHERE_QUANTITIES].join(',');
  const rows = p.tauRosseland.map((t, i) =>
    [t, ...ATMOSPHERE_QUANTITIES.map((q) => p[q][i])].map((x) => x.toExponential(6)).join(','),
  );
  const units = [
    'tau_rosseland 1',
    'rhox g cm^-2',
    'temperature K',
    'pressure dyn cm^-2',
    'xne cm^-3',
    'abross cm^2 g^-1',
    'accrad cm s^-2',
  ];
  return (
    [
      `# stellar-emu ${STELLAR_EMU_VERSION} PINN ${resolve(dir)} (weights sha256 ${model.weights.sha256})`,
      `# Teff ${p.teffK} K, log g ${p.logg}, [Fe/H] ${p.feh}, [alpha/Fe] ${p.afe}`,
      `# units: ${units.join(', ')}`,
      head,
      ...rows,
    ].join('\n') + '\n'
  );
}

function predictRows(
  emu: PinnEmulator,
  rows: LabelRow[],
  allowExtrapolation: boolean,
): PredictedAtmosphere[] {
  if (!allowExtrapolation) {
    rows.forEach((r) => {
      try {
        checkLabelRange(emu.norm, [r.labels], r.tau ? r.tau.map(Math.log10) : undefined);
      } catch (err) {
        throw new Error(`row ${r.line}: ${(err as Error).message.replace(/^labels\[0\]\./, '')}`);
      }
    });
  }
  const own = rows.filter((r) => r.tau);
  const shared = rows.filter((r) => !r.tau);
  const byOwn = new Map<LabelRow, PredictedAtmosphere>();
  if (own.length)
    emu
      .predictOnTauGrids(
        own.map((r) => ({ labels: r.labels, tau: r.tau! })),
        { allowExtrapolation: true },
      )
      .forEach((p, i) => byOwn.set(own[i], p));
  if (shared.length)
    emu
      .predictAtmosphere(
        shared.map((r) => r.labels),
        { allowExtrapolation: true, batchSize: 1024 },
      )
      .forEach((p, i) => byOwn.set(shared[i], p));
  return rows.map((r) => byOwn.get(r)!);
}

export function register(program: Command): void {
  const predict =
    program.commands.find((c) => c.name() === 'predict') ??
    program.command('predict').description('predict with a trained emulator');
  predict
    .command('atmosphere')
    .description(
      'predict model atmospheres with a trained PINN (labels inside the training box unless --allow-extrapolation)',
    )
    .requiredOption('--model <dir>', 'model directory written by `stellar-emu train pinn`')
    .option('--teff <K>', 'effective temperature in K')
    .option('--logg <dex>', 'log10 surface gravity (cgs)')
    .option('--feh <dex>', '[Fe/H]', '0')
    .option('--afe <dex>', '[alpha/Fe]', '0')
    .option(
      '--labels <file>',
      'many models: CSV (teff_k,logg,feh,afe), a Parquet file or a grid-io atmosphere dataset; rows with tau_rosseland are predicted on their own tau grid; writes a Parquet dataset to --out',
    )
    .option('--format <kurucz|csv|json>', 'output of a single prediction', 'json')
    .option('--out <path>', 'output file (single model; default stdout) or dataset directory (--labels)')
    .option('--allow-extrapolation', 'predict outside the training label and tau range')
    .action(async (o: PredictCliOptions) => {
      await initBackend({ quiet: true });
      const { emulator, model } = await loadPinnModel(o.model);
      try {
        const source = `stellar-emu:pinn:${resolve(o.model)}`;
        if (o.labels) {
          if (!o.out)
            throw new Error(
              '--labels needs --out <dataset-dir> (the predictions are written as a grid-io atmosphere dataset)',
            );
          const rows = await readLabelTable(o.labels);
          const preds = predictRows(emulator, rows, !!o.allowExtrapolation);
          const manifest = await writeAtmosphereDataset(
            preds.map((p, i) =>
              predictedAtmosphereModel(p, { source, line: rows[i].line, split: rows[i].split }),
            ),
            o.out,
            { notes: { command: 'predict atmosphere', model: resolve(o.model), labels: resolve(o.labels) } },
          );
          process.stdout.write(
            `predicted ${manifest.rowCount} atmospheres (${rows.filter((r) => r.tau).length} on their own tau grid) -> ${o.out}\n`,
          );
          return;
        }
        if (o.teff === undefined || o.logg === undefined)
          throw new Error('give --teff and --logg (and --feh, --afe), or --labels <file>');
        const labels: StellarLabels = {
          teffK: num('teff', o.teff),
          logg: num('logg', o.logg),
          feh: num('feh', o.feh),
          afe: num('afe', o.afe),
        };
        const [p] = predictRows(
          emulator,
          [{ labels, tau: null, split: null, line: 1 }],
          !!o.allowExtrapolation,
        );
        let text: string;
        if (o.format === 'kurucz') text = formatDeck(pinnDeck(p, model, o.model));
        else if (o.format === 'csv') text = formatCsv(p, model, o.model);
        else if (o.format === 'json')
          text = `${JSON.stringify({ producer: `stellar-emu ${STELLAR_EMU_VERSION}`, model: { dir: resolve(o.model), weightsSha256: model.weights.sha256 }, units: { rhox: 'g cm^-2', temperature: 'K', pressure: 'dyn cm^-2', xne: 'cm^-3', abross: 'cm^2 g^-1', accrad: 'cm s^-2' }, ...p }, null, 2)}\n`;
        else throw new Error(`--format must be kurucz, csv or json, got '${o.format}'`);
        if (o.out) await writeFile(o.out, text);
        else process.stdout.write(text);
      } finally {
        emulator.dispose();
      }
    });
}
