// Conversion between a parsed Kurucz deck and the AtmosphereModel record of the datasets.
import { atmosphereContentId } from '../dataset/content-hash.js';
import { rosselandTau } from '../derived/optical-depth.js';
import type { AtmosphereModel } from '../types.js';
import { deckMetallicity } from './abundances.js';
import { columnIndex, type KuruczDeck } from './deck.js';

/** Microturbulence in km/s: from a `VTURB x KM/S` title, else from a depth-constant VTURB column (cm/s), else null. */
export function deckVturbKms(deck: KuruczDeck): number | null {
  const m = /VTURB\s*=?\s*([\d.]+)/i.exec(deck.title);
  if (m && Number.isFinite(Number(m[1]))) return Number(m[1]);
  const c = columnIndex(deck, 'VTURB');
  if (c >= 0) {
    const col = deck.columns[c];
    if (col.every((v) => v === col[0])) return col[0] / 1e5;
  }
  return null;
}

/**
 * The AtmosphereModel of a deck: labels (Teff, log g, [M/H], [Fe/H], [alpha/Fe] from
 * {@link deckMetallicity}, vturb), the six depth quantities in cgs, Rosseland tau (see
 * `rosselandTau` for the convention) and a content id.
 */
export function deckToAtmosphereModel(deck: KuruczDeck, opts: { source?: string } = {}): AtmosphereModel {
  const col = (name: string): number[] => {
    const c = columnIndex(deck, name);
    if (c < 0) throw new Error(`${deck.source}:${deck.line}: deck has no ${name} column`);
    return deck.columns[c];
  };
  const met = deckMetallicity(deck);
  const rhox = col('RHOX');
  const abross = col('ABROSS');
  const base: Omit<AtmosphereModel, 'id'> = {
    source: opts.source ?? deck.source,
    line: deck.line,
    teffK: deck.teffK,
    logg: deck.logg,
    mh: met.mh,
    feh: met.feh,
    afe: met.afe,
    vturbKms: deckVturbKms(deck),
    nLayers: deck.nLayers,
    rhox,
    temperature: col('T'),
    pressure: col('P'),
    xne: col('XNE'),
    abross,
    accrad: col('ACCRAD'),
    tauRosseland: rosselandTau(rhox, abross),
    synthetic: false,
    split: null,
  };
  return { id: atmosphereContentId(base), ...base };
}
