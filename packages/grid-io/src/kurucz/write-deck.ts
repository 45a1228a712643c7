// Kurucz deck writer: parsed or emulated atmospheres back to the text format read by ATLAS, SYNTHE, Korg, PySME, Turbospectrum and SYNSPEC.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { ALPHA_ELEMENTS_Z } from './abundances.js';
import { defaultColumnFormat, KURUCZ_COLUMNS, type ColumnFormat, type KuruczDeck } from './deck.js';
import type { AtmosphereModel } from '../types.js';

/** Fixed-point text of `x` with at least `minDecimals` decimals and as many more as needed to read back exactly. */
export function formatFixedExact(x: number, minDecimals: number): string {
  for (let d = minDecimals; d <= 17; d++) {
    const s = x.toFixed(d);
    if (Number(s) === x) return s;
  }
  return String(x);
}

/** Fortran `E` text of `x` (e.g. `1.84979756E-02`) with `decimals` mantissa digits. */
export function formatFortranE(x: number, decimals: number): string {
  const s = x.toExponential(decimals);
  const e = s.indexOf('e');
  const mant = s.slice(0, e);
  const exp = Number(s.slice(e + 1));
  const ea = Math.abs(exp);
  return `${mant}E${exp < 0 ? '-' : '+'}${ea < 10 ? '0' : ''}${ea}`;
}

/** Fortran `E` text with at least `minDecimals` digits and as many more as needed to read back exactly. */
export function formatFortranEExact(x: number, minDecimals: number): string {
  for (let d = minDecimals; d <= 17; d++) {
    const s = formatFortranE(x, d);
    if (Number(s) === x) return s;
  }
  return formatFortranE(x, 17);
}

function formatCell(x: number, f: ColumnFormat): string {
  const s = f.kind === 'E' ? formatFortranE(x, f.decimals) : x.toFixed(f.decimals);
  return s.length + 1 > f.width ? ` ${s}` : s.padStart(f.width);
}

/**
 * The text of one deck (lines joined with `\n`, ending in a newline). Depth columns use the
 * deck's `columnFormats` (the precision they were printed with); header numbers are printed
 * with Kurucz's usual decimals, or more when a value needs them to read back exactly.
 */
export function formatDeck(deck: KuruczDeck): string {
  const L: string[] = [];
  const teff = Number.isInteger(deck.teffK) ? `${deck.teffK}.` : formatFixedExact(deck.teffK, 1);
  L.push(
    `TEFF ${teff.padStart(7)}  GRAVITY ${formatFixedExact(deck.logg, 5)}${deck.lteFlag ? ` ${deck.lteFlag}` : ''}`,
  );
  L.push(`TITLE ${deck.title}`);
  if (deck.opacityIfop.length) L.push(` OPACITY IFOP ${deck.opacityIfop.join(' ')}`);
  if (deck.convection) {
    let s = ` CONVECTION ${deck.convection.on ? 'ON ' : 'OFF'} ${formatFixedExact(deck.convection.mixingLengthRatio, 2).padStart(6)}`;
    if (deck.turbulence)
      s += ` TURBULENCE ${deck.turbulence.on ? 'ON ' : 'OFF'}${deck.turbulence.params.map((p) => ` ${formatFixedExact(p, 2).padStart(5)}`).join('')}`;
    L.push(s);
  }
  for (const c of deck.otherCards) L.push(c);
  const change = [...deck.abundanceChange.entries()].sort((a, b) => a[0] - b[0]);
  const light = change.filter(([z]) => z <= 2);
  const metals = change.filter(([z]) => z > 2);
  L.push(
    `ABUNDANCE SCALE ${formatFixedExact(deck.abundanceScale, 5).padStart(9)}${light.length ? ` ABUNDANCE CHANGE${light.map(([z, v]) => ` ${z} ${formatFixedExact(v, 5)}`).join('')}` : ''}`,
  );
  for (let i = 0; i < metals.length; i += 6) {
    L.push(
      ` ABUNDANCE CHANGE${metals
        .slice(i, i + 6)
        .map(([z, v]) => `${String(z).padStart(3)} ${formatFixedExact(v, 2).padStart(6)}`)
        .join('')}`,
    );
  }
  if (deck.abundanceTable) {
    L.push(' ABUNDANCE TABLE');
    const t = deck.abundanceTable;
    const lightT = t.filter((e) => e.z <= 2);
    const heavyT = t.filter((e) => e.z > 2);
    if (lightT.length)
      L.push(
        lightT
          .map(
            (e) =>
              `${String(e.z).padStart(5)}${e.symbol.padEnd(2)}${formatFixedExact(e.value, 6).padStart(11)}${e.extra !== null ? ` ${formatFixedExact(e.extra, 3)}` : ''}`,
          )
          .join('     '),
      );
    for (let i = 0; i < heavyT.length; i += 5) {
      L.push(
        heavyT
          .slice(i, i + 5)
          .map(
            (e) =>
              `${String(e.z).padStart(5)}${e.symbol.padEnd(2)}${formatFixedExact(e.value, 3).padStart(7)}${e.extra !== null ? ` ${formatFixedExact(e.extra, 3)}` : ''}`,
          )
          .join(''),
      );
    }
  }
  L.push(`READ DECK6 ${deck.nLayers} ${deck.columnNames.slice(0, deck.namedColumns).join(',')}`);
  const formats = deck.columnNames.map((name, c) => deck.columnFormats[c] ?? defaultColumnFormat(name));
  for (let i = 0; i < deck.nLayers; i++) {
    let row = '';
    for (let c = 0; c < deck.columns.length; c++) row += formatCell(deck.columns[c][i], formats[c]);
    L.push(row);
  }
  if (deck.pradk !== null) L.push(`PRADK ${formatFortranEExact(deck.pradk, 4)}`);
  if (deck.iterations !== null)
    L.push(`BEGIN                    ITERATION ${String(deck.iterations).padStart(3)} COMPLETED`);
  return `${L.join('\n')}\n`;
}

