// Hydrostatic equilibrium: the differentiable residual for training and the finite-difference estimator.
import { tf } from '@stellar-emu/nn-core';
import { Q_ABROSS, Q_ACCRAD, Q_PRESSURE } from './config.js';
import type { Normalization } from './normalization.js';

const LN10 = Math.LN10;

/**
 * Symmetric relative residual of hydrostatic equilibrium in log form at each point,
 *   D = d ln P / d ln tau (from the tangent),  R = tau (g - ACCRAD) / (P kappa),
 *   r = 2 (D - R) / (|D| + R),
 * which is the relative residual D/R - 1 near equilibrium but bounded in [-2, 2], so that early,
 * far-from-equilibrium networks do not produce exploding gradients. Inputs are the normalized
 * network inputs, outputs and d(outputs)/d(normalized log tau); g from log g of the labels.
 * Returns r with shape [B, 1].
 */
export function hydrostaticResidual(
  norm: Normalization,
  labelsN: tf.Tensor2D,
  logTauN: tf.Tensor2D,
  yN: tf.Tensor2D,
  dyN: tf.Tensor2D,
  includeAccrad: boolean,
): tf.Tensor2D {
  const col = (t: tf.Tensor2D, k: number) => tf.slice(t, [0, k], [-1, 1]);
  const lnOf = (k: number) => tf.mul(tf.add(tf.mul(col(yN, k), norm.outStd[k]), norm.outMean[k]), LN10);
  // D = d lnP / d lnTau = (sd_P / sd_logTau) dyN_P / dlogTauN
  const D = tf.mul(col(dyN, Q_PRESSURE), norm.outStd[Q_PRESSURE] / norm.logTauStd);
  const lnTau = tf.mul(tf.add(tf.mul(logTauN, norm.logTauStd), norm.logTauMean), LN10);
  const log10g = tf.add(tf.mul(col(labelsN, 1), norm.labelStd[1]), norm.labelMean[1]);
  const g = tf.pow(10, log10g);
  let geff: tf.Tensor = g;
  if (includeAccrad) geff = tf.maximum(tf.sub(g, tf.exp(lnOf(Q_ACCRAD))), tf.mul(g, 1e-2));
  const lnR = tf.sub(tf.sub(tf.add(lnTau, tf.log(geff)), lnOf(Q_PRESSURE)), lnOf(Q_ABROSS));
  const R = tf.exp(tf.clipByValue(lnR, -60, 60));
  return tf.div(tf.mul(tf.sub(D, R), 2), tf.add(tf.add(tf.abs(D), R), 1e-30)) as tf.Tensor2D;
}

/**
 * Hydrostatic residual of one model from its depth arrays by central finite differences in
 * ln tau (one-sided at the ends): |(d ln P / d ln tau) / (tau (g - ACCRAD) / (P kappa)) - 1|
 * per layer. The same estimator is applied to the ground-truth grid and to the emulator's
 * predictions on the same tau grid (paper Figs. 3-4).
 */
export function hydrostaticResidualFD(
  gravityCms2: number,
  tau: ArrayLike<number>,
  pressure: ArrayLike<number>,
  abross: ArrayLike<number>,
  accrad: ArrayLike<number> | null,
): Float64Array {
  const n = tau.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - 1);
    const b = Math.min(n - 1, i + 1);
    const D = (Math.log(pressure[b]) - Math.log(pressure[a])) / (Math.log(tau[b]) - Math.log(tau[a]));
    const geff = gravityCms2 - (accrad ? accrad[i] : 0);
    const R = (tau[i] * geff) / (pressure[i] * abross[i]);
    out[i] = Math.abs(D / R - 1);
  }
  return out;
}

/** Order statistics: grid-io's (non-finite values left out). */
export { median, quantile } from '@stellar-emu/grid-io';
