// Shared record types of grid-io: one atmosphere model, one spectrum.

/** The six per-depth quantities of a Kurucz deck that the emulators learn (cgs units). */
export const ATMOSPHERE_QUANTITIES = ['rhox', 'temperature', 'pressure', 'xne', 'abross', 'accrad'] as const;
export type AtmosphereQuantity = (typeof ATMOSPHERE_QUANTITIES)[number];

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
