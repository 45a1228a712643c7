// Hydrostatic equilibrium: the differentiable residual of the training loss (the finite-difference
// estimator of grids and predictions is grid-io's `hydrostaticResidual`).
import { HYDROSTATIC_GEFF_FLOOR } from '@stellar-emu/grid-io';
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
 * network inputs, outputs and d(outputs)/d(normalized log tau); g from log g of the labels, and
 * g - ACCRAD floored at 1 % of g (grid-io's `g-accrad-floored`). Returns r with shape [B, 1].
 */
export function hydrostaticResidualTensor(
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
  if (includeAccrad) geff = tf.maximum(tf.sub(g, tf.exp(lnOf(Q_ACCRAD))), tf.mul(g, HYDROSTATIC_GEFF_FLOOR));
  const lnR = tf.sub(tf.sub(tf.add(lnTau, tf.log(geff)), lnOf(Q_PRESSURE)), lnOf(Q_ABROSS));
  const R = tf.exp(tf.clipByValue(lnR, -60, 60));
  return tf.div(tf.mul(tf.sub(D, R), 2), tf.add(tf.add(tf.abs(D), R), 1e-30)) as tf.Tensor2D;
}
