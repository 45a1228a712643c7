// Atmosphere records as the PINN consumes and produces them.
import { rosselandTau, type AtmosphereQuantity } from '@stellar-emu/grid-io';

/**
 * The fields of grid-io's `AtmosphereModel` that the PINN needs (structurally compatible): the
 * labels and one array per grid-io ATMOSPHERE_QUANTITIES entry.
 * Arrays run from the surface inwards; cgs units (see grid-io `types.ts`).
 */
export interface AtmosphereLike extends Record<AtmosphereQuantity, ArrayLike<number>> {
  teffK: number;
  logg: number;
  feh: number;
  afe: number;
  nLayers: number;
  /** Rosseland optical depth per layer; computed by `rosselandTau` when absent. */
  tauRosseland?: ArrayLike<number>;
}

/** Stellar labels in physical units. */
export interface StellarLabels {
  teffK: number;
  logg: number;
  feh: number;
  afe: number;
}

/** A predicted model atmosphere in physical units (cgs), surface first: one array per grid-io ATMOSPHERE_QUANTITIES entry. */
export interface PredictedAtmosphere extends StellarLabels, Record<AtmosphereQuantity, number[]> {
  nLayers: number;
  tauRosseland: number[];
}

/**
 * The tau of a model: its own `tauRosseland` when present, else grid-io's `rosselandTau` (the
 * project's one tau convention; tau_0 = ABROSS_0 * RHOX_0 > 0, which a log-tau input needs).
 */
export function tauOf(m: AtmosphereLike): ArrayLike<number> {
  return m.tauRosseland && m.tauRosseland.length === m.nLayers
    ? m.tauRosseland
    : rosselandTau(m.rhox, m.abross);
}
