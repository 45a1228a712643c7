// @stellar-emu/report: metrics contract, checks, Vega-Lite figures and the self-contained HTML report.
export * from './metrics-schema.js';
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
export {
  buildSampleMetrics,
  SAMPLE_THRESHOLDS,
  type SampleMetricsOptions,
  type SampleSize,
} from './sample/sample-metrics.js';