/**
 * Write decks to a file, one after the other (a grid file when there are several). Streams:
 * each deck is formatted and written before the next is pulled.
 */
export async function writeDeckFile(
  path: string,
  decks: Iterable<KuruczDeck> | AsyncIterable<KuruczDeck>,
): Promise<number> {
  const out = createWriteStream(path);
  let n = 0;
  try {
    for await (const d of decks) {
      if (!out.write(formatDeck(d))) await once(out, 'drain');
      n++;
    }
  } finally {
    out.end();
    await once(out, 'finish');
  }
  return n;
}

/**
 * The solar ABUNDANCE CHANGE of Kurucz's 1993 ATLAS9 grids (Anders & Grevesse 1989): index Z-1;
 * Z = 1, 2 are number fractions N/N_tot, Z >= 3 log10(N/N_tot). Copied from the grids' headers.
 */
export const KURUCZ_1993_SOLAR_ABUNDANCE_CHANGE: readonly number[] = [
  0.911, 0.089, -10.88, -10.89, -9.44, -3.48, -3.99, -3.11, -7.48, -3.95, -5.71, -4.46, -5.57, -4.49, -6.59,
  -4.83, -6.54, -5.48, -6.82, -5.68, -8.94, -7.05, -8.04, -6.37, -6.65, -4.37, -7.12, -5.79, -7.83, -7.44,
  -9.16, -8.63, -9.67, -8.69, -9.41, -8.81, -9.44, -9.14, -9.8, -9.54, -10.62, -10.12, -20.0, -10.2, -10.92,
  -10.35, -11.1, -10.18, -10.58, -10.04, -11.04, -9.8, -10.53, -9.81, -10.92, -9.91, -10.82, -10.49, -11.33,
  -10.54, -20.0, -11.04, -11.53, -10.92, -11.94, -10.94, -11.78, -11.11, -12.04, -10.96, -11.28, -11.16,
  -11.91, -10.93, -11.77, -10.59, -10.69, -10.24, -11.03, -10.95, -11.14, -10.19, -11.33, -20.0, -20.0, -20.0,
  -20.0, -20.0, -20.0, -11.92, -20.0, -12.51, -20.0, -20.0, -20.0, -20.0, -20.0, -20.0, -20.0,
];

