// The parsed form of one Kurucz (ATLAS9 / ATLAS12) model deck, as read from and written to text.

/** How a depth column was printed, so that a writer can reproduce its precision. */
export interface ColumnFormat {
  /** 'E' = Fortran exponent form (1.234E+05), 'F' = fixed (5750.3). */
  kind: 'E' | 'F';
  /** Digits after the decimal point (mantissa digits for 'E'). */
  decimals: number;
  /** Field width including the separating blank(s). */
  width: number;
}

/** One element of an ATLAS12 `ABUNDANCE TABLE` card. */
export interface AbundanceTableEntry {
  /** Atomic number. */
  z: number;
  symbol: string;
  /** H and He: number fraction N_X/N_tot; Z >= 3: log10(N_X/N_tot). */
  value: number;
  /** Second number printed after the abundance (ATLAS12 prints a per-element change, usually 0), or null. */
  extra: number | null;
}

/**
 * One model atmosphere deck. Depth columns are ordered from the surface inwards and kept in the
 * units of the deck (cgs): RHOX g cm^-2, T K, P dyn cm^-2, XNE cm^-3, ABROSS cm^2 g^-1,
 * ACCRAD cm s^-2, VTURB cm s^-1; extra columns (e.g. FLXCNV, VCONV) are kept as printed.
 */
export interface KuruczDeck {
  /** File path (or label) the deck came from. */
  source: string;
  /** 1-based line of the `TEFF` card in `source`. */
  line: number;
  /** 0-based position of the deck within its file. */
  indexInFile: number;
  teffK: number;
  /** log10 of the surface gravity in cm s^-2. */
  logg: number;
  /** Flag printed after the gravity (usually `LTE`), '' if none. */
  lteFlag: string;
  /** Text of the TITLE card (trailing blanks removed). */
  title: string;
  /** The 20 switches of `OPACITY IFOP`. */
  opacityIfop: number[];
  /** `CONVECTION ON 1.25`: whether convection is on and the mixing-length ratio l/H. */
  convection: { on: boolean; mixingLengthRatio: number } | null;
  /** `TURBULENCE OFF 0 0 0 0`: the switch and its four parameters. */
  turbulence: { on: boolean; params: number[] } | null;
  /** `ABUNDANCE SCALE`: the factor applied to every metal abundance (Z >= 3). */
  abundanceScale: number;
  /**
   * `ABUNDANCE CHANGE` values by atomic number: Z = 1, 2 are number fractions N_X/N_tot,
   * Z >= 3 are log10(N_X/N_tot) before the scale factor is applied.
   */
  abundanceChange: Map<number, number>;
  /** ATLAS12 `ABUNDANCE TABLE` entries (null when the deck has none, e.g. ATLAS9 grids). */
  abundanceTable: AbundanceTableEntry[] | null;
  /** Column names, one per number in a depth row: the `READ DECK6` names, then FLXCNV, VCONV, VELSND (what ATLAS punches there) or `COL<k>` for unnamed extras. */
  columnNames: string[];
  /** Number of named columns on the `READ DECK6` card. */
  namedColumns: number;
  /** Number of depth layers (`READ DECK6 N`). */
  nLayers: number;
  /** Depth columns, `columns[c][layer]`. */
  columns: number[][];
  /** Printed format of each column (as found in the file, or the Kurucz defaults for new decks). */
  columnFormats: ColumnFormat[];
  /** `PRADK`: radiation pressure constant at the top (dyn cm^-2), null if absent. */
  pradk: number | null;
  /** Iteration count of the `BEGIN ... ITERATION n COMPLETED` card, null if absent. */
  iterations: number | null;
  /** Header cards the reader does not interpret, kept verbatim in their order. */
  otherCards: string[];
}

/** Standard column names of a Kurucz deck, in order. */
export const KURUCZ_COLUMNS = ['RHOX', 'T', 'P', 'XNE', 'ABROSS', 'ACCRAD', 'VTURB'] as const;

/** Columns that must be strictly positive in a physical model. */
export const POSITIVE_DEFINITE_COLUMNS: readonly string[] = ['RHOX', 'T', 'P', 'XNE', 'ABROSS'];

/** Kurucz's own print formats (1PE15.8, 0PF9.1, 1PE10.3 ...), used for decks that were not read from text. */
export function defaultColumnFormat(name: string): ColumnFormat {
  if (name === 'RHOX') return { kind: 'E', decimals: 8, width: 15 };
  if (name === 'T') return { kind: 'F', decimals: 1, width: 9 };
  return { kind: 'E', decimals: 3, width: 10 };
}

/** Index of a named column in a deck, or -1. */
export function columnIndex(deck: KuruczDeck, name: string): number {
  return deck.columnNames.indexOf(name);
}
