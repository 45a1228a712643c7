// Atmosphere sources for synthesis: an ATLAS grid (interpolated), or one Kurucz deck.
import { createHash } from 'node:crypto';
import { columnIndex, sha256Hex, type KuruczDeck } from '@stellar-emu/grid-io';
import type { EngineAtmosphere } from './engine.js';
import type { AtmosphereSource } from './grid.js';
import { interpolateAtmosphere, isCovered, type AtlasGrid } from './interpolate.js';

/**
 * An interpolated ATLAS grid as an atmosphere source: {@link interpolateAtmosphere} at any
 * covered labels (never extrapolated), the grid's own abundance mix and opacity switches. Its
 * hash is that of the grid's deck files, so a changed grid changes every row key.
 */
export function atlasGridSource(grid: AtlasGrid): AtmosphereSource {
  const h = createHash('sha256').update('atlas-grid1');
  for (const f of [...grid.files].sort((a, b) => a.sha256.localeCompare(b.sha256))) h.update(f.sha256);
  const ax = grid.axes;
  return {
    kind: 'atlas9-grid',
    description: grid.source,
    sha256: h.digest('hex'),
    box: {
      teffK: { min: ax.teffK[0], max: ax.teffK[ax.teffK.length - 1] },
      logg: { min: ax.logg[0], max: ax.logg[ax.logg.length - 1] },
      mh: { min: ax.mh[0], max: ax.mh[ax.mh.length - 1] },
    },
    covers: (l) => isCovered(grid, l),
    atmosphere(l): EngineAtmosphere {
      const m = interpolateAtmosphere(grid, l);
      return {
        rhox: m.rhox,
        temperature: m.temperature,
        pressure: m.pressure,
        xne: m.xne,
        abundancePattern: grid.abundancePattern,
        opacityIfop: grid.opacityIfop,
        vturbKms: grid.vturbKms,
        source: m.source,
      };
    },
  };
}

/** The abundance mix of a deck in the Kurucz convention (index z-1; H, He number fractions, Z >= 3 log10 N/Ntot at scale 1). */
export function deckAbundancePattern(deck: KuruczDeck): number[] {
  const out: number[] = [];
  for (let z = 1; z <= 99; z++) {
    const table = deck.abundanceTable?.find((e) => e.z === z);
    const v =
      deck.abundanceChange.get(z) ??
      (table ? (z <= 2 ? table.value : table.value - Math.log10(deck.abundanceScale)) : undefined);
    if (v === undefined || !Number.isFinite(v))
      throw new Error(`${deck.source}:${deck.line}: the deck gives no abundance for Z = ${z}`);
    out.push(v);
  }
  return out;
}

/** One Kurucz deck as an engine atmosphere (its own depth structure and abundance mix). */
export function deckAtmosphere(deck: KuruczDeck): EngineAtmosphere {
  const col = (name: string) => {
    const c = columnIndex(deck, name);
    if (c < 0) throw new Error(`${deck.source}:${deck.line}: the deck has no ${name} column`);
    return deck.columns[c];
  };
  return {
    rhox: col('RHOX'),
    temperature: col('T'),
    pressure: col('P'),
    xne: col('XNE'),
    abundancePattern: deckAbundancePattern(deck),
    opacityIfop: deck.opacityIfop,
    vturbKms: null,
    source: `${deck.source}:${deck.line}`,
  };
}

/** A single deck as an atmosphere source: it covers only its own labels (within 1e-6). */
export function deckSource(deck: KuruczDeck, mh: number): AtmosphereSource {
  const atm = deckAtmosphere(deck);
  const id = sha256Hex(
    JSON.stringify([
      'deck1',
      deck.teffK,
      deck.logg,
      mh,
      atm.abundancePattern,
      Array.from(atm.rhox),
      Array.from(atm.temperature),
      Array.from(atm.pressure),
      Array.from(atm.xne),
    ]),
  );
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  return {
    kind: 'deck',
    description: `${deck.source}:${deck.line}`,
    sha256: id,
    box: {
      teffK: { min: deck.teffK, max: deck.teffK },
      logg: { min: deck.logg, max: deck.logg },
      mh: { min: mh, max: mh },
    },
    covers: (l) => same(l.teffK, deck.teffK) && same(l.logg, deck.logg) && same(l.mh, mh),
    atmosphere: (l) => {
      if (!(same(l.teffK, deck.teffK) && same(l.logg, deck.logg) && same(l.mh, mh))) {
        throw new Error(
          `${deck.source}:${deck.line}: the deck is Teff ${deck.teffK} K, log g ${deck.logg}, [M/H] ${mh}; asked for ${l.teffK}, ${l.logg}, ${l.mh}`,
        );
      }
      return atm;
    },
  };
}
