// Atmosphere records as the PINN consumes and produces them; the Rosseland tau convention.

/**
 * The fields of grid-io's `AtmosphereModel` that the PINN needs (structurally compatible).
 * Arrays run from the surface inwards; cgs units (see grid-io `types.ts`).
 */
export interface AtmosphereLike {
  teffK: number;
  logg: number;
  feh: number;
  afe: number;
  nLayers: number;
  rhox: ArrayLike<number>;
  temperature: ArrayLike<number>;
  pressure: ArrayLike<number>;
  xne: ArrayLike<number>;
  abross: ArrayLike<number>;
  accrad: ArrayLike<number>;
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

/**
 * Rosseland optical depth per layer: the trapezoid integral of ABROSS over RHOX from the
 * surface, starting from tau_0 = ABROSS_0 * RHOX_0 (an optically thin top layer). This start
 * keeps tau_0 > 0, which a log-tau input needs; it is used in training, physics loss, metrics
 * and export alike.
 */
export function rosselandTau(rhoxGCm2: ArrayLike<number>, abrossCm2G: ArrayLike<number>): Float64Array {
  const n = rhoxGCm2.length;
  const tau = new Float64Array(n);
  tau[0] = abrossCm2G[0] * rhoxGCm2[0];
  for (let i = 1; i < n; i++) tau[i] = tau[i - 1] + 0.5 * (abrossCm2G[i] + abrossCm2G[i - 1]) * (rhoxGCm2[i] - rhoxGCm2[i - 1]);
  return tau;
}

/** The tau of a model: its own `tauRosseland` when present, else `rosselandTau`. */
export function tauOf(m: AtmosphereLike): ArrayLike<number> {
  return m.tauRosseland && m.tauRosseland.length === m.nLayers ? m.tauRosseland : rosselandTau(m.rhox, m.abross);
}
