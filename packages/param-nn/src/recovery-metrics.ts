// Recovery metrics: the evaluated sets, RMSE per label and the verdict of each label (generated RMSE within its factor of the test RMSE).
import { recoveryFactors, SPLIT_NAMES, type RecoveryFactorSetting } from '@stellar-emu/grid-io';
import { rmse } from '@stellar-emu/numerics';
import { LABEL_UNITS } from './labels.js';

/** The four evaluated sets (the paper's Table 3 rows). */
export const EVALUATION_SETS = [...SPLIT_NAMES, 'generated'] as const;
export type EvaluationSet = (typeof EVALUATION_SETS)[number];

/**
 * Root-mean-square error per label, physical units, of clipped predictions against truth (numerics `rmse`
 * of each label's column: a row where either value is non-finite is left out; NaN when none is finite).
 */
export function rmsePerLabel(
  pred: Float64Array,
  truth: Float64Array,
  rows: number,
  names: readonly string[],
): Record<string, number> {
  const nl = names.length;
  if (pred.length !== rows * nl || truth.length !== rows * nl)
    throw new Error(`rmsePerLabel: expected ${rows} x ${nl} values`);
  if (rows === 0) throw new Error('rmsePerLabel: no rows');
  const out: Record<string, number> = {};
  const column = (m: Float64Array, j: number) => Float64Array.from({ length: rows }, (_, i) => m[i * nl + j]);
  names.forEach((n, j) => (out[n] = rmse(column(truth, j), column(pred, j))));
  return out;
}

/** The verdict of one label. */
export interface LabelVerdict {
  label: string;
  unit: string;
  testRmse: number;
  generatedRmse: number;
  /** generated / test. */
  ratio: number;
  factor: number;
  /** generatedRmse ≤ factor × testRmse. */
  pass: boolean;
}

/** Verdict per label: generated RMSE within the label's factor (grid-io `recoveryFactor`) of the test RMSE. */
export function verdicts(
  test: Record<string, number>,
  generated: Record<string, number>,
  names: readonly string[],
  setting?: RecoveryFactorSetting,
): LabelVerdict[] {
  const factors = recoveryFactors(names, setting);
  return names.map((label) => {
    const t = test[label];
    const g = generated[label];
    const factor = factors[label];
    return {
      label,
      unit: LABEL_UNITS[label] ?? 'unknown',
      testRmse: t,
      generatedRmse: g,
      ratio: t > 0 ? g / t : g === 0 ? 1 : Infinity,
      factor,
      pass: g <= factor * t,
    };
  });
}
