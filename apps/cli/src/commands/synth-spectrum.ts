// `stellar-emu synth spectrum`: one PySME spectrum of a Kurucz deck or of a PINN's atmosphere (or of the PINN at a deck's labels).
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { readDecks, sha256File, writeFileAtomic, type KuruczDeck } from '@stellar-emu/grid-io';
import { initBackend } from '@stellar-emu/nn-core';
import { loadPinnModel, type PinnEmulator, type PinnModelJson } from '@stellar-emu/pinn';
import { pinnDeck } from './pinn-deck.js';
import {
  deckAtmosphere,
  emulatedAtmosphere,
  SmeEngine,
  synthesizeWindows,
  trueDeck,
  windowWavelengths,
  type EngineAtmosphere,
  type WindowedSpectrumSettings,
} from '@stellar-emu/synthesis';
import { pinnSpectra } from '@stellar-emu/workflows/config';
import { optionalNumber } from './shared.js';
import { parseWindow } from './synth.js';

/** Options of `synth spectrum` (strings as commander passes them). */
export interface SynthSpectrumOptions {
  atmospheres?: string;
  atmosphere?: string;
  teff?: string;
  logg?: string;
  feh?: string;
  afe?: string;
  linelist: string;
  window?: string[];
  step?: string;
  vmic?: string;
  vsini?: string;
  vmac?: string;
  resolution?: string;
  medium?: string;
  out: string;
  allowExtrapolation?: boolean;
}

/** What `synth spectrum` computed: wavelengths, flux and where they came from. */
export interface SynthSpectrumResult {
  wavelengthAngstrom: Float64Array;
  flux: Float32Array;
  atmosphere: string;
  labels: { teffK: number; logg: number; feh: number; afe: number };
  settings: WindowedSpectrumSettings;
  pysme: string;
  seconds: number;
  warnings: string[];
}

async function firstDeck(path: string): Promise<KuruczDeck> {
  for await (const d of readDecks(resolve(path))) return d;
  throw new Error(`${path}: no Kurucz deck in the file`);
}

/**
 * The settings of a spectrum: the flags over the defaults of the pipeline's `pinn.spectra`
 * (two windows 4450–4650 and 5150–5350 Å, 0.02 Å, R 50,000, v_mic 1 km/s, no rotation).
 */
export function spectrumSettings(o: SynthSpectrumOptions): WindowedSpectrumSettings {
  const d = pinnSpectra.parse({ linelist: o.linelist });
  return {
    windows: o.window && o.window.length ? o.window.map(parseWindow) : d.windows,
    stepAngstrom: optionalNumber('step', o.step) ?? d.stepAngstrom,
    resolution: optionalNumber('resolution', o.resolution) ?? d.resolution,
    vmicKms: optionalNumber('vmic', o.vmic) ?? d.vmicKms,
    vsiniKms: optionalNumber('vsini', o.vsini) ?? d.vsiniKms,
    vmacKms: optionalNumber('vmac', o.vmac) ?? d.vmacKms,
    linelist: resolve(o.linelist),
    medium:
      o.medium === undefined
        ? d.medium
        : o.medium === 'air' || o.medium === 'vac'
          ? o.medium
          : badMedium(o.medium),
  };
}

function badMedium(m: string): never {
  throw new Error(`--medium must be air or vac, got '${m}'`);
}

/**
 * Synthesize one spectrum: `--atmosphere <deck>` alone (the deck), `--atmospheres pinn:<dir>`
 * with labels (the emulator's atmosphere on its default tau grid, the Kurucz 1993 mix: the deck
 * `predict atmosphere --format kurucz` exports), or both (the emulator at the deck's labels on
 * the deck's tau grid with the deck's abundances: the comparison of `evaluatePinnSpectra`).
 */