/** Header choices for decks made from emulated atmospheres. */
export interface ModelToDeckOptions {
  /** TITLE card (default `stellar-emu EMULATED [<mh>] VTURB <v> KM/S L/H 1.25`). */
  title?: string;
  /** Words before the metallicity on the default TITLE (default `stellar-emu EMULATED`): e.g. the model and its hash. */
  titlePrefix?: string;
  /** Mixing-length ratio l/H on the CONVECTION card (default 1.25, as in the Kurucz grids). */
  mixingLengthRatio?: number;
  /** PRADK card value in dyn cm^-2 (default: omitted; see `estimatePradk`). */
  pradk?: number;
  /** Solar ABUNDANCE CHANGE for Z = 1..99 (index Z−1) of the grid the model comes from (default: the Kurucz 1993 grids', Anders & Grevesse 1989). */
  abundanceChange?: readonly number[];
  /** ATLAS iterations to declare on the closing `BEGIN ... ITERATION n COMPLETED` card (default: no such card). */
  iterations?: number;
  /** OPACITY IFOP switches (default: those of the Kurucz 1993 grids). */
  opacityIfop?: number[];
}

/**
 * A deck for an AtmosphereModel (e.g. an emulated one), so that external synthesis codes can
 * use it. Abundances: ABUNDANCE SCALE = 10^[M/H] applied to `abundanceChange` (default the Kurucz 1993 solar mixture), with
 * O, Mg, Si, Ca and Ti raised by [alpha/Fe]. VTURB column = vturbKms (default 2 km/s) in cm/s.
 * Depth columns use Kurucz's print formats (1PE15.8, F9.1, 1PE10.3).
 */
export function atmosphereModelToDeck(model: AtmosphereModel, opts: ModelToDeckOptions = {}): KuruczDeck {
  const vturbKms = model.vturbKms ?? 2;
  const change = new Map<number, number>();
  const solar = opts.abundanceChange ?? KURUCZ_1993_SOLAR_ABUNDANCE_CHANGE;
  if (solar.length !== 99 || !solar.every(Number.isFinite))
    throw new Error(`abundanceChange must hold 99 finite values (Z = 1..99), got ${solar.length}`);
  solar.forEach((v, i) => change.set(i + 1, v));
  if (model.afe !== 0)
    for (const z of ALPHA_ELEMENTS_Z) change.set(z, Math.round((change.get(z)! + model.afe) * 100) / 100);
  const abundanceScale = Math.round(10 ** model.mh * 1e5) / 1e5;
  // The TITLE's [M/H] agrees with log10(ABUNDANCE SCALE) to 1e-3 dex (PySME warns otherwise): 1 decimal when that is enough.
  const mhScale = Math.log10(abundanceScale);
  let mhDecimals = 1;
  while (mhDecimals < 3 && Math.abs(Number(mhScale.toFixed(mhDecimals)) - mhScale) >= 1e-3) mhDecimals++;
  const mhText = `${mhScale >= -5e-4 ? '+' : '-'}${Math.abs(mhScale).toFixed(mhDecimals)}`;
  const names = [...KURUCZ_COLUMNS];
  return {
    source: model.source,
    line: 0,
    indexInFile: 0,
    teffK: model.teffK,
    logg: model.logg,
    lteFlag: 'LTE',
    title:
      opts.title ??
      `${opts.titlePrefix ?? 'stellar-emu EMULATED'} [${mhText}] VTURB ${vturbKms.toFixed(1)} KM/S    L/H ${(opts.mixingLengthRatio ?? 1.25).toFixed(2)}`,
    opacityIfop: opts.opacityIfop ?? [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0],
    convection: { on: true, mixingLengthRatio: opts.mixingLengthRatio ?? 1.25 },
    turbulence: { on: false, params: [0, 0, 0, 0] },
    abundanceScale,
    abundanceChange: change,
    abundanceTable: null,
    columnNames: names,
    namedColumns: names.length,
    nLayers: model.nLayers,
    columns: [
      model.rhox,
      model.temperature,
      model.pressure,
      model.xne,
      model.abross,
      model.accrad,
      new Array<number>(model.nLayers).fill(vturbKms * 1e5),
    ],
    columnFormats: names.map(defaultColumnFormat),
    pradk: opts.pradk ?? null,
    iterations: opts.iterations ?? null,
    otherCards: [],
  };
}
