// Shared record types of grid-io: one atmosphere model, one spectrum.

/**
 * The six per-depth quantities of a Kurucz deck that the emulators learn (cgs units), in the one
 * order of the workspace: the PINN's outputs, dataset columns, metrics and reports.
 */
export const ATMOSPHERE_QUANTITIES = ['rhox', 'temperature', 'pressure', 'xne', 'abross', 'accrad'] as const;
export type AtmosphereQuantity = (typeof ATMOSPHERE_QUANTITIES)[number];

/** Name and unit of one depth quantity. */
export interface AtmosphereQuantityInfo {
  /** Its column in a Kurucz deck, also its display name (RHOX, T, P, XNE, ABROSS, ACCRAD). */
  deckColumn: string;
  /** cgs unit in ASCII (`g cm^-2`), as in model files and TSDoc. */
  unit: string;
  /** The same unit with Unicode superscripts (`g cm⁻²`), for figures and tables. */
  unitUnicode: string;
}

/** Deck column and cgs unit of each depth quantity. */
export const ATMOSPHERE_QUANTITY_INFO: Readonly<
  Record<AtmosphereQuantity, Readonly<AtmosphereQuantityInfo>>
> = {
  rhox: { deckColumn: 'RHOX', unit: 'g cm^-2', unitUnicode: 'g cm⁻²' },
  temperature: { deckColumn: 'T', unit: 'K', unitUnicode: 'K' },
  pressure: { deckColumn: 'P', unit: 'dyn cm^-2', unitUnicode: 'dyn cm⁻²' },
  xne: { deckColumn: 'XNE', unit: 'cm^-3', unitUnicode: 'cm⁻³' },
  abross: { deckColumn: 'ABROSS', unit: 'cm^2 g^-1', unitUnicode: 'cm² g⁻¹' },
  accrad: { deckColumn: 'ACCRAD', unit: 'cm s^-2', unitUnicode: 'cm s⁻²' },
};

/**
 * The depth quantities that are positive by definition (all but ACCRAD), in
 * {@link ATMOSPHERE_QUANTITIES} order: interpolated and averaged in log10, ACCRAD linearly.
 */
export const LOG_ATMOSPHERE_QUANTITIES = [
  'rhox',
  'temperature',
  'pressure',
  'xne',
  'abross',
] as const satisfies readonly AtmosphereQuantity[];
export type LogAtmosphereQuantity = (typeof LOG_ATMOSPHERE_QUANTITIES)[number];

/**
 * One 1D LTE model atmosphere, ordered from the surface inwards.
 * Units: rhox g cm^-2, temperature K, pressure dyn cm^-2, xne cm^-3, abross cm^2 g^-1,
 * accrad cm s^-2, tauRosseland dimensionless.
 */
export interface AtmosphereModel {
  /** Stable content hash (hex) of labels and depth arrays. */
  id: string;
  /** Source file path (or `synthetic:...` for generated models). */
  source: string;
  /** 1-based line number of the model's TEFF line in `source` (0 for synthetic). */
  line: number;
  teffK: number;
  logg: number;
  /** [M/H] in dex. */
  mh: number;
  /** [Fe/H] in dex. */
  feh: number;
  /** [alpha/Fe] in dex. */
  afe: number;
  /** Microturbulence in km/s, when the deck states one. */
  vturbKms: number | null;
  nLayers: number;
  rhox: number[];
  temperature: number[];
  pressure: number[];
  xne: number[];
  abross: number[];
  accrad: number[];
  /** Rosseland optical depth per layer (see `rosselandTau` for the convention). */
  tauRosseland: number[];
  /** true for models made by the project's own generators. */
  synthetic: boolean;
  /** 'train' | 'val' | 'test' once a split was assigned, else null. */
  split: string | null;
}

/** One normalized spectrum on a uniform wavelength grid. */
export interface SpectrumRecord {
  id: string;
  source: string;
  line: number;
  /** Label name -> value in physical units (teffK, logg, vsiniKms, mh, vmicKms, resolution). */
  labels: Record<string, number>;
  /** First wavelength in Å and the step in Å; flux[i] is at wavelengthStartAngstrom + i * step. */
  wavelengthStartAngstrom: number;
  wavelengthStepAngstrom: number;
  /** Continuum-normalized flux (NaN allowed for missing pixels). */
  flux: number[];
  synthetic: boolean;
  split: string | null;
}