export async function synthSpectrum(
  o: SynthSpectrumOptions,
  engine?: SmeEngine,
): Promise<SynthSpectrumResult> {
  if (!o.linelist) throw new Error('--linelist <VALD file> is required');
  if (o.atmospheres !== undefined && !o.atmospheres.startsWith('pinn:'))
    throw new Error(`--atmospheres must be pinn:<model-dir>, got '${o.atmospheres}'`);
  if (o.atmospheres === undefined && o.atmosphere === undefined)
    throw new Error(
      'give --atmosphere <Kurucz deck>, or --atmospheres pinn:<model-dir> with --teff and --logg (and --feh, --afe)',
    );
  const settings = spectrumSettings(o);
  const deck = o.atmosphere !== undefined ? await firstDeck(o.atmosphere) : null;
  let emulator: PinnEmulator | null = null;
  let modelDir = '';
  let weights = '';
  let pinnModel: PinnModelJson | null = null;
  if (o.atmospheres !== undefined) {
    modelDir = resolve(o.atmospheres.slice('pinn:'.length));
    await initBackend({ quiet: true });
    const m = await loadPinnModel(modelDir);
    emulator = m.emulator;
    weights = m.model.weights.sha256;
    pinnModel = m.model;
  }
  try {
    let atmosphere: EngineAtmosphere;
    let labels: SynthSpectrumResult['labels'];
    let description: string;
    if (deck && emulator) {
      if (o.teff !== undefined || o.logg !== undefined)
        throw new Error(
          '--teff/--logg come from the deck when both --atmosphere and --atmospheres are given',
        );
      const t = trueDeck(deck, optionalNumber('afe', o.afe) ?? 0);
      const e = emulator;
      const emulated = emulatedAtmosphere(
        t,
        (l, tau) =>
          e.predictOnTauGrids([{ labels: l, tau }], { allowExtrapolation: !!o.allowExtrapolation })[0],
        `pinn:${modelDir}`,
      );
      atmosphere = emulated;
      labels = t.labels;
      const fix = emulated.rhoxRepair;
      description = `pinn:${modelDir} (weights sha256 ${weights}) at the labels, tau grid and abundances of ${deck.source}:${deck.line}${fix ? `; RHOX rebuilt from the tau scale in layers ${fix.layers.join(', ')} (at most ${(100 * fix.maxRelativeChange).toPrecision(2)} %)` : ''}`;
    } else if (deck) {
      const t = trueDeck(deck, optionalNumber('afe', o.afe) ?? 0);
      atmosphere = deckAtmosphere(deck);
      labels = t.labels;
      description = `${deck.source}:${deck.line} (sha256 ${await sha256File(resolve(o.atmosphere!))})`;
    } else {
      const teffK = optionalNumber('teff', o.teff);
      const logg = optionalNumber('logg', o.logg);
      if (teffK === undefined || logg === undefined)
        throw new Error('give --teff and --logg (and --feh, --afe) with --atmospheres pinn:<model-dir>');
      labels = {
        teffK,
        logg,
        feh: optionalNumber('feh', o.feh) ?? 0,
        afe: optionalNumber('afe', o.afe) ?? 0,
      };
      const [p] = emulator!.predictAtmosphere([labels], { allowExtrapolation: !!o.allowExtrapolation });
      atmosphere = deckAtmosphere(pinnDeck(p, pinnModel!, modelDir));
      description = `pinn:${modelDir} (weights sha256 ${weights}), default tau grid, ${pinnModel!.deckDefaults ? 'the training grid’s' : 'Kurucz 1993'} abundances scaled to [Fe/H]`;
    }
    const own = engine ?? (await SmeEngine.start());
    try {
      const r = await synthesizeWindows(
        own,
        atmosphere,
        { teffK: labels.teffK, logg: labels.logg, mh: labels.feh },
        settings,
        description,
      );
      return {
        wavelengthAngstrom: windowWavelengths(settings),
        flux: r.flux,
        atmosphere: description,
        labels,
        settings,
        pysme: own.versions!.pysme,
        seconds: r.seconds,
        warnings: r.warnings,
      };
    } finally {
      if (!engine) await own.close();
    }
  } finally {
    emulator?.dispose();
  }
}

/** The spectrum as CSV: `#` lines naming the atmosphere, labels, settings, engine and units, then wavelength,flux. */
export function spectrumCsv(r: SynthSpectrumResult, version: string): string {
  const s = r.settings;
  const head = [
    `# stellar-emu ${version} synth spectrum, PySME ${r.pysme}`,
    `# atmosphere: ${r.atmosphere}`,
    `# labels: Teff ${r.labels.teffK} K, log g ${r.labels.logg} (cgs), [Fe/H] ${r.labels.feh}, [alpha/Fe] ${r.labels.afe}`,
    `# settings: v_mic ${s.vmicKms} km/s, v sin i ${s.vsiniKms} km/s, v_mac ${s.vmacKms} km/s, R ${s.resolution}, windows ${s.windows.map((w) => w.join('-')).join(', ')} A at ${s.stepAngstrom} A, line list ${s.linelist}`,
    `# columns: wavelength_angstrom (${s.medium}), flux (continuum-normalized, dimensionless)`,
    'wavelength_angstrom,flux',
  ];
  const rows = Array.from(r.wavelengthAngstrom, (w, i) => `${w.toFixed(3)},${r.flux[i].toPrecision(7)}`);
  return `${head.join('\n')}\n${rows.join('\n')}\n`;
}

export function register(program: Command): void {
  const synth = program.commands.find((c) => c.name() === 'synth');
  if (!synth) throw new Error('register synth before synth spectrum');
  synth
    .command('spectrum')
    .description(
      "one PySME spectrum: of a Kurucz deck (--atmosphere), of a PINN atmosphere at labels (--atmospheres pinn:<dir> --teff --logg), or of the PINN at a deck's labels and tau grid (both)",
    )
    .option('--atmospheres <source>', 'pinn:<model-dir>: a trained PINN emulator')
    .option('--atmosphere <deck>', 'a Kurucz deck (its first model)')
    .option('--teff <K>', 'effective temperature (with --atmospheres)')
    .option('--logg <dex>', 'log10 surface gravity, cgs (with --atmospheres)')
    .option('--feh <dex>', '[Fe/H] (with --atmospheres)')
    .option('--afe <dex>', '[alpha/Fe]')
    .requiredOption(
      '--linelist <vald>',
      'VALD line list (e.g. ../shared/data/atomic/linelists/korg_vald_solar_threshold01/linelist.vald)',
    )
    .option(
      '--window <from-to>',
      'wavelength window in Å (repeat for several; default 4450-4650 and 5150-5350)',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--step <angstrom>', 'pixel step in Å (default 0.02)')
    .option('--vmic <kms>', 'microturbulence, km/s (default 1)')
    .option('--vsini <kms>', 'projected rotation, km/s (default 0)')
    .option('--vmac <kms>', 'radial-tangential macroturbulence, km/s (default 0)')
    .option('--resolution <R>', 'resolving power (default 50000)')
    .option('--medium <air|vac>', 'wavelength medium (default air)')
    .option('--allow-extrapolation', 'let the PINN predict outside its training box')
    .requiredOption('--out <file.csv>', 'output CSV (written atomically)')
    .action(async (o: SynthSpectrumOptions) => {
      const r = await synthSpectrum(o);
      const version = (
        JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
          version: string;
        }
      ).version;
      await writeFileAtomic(resolve(o.out), spectrumCsv(r, version));
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(
        `wrote ${r.flux.length} pixels to ${o.out} (${r.seconds.toFixed(1)} s of PySME)\n`,
      );
    });
}
