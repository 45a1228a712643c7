// Predictions as grid-io records: an AtmosphereModel (dataset rows, exports) and a Kurucz deck (exports, synthesis).
import {
  atmosphereContentId,
  atmosphereModelToDeck,
  estimatePradk,
  type AtmosphereModel,
  type DeckDefaults,
  type KuruczDeck,
} from '@stellar-emu/grid-io';
import type { PredictedAtmosphere } from './atmosphere.js';

/**
 * A prediction as a grid-io AtmosphereModel (marked synthetic): [M/H] = [Fe/H] (the deck's
 * abundance scale), alpha from [alpha/Fe]; `vturbKms` is the microturbulence of the grid the
 * emulator learned (null: unknown). The one conversion used by the CLI's exports and synthesis.
 */
export function predictedAtmosphereModel(
  p: PredictedAtmosphere,
  opts: { source: string; line?: number; split?: string | null; vturbKms?: number | null },
): AtmosphereModel {
  const base: Omit<AtmosphereModel, 'id'> = {
    source: opts.source,
    line: opts.line ?? 0,
    teffK: p.teffK,
    logg: p.logg,
    mh: p.feh,
    feh: p.feh,
    afe: p.afe,
    vturbKms: opts.vturbKms ?? null,
    nLayers: p.nLayers,
    rhox: p.rhox,
    temperature: p.temperature,
    pressure: p.pressure,
    xne: p.xne,
    abross: p.abross,
    accrad: p.accrad,
    tauRosseland: p.tauRosseland,
    synthetic: true,
    split: opts.split ?? null,
  };
  return { id: atmosphereContentId(base), ...base };
}

/** How {@link predictedDeck} labels and completes a deck. */
export interface PredictedDeckOptions {
  source: string;
  /** VTURB of the grid the emulator learned, km/s (default 2, the Kurucz grids'). */
  vturbKms?: number;
  /** The training grid's abundance mix and PRADK ratio (model.json `deckDefaults`; absent for older models: the Kurucz 1993 mix, Eddington PRADK). */
  defaults?: DeckDefaults | null;
  /** Who made it, for the TITLE card: e.g. `stellar-emu 0.1.0 PINN 3f2a9c1d4e5b` (default `stellar-emu EMULATED`). */
  producer?: string;
}

/**
 * A prediction as a Kurucz deck (in memory; `formatDeck` writes it): the grid-io deck of
 * {@link predictedAtmosphereModel}, with the training grid's solar abundance mix
 * (`defaults.abundanceChange`, else the Kurucz 1993 grids') scaled to [Fe/H] (alpha elements
 * raised by [alpha/Fe]), VTURB `vturbKms`, a PRADK card estimated from the grid's PRADK ratio at
 * this Teff (grid-io `estimatePradk`: PRADK is not emulated; ATLAS only starts from it), a closing
 * `ITERATION 0 COMPLETED` card (no ATLAS iteration was run), and `producer` with [alpha/Fe] on
 * the TITLE. What `predict atmosphere --format kurucz` exports and what synthesis reads from an emulator.
 */
export function predictedDeck(p: PredictedAtmosphere, opts: PredictedDeckOptions): KuruczDeck {
  const afe = `${p.afe >= 0 ? '+' : '-'}${Math.abs(p.afe).toFixed(2)}`;
  return atmosphereModelToDeck(
    predictedAtmosphereModel(p, { source: opts.source, vturbKms: opts.vturbKms ?? 2 }),
    {
      abundanceChange: opts.defaults?.abundanceChange,
      pradk: estimatePradk(p.teffK, opts.defaults),
      iterations: 0,
      titlePrefix: `${opts.producer ?? 'stellar-emu EMULATED'} a/Fe ${afe}`,
    },
  );
}
