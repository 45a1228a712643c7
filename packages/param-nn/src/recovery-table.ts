// The recovery validation as plain text: the RMSE table (rows: sets; columns: labels with units) and the verdicts.
import { LABEL_UNITS } from './labels.js';
import { EVALUATION_SETS } from './recovery-metrics.js';
import type { ValidationResult } from './validate.js';

/** A plain-text RMSE table (rows: sets; columns: labels with units) and the verdicts. */
export function formatRmseTable(result: ValidationResult): string {
  const names = result.labelNames;
  const head = ['set', ...names.map((n) => `${n} [${(LABEL_UNITS[n] ?? '?').split(' ')[0]}]`)];
  const fmt = (x: number) =>
    Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
  const rows = EVALUATION_SETS.map((s) => [s, ...names.map((n) => fmt(result.sets[s].rmse[n]))]);
  rows.push(['verdict', ...result.verdicts.map((v) => `${v.pass ? 'PASS' : 'FAIL'} ${v.ratio.toFixed(2)}x`)]);
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (r: string[]) => r.map((c, j) => c.padEnd(widths[j])).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}
