// Metallicity labels of a deck: [M/H], [Fe/H] and [alpha/Fe] from its abundance cards, against a stated solar reference.
import type { KuruczDeck } from './deck.js';

/** Elements whose mean [X/Fe] defines [alpha/Fe] here: O, Mg, Si, Ca, Ti. */
export const ALPHA_ELEMENTS_Z: readonly number[] = [8, 12, 14, 20, 22];
const FE_Z = 26;

/** A solar abundance set on the A(X) = log10(N_X/N_H) + 12 scale, for the elements used here. */
export interface SolarReference {
  name: string;
  citation: string;
  /** A(X) by atomic number (only Fe and the alpha elements are needed). */
  logEps: Readonly<Record<number, number>>;
}

/**
 * Asplund, Grevesse, Sauval & Scott 2009, ARA&A 47, 481 (the `asplund2009` column of
 * `atomic/abundances/solar_abundances.csv`, transcribed there from Korg.jl). The ATLAS12
 * samples were computed from this mixture scaled by a constant (their C and N give the same
 * offset as Fe), so it is the reference for decks that carry an ABUNDANCE TABLE.
 */
export const SOLAR_ASPLUND_2009: SolarReference = {
  name: 'asplund2009',
  citation: 'Asplund et al. 2009, ARA&A 47, 481',
  logEps: { 8: 8.69, 12: 7.6, 14: 7.51, 20: 6.34, 22: 4.95, 26: 7.5 },
};

/**
 * Anders & Grevesse 1989 (GCA 53, 197): the solar mixture of Kurucz's 1993 ATLAS9 grids. The
 * ABUNDANCE CHANGE cards of those grids (Fe -4.37 with N_H/N_tot = 0.911, i.e. A(Fe) = 7.67)
 * reproduce these values to 0.001 dex.
 */
export const SOLAR_ANDERS_GREVESSE_1989: SolarReference = {
  name: 'anders-grevesse-1989',
  citation: 'Anders & Grevesse 1989, GCA 53, 197 (Kurucz 1993 ATLAS9 grids)',
  logEps: { 8: 8.93, 12: 7.58, 14: 7.55, 20: 6.36, 22: 4.99, 26: 7.67 },
};

/**
 * Grevesse & Sauval 1998-based mixture of the Castelli & Kurucz ATLAS9 "NEW ODF" models, as
 * computed from the header of `atomic/atmosphere/ksun.mod` (the `atlas9_ksun_gs98` column).
 */
export const SOLAR_CASTELLI_KURUCZ_GS98: SolarReference = {
  name: 'castelli-kurucz-gs98',
  citation: 'Grevesse & Sauval 1998 as used by Castelli & Kurucz 2003 (ODFNEW)',
  logEps: { 8: 8.826, 12: 7.576, 14: 7.546, 20: 6.356, 22: 5.016, 26: 7.496 },
};

/**
 * The solar reference a deck's abundances are measured against: Asplund 2009 for ATLAS12 decks
 * (ABUNDANCE TABLE present or ATLAS12 title), GS98 for Castelli-Kurucz "NEW ODF" decks, and
 * Anders & Grevesse 1989 for the other ATLAS9 decks (Kurucz 1993 grids).
 */
export function solarReferenceFor(deck: Pick<KuruczDeck, 'title' | 'abundanceTable'>): SolarReference {
  if (deck.abundanceTable || /ATLAS12/i.test(deck.title)) return SOLAR_ASPLUND_2009;
  if (/NEW\s*ODF|ODFNEW/i.test(deck.title)) return SOLAR_CASTELLI_KURUCZ_GS98;
  return SOLAR_ANDERS_GREVESSE_1989;
}

/** Metallicity labels of one deck, in dex. */
export interface Metallicity {
  /** [M/H]: log10(ABUNDANCE SCALE) for scaled-solar decks; for ATLAS12 decks (per-element abundances) [Fe/H]. */
  mh: number;
  feh: number;
  /** Mean [X/Fe] over O, Mg, Si, Ca, Ti. */
  afe: number;
  /** [Fe/H] and [alpha/Fe] as computed from the abundance cards (before the scaled-solar shortcut). */
  derivedFeh: number;
  derivedAfe: number;
  reference: SolarReference;
  /** true when the deck is scaled-solar (no ABUNDANCE TABLE) and its cards agree with that. */
  scaledSolar: boolean;
}

/**
 * A(X) = log10(N_X/N_H) + 12 of element `z` in a deck: the ABUNDANCE TABLE value when present,
 * else the ABUNDANCE CHANGE value, plus log10(ABUNDANCE SCALE), minus log10(N_H/N_tot).
 * Returns null when the deck does not state the element.
 */
export function logEpsilon(
  deck: Pick<KuruczDeck, 'abundanceScale' | 'abundanceChange' | 'abundanceTable'>,
  z: number,
): number | null {
  const fromTable = (zz: number) => deck.abundanceTable?.find((e) => e.z === zz)?.value;
  const get = (zz: number) => fromTable(zz) ?? deck.abundanceChange.get(zz);
  const hFrac = get(1);
  const x = get(z);
  if (x === undefined || hFrac === undefined || !(hFrac > 0)) return null;
  return x + Math.log10(deck.abundanceScale) - Math.log10(hFrac) + 12;
}

/** Tolerance (dex) within which a deck's cards must confirm a scaled-solar [Fe/H] = log10(scale), [alpha/Fe] = 0. */
export const SCALED_SOLAR_TOLERANCE_DEX = 0.01;

/**
 * [M/H], [Fe/H] and [alpha/Fe] of a deck. For ATLAS9 (scaled-solar, no ABUNDANCE TABLE) decks
 * [Fe/H] = [M/H] = log10(ABUNDANCE SCALE) and [alpha/Fe] = 0 once the ABUNDANCE CHANGE values
 * confirm it within {@link SCALED_SOLAR_TOLERANCE_DEX}; otherwise (and for ATLAS12 decks) the
 * values derived from the element abundances against {@link solarReferenceFor} are reported.
 */
export function deckMetallicity(
  deck: Pick<KuruczDeck, 'title' | 'abundanceScale' | 'abundanceChange' | 'abundanceTable'>,
  reference = solarReferenceFor(deck),
): Metallicity {
  const logScale = Math.log10(deck.abundanceScale);
  const feEps = logEpsilon(deck, FE_Z);
  const derivedFeh = feEps === null ? logScale : feEps - reference.logEps[FE_Z];
  const xfe: number[] = [];
  for (const z of ALPHA_ELEMENTS_Z) {
    const eps = logEpsilon(deck, z);
    if (eps !== null && feEps !== null) xfe.push(eps - reference.logEps[z] - derivedFeh);
  }
  const derivedAfe = xfe.length ? xfe.reduce((a, b) => a + b, 0) / xfe.length : 0;
  const scaledSolar =
    !deck.abundanceTable &&
    Math.abs(derivedFeh - logScale) <= SCALED_SOLAR_TOLERANCE_DEX &&
    Math.abs(derivedAfe) <= SCALED_SOLAR_TOLERANCE_DEX;
  if (scaledSolar)
    return { mh: logScale, feh: logScale, afe: 0, derivedFeh, derivedAfe, reference, scaledSolar };
  const mh = deck.abundanceTable ? derivedFeh : logScale;
  return { mh, feh: derivedFeh, afe: derivedAfe, derivedFeh, derivedAfe, reference, scaledSolar };
}
