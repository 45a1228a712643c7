// Rosseland optical depth from a deck's ABROSS and RHOX columns.

/**
 * Rosseland optical depth of each layer: tau_0 = ABROSS_0 * RHOX_0 (the top layer is taken as
 * optically thin, with constant opacity above it), then the trapezoid rule in RHOX:
 * tau_i = tau_{i-1} + (ABROSS_i + ABROSS_{i-1}) / 2 * (RHOX_i - RHOX_{i-1}).
 * This convention is used everywhere in stellar-emu (datasets, training, physics loss, export).
 *
 * @param rhoxGCm2 column mass RHOX per layer (g cm^-2), increasing inwards
 * @param abrossCm2G Rosseland mean opacity per layer (cm^2 g^-1)
 * @returns tau per layer (dimensionless), increasing inwards
 */
export function rosselandTau(rhoxGCm2: ArrayLike<number>, abrossCm2G: ArrayLike<number>): number[] {
  const n = rhoxGCm2.length;
  if (abrossCm2G.length !== n)
    throw new RangeError(`rosselandTau: RHOX has ${n} layers, ABROSS ${abrossCm2G.length}`);
  const tau = new Array<number>(n);
  if (n === 0) return tau;
  tau[0] = abrossCm2G[0] * rhoxGCm2[0];
  for (let i = 1; i < n; i++)
    tau[i] = tau[i - 1] + 0.5 * (abrossCm2G[i] + abrossCm2G[i - 1]) * (rhoxGCm2[i] - rhoxGCm2[i - 1]);
  return tau;
}
