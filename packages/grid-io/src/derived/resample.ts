// Resampling of a model atmosphere onto a given log10 Rosseland-tau grid by monotone (PCHIP) interpolation.
import {
  ATMOSPHERE_QUANTITIES,
  LOG_ATMOSPHERE_QUANTITIES,
  type AtmosphereModel,
  type AtmosphereQuantity,
} from '../types.js';

/**
 * Monotone piecewise-cubic Hermite interpolation (Fritsch & Carlson 1980, as in SciPy's PCHIP):
 * never overshoots the data, so a monotone quantity stays monotone.
 *
 * @param x strictly increasing abscissae
 * @param y ordinates
 * @param xNew points to evaluate, each inside [x[0], x[n-1]]
 */
export function pchipInterpolate(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  xNew: ArrayLike<number>,
): number[] {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`pchipInterpolate: ${n} abscissae but ${y.length} ordinates`);
  if (n < 2) throw new RangeError('pchipInterpolate: need at least 2 points');
  const h = new Array<number>(n - 1);
  const delta = new Array<number>(n - 1);
  for (let i = 0; i < n - 1; i++) {
    h[i] = x[i + 1] - x[i];
    if (!(h[i] > 0))
      throw new RangeError(`pchipInterpolate: abscissae must increase strictly (index ${i + 1})`);
    delta[i] = (y[i + 1] - y[i]) / h[i];
  }
  const d = new Array<number>(n);
  if (n === 2) {
    d[0] = d[1] = delta[0];
  } else {
    for (let i = 1; i < n - 1; i++) {
      if (delta[i - 1] * delta[i] <= 0) d[i] = 0;
      else {
        const w1 = 2 * h[i] + h[i - 1];
        const w2 = h[i] + 2 * h[i - 1];
        d[i] = (w1 + w2) / (w1 / delta[i - 1] + w2 / delta[i]);
      }
    }
    const edge = (h0: number, h1: number, m0: number, m1: number) => {
      let dd = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
      if (Math.sign(dd) !== Math.sign(m0)) dd = 0;
      else if (Math.sign(m0) !== Math.sign(m1) && Math.abs(dd) > Math.abs(3 * m0)) dd = 3 * m0;
      return dd;
    };
    d[0] = edge(h[0], h[1], delta[0], delta[1]);
    d[n - 1] = edge(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3]);
  }
  const out = new Array<number>(xNew.length);
  let k = 0;
  for (let j = 0; j < xNew.length; j++) {
    const xv = xNew[j];
    if (!(xv >= x[0] && xv <= x[n - 1]))
      throw new RangeError(`pchipInterpolate: ${xv} is outside [${x[0]}, ${x[n - 1]}] (no extrapolation)`);
    if (xv < x[k]) k = 0;
    while (k < n - 2 && xv > x[k + 1]) k++;
    const t = (xv - x[k]) / h[k];
    const t2 = t * t;
    const t3 = t2 * t;
    out[j] =
      (2 * t3 - 3 * t2 + 1) * y[k] +
      (t3 - 2 * t2 + t) * h[k] * d[k] +
      (-2 * t3 + 3 * t2) * y[k + 1] +
      (t3 - t2) * h[k] * d[k + 1];
  }
  return out;
}

/** Quantities interpolated in log10 (they are positive-definite); the others linearly. */
const LOG_QUANTITIES: ReadonlySet<AtmosphereQuantity> = new Set(LOG_ATMOSPHERE_QUANTITIES);

/**
 * A model resampled onto `log10TauGrid` (log10 of the Rosseland tau of {@link rosselandTau}):
 * each depth quantity is interpolated with {@link pchipInterpolate} against log10(tau), in log10
 * for the positive-definite ones (RHOX, T, P, XNE, ABROSS) and linearly for ACCRAD. The grid
 * must lie inside the model's tau range (no extrapolation). Labels and id are kept; `tauRosseland`
 * becomes 10^grid.
 */
export function resampleToLogTau(model: AtmosphereModel, log10TauGrid: ArrayLike<number>): AtmosphereModel {
  const logTau = model.tauRosseland.map((t) => Math.log10(t));
  const out: AtmosphereModel = {
    ...model,
    nLayers: log10TauGrid.length,
    tauRosseland: Array.from(log10TauGrid, (v) => 10 ** v),
  };
  for (const q of ATMOSPHERE_QUANTITIES) {
    const src = model[q];
    if (LOG_QUANTITIES.has(q)) {
      out[q] = pchipInterpolate(
        logTau,
        src.map((v) => Math.log10(v)),
        log10TauGrid,
      ).map((v) => 10 ** v);
    } else {
      out[q] = pchipInterpolate(logTau, src, log10TauGrid);
    }
  }
  return out;
}
