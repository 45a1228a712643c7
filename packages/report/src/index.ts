// @stellar-emu/report: checks, Vega-Lite figures and the self-contained HTML report of a run's metrics.
// The metrics contract lives in @stellar-emu/metrics; it is re-exported here for the report's callers.
export * from '@stellar-emu/metrics';
export { LABEL_INFO } from './labels.js';
export { evaluateChecks, recoveryFactorOf } from './checks.js';
export { buildFigures, VEGA_LITE_CONFIG, type FigureSpec } from './figures.js';
export { renderSvg, svgToPng, prefixSvgIds } from './render.js';
export {
  METRICS_INPUT_FILE,
  generateReportFromRun,
  readRunMetrics,
  runDirectory,
  writeReport,
  writeRunMetrics,
  type ReportResult,
  type WriteReportOptions,
} from './report.js';
export { currentGitCommit, machineInfo } from './run-info.js';
