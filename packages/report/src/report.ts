// Writing a report (index.html, metrics.json, figures/*.svg|png) from metrics, or from a stored run.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeDirectoryAtomic, writeFileAtomic } from '@stellar-emu/grid-io';
import { evaluateChecks } from './checks.js';
import { buildFigures } from './figures.js';
import { renderHtml, type RenderedFigure } from './html.js';
import { parseRunMetrics, type Check, type ReportMetrics, type RunMetrics } from '@stellar-emu/metrics';
import { prefixSvgIds, renderSvg, svgToPng } from './render.js';

/** File name of a run's stored metrics inside `<artifacts>/runs/<id>/`. */
export const METRICS_INPUT_FILE = 'metrics-input.json';

export interface WriteReportOptions {
  /** Metrics object (validated against the contract; plain JSON is fine). */
  metrics: unknown;
  /** Directory to write into (created; earlier report files in it are replaced). */
  outDir: string;
  /** Raster scale of the PNGs relative to the SVG size (default 2). */
  pngScale?: number;
}

export interface ReportResult {
  outDir: string;
  indexHtml: string;
  metricsJson: string;
  /** Absolute paths of each figure's files. */
  figures: { id: string; title: string; svg: string; png: string }[];
  checks: Check[];
  pass: boolean;
}

/** The entries of a report directory that a new report replaces as a whole; others are kept. */
const REPORT_ENTRIES = new Set(['figures', 'index.html', 'metrics.json']);

/**
 * Write a report's files (paths relative to `outDir`) as one unit: into a temporary sibling
 * folder, fsynced, renamed into place only when complete (grid-io `writeDirectoryAtomic`), so a
 * failure at any point leaves the previous report whole.
 */
async function writeReportFiles(outDir: string, files: Map<string, string | Uint8Array>): Promise<void> {
  await writeDirectoryAtomic(
    outDir,
    async (stage) => {
      await mkdir(join(stage, 'figures'));
      for (const [rel, data] of files) {
        await mkdir(dirname(join(stage, rel)), { recursive: true });
        await writeFile(join(stage, rel), data);
      }
    },
    { carryOver: (name) => !REPORT_ENTRIES.has(name) && !name.startsWith('.tmp-') },
  );
}

/** Render every figure whose metrics exist, evaluate the checks and write the report files. */
export async function writeReport(options: WriteReportOptions): Promise<ReportResult> {
  const metrics: RunMetrics = parseRunMetrics(options.metrics);
  const outDir = resolve(options.outDir);
  const figuresDir = join(outDir, 'figures');
  const pending = new Map<string, string | Uint8Array>();

  const rendered: RenderedFigure[] = [];
  const files: ReportResult['figures'] = [];
  for (const figure of buildFigures(metrics)) {
    const svg = await renderSvg(figure.spec);
    const svgPath = join(figuresDir, `${figure.id}.svg`);
    const pngPath = join(figuresDir, `${figure.id}.png`);
    pending.set(`figures/${figure.id}.svg`, svg);
    pending.set(`figures/${figure.id}.png`, svgToPng(svg, options.pngScale ?? 2));
    rendered.push({
      figure,
      inlineSvg: prefixSvgIds(svg, `${figure.id}-`),
      svgFile: `figures/${figure.id}.svg`,
      pngFile: `figures/${figure.id}.png`,
    });
    files.push({ id: figure.id, title: figure.title, svg: svgPath, png: pngPath });
  }

  const checks = evaluateChecks(metrics);
  const pass = checks.every((c) => c.pass);
  const generatedAt = new Date().toISOString();
  const output: ReportMetrics = {
    ...metrics,
    checks,
    pass,
    report: {
      generatedAt,
      figures: rendered.map((f) => ({
        id: f.figure.id,
        title: f.figure.title,
        svg: f.svgFile,
        png: f.pngFile,
      })),
    },
  };
  const indexHtml = join(outDir, 'index.html');
  const metricsJson = join(outDir, 'metrics.json');
  pending.set('metrics.json', `${JSON.stringify(output, null, 2)}\n`);
  pending.set('index.html', renderHtml(metrics, rendered, checks, pass, generatedAt));
  await writeReportFiles(outDir, pending);
  return { outDir, indexHtml, metricsJson, figures: files, checks, pass };
}

function checkRunId(runId: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(runId) || runId === '.' || runId === '..') {
    throw new Error(`run id '${runId}' may only hold letters, digits, '.', '_' and '-'`);
  }
}

/** `<artifacts>/runs/<id>` (the worker's artifact store layout). */
export function runDirectory(artifactsDir: string, runId: string): string {
  checkRunId(runId);
  return join(resolve(artifactsDir), 'runs', runId);
}

/** Store a run's metrics (validated) as `<artifacts>/runs/<id>/metrics-input.json`; returns the path. */
export async function writeRunMetrics(
  artifactsDir: string,
  runId: string,
  metrics: unknown,
): Promise<string> {
  const parsed = parseRunMetrics(metrics);
  const path = join(runDirectory(artifactsDir, runId), METRICS_INPUT_FILE);
  await writeFileAtomic(path, `${JSON.stringify(parsed, null, 2)}\n`);
  return path;
}

/** Read and validate a stored run's metrics. */
export async function readRunMetrics(artifactsDir: string, runId: string): Promise<RunMetrics> {
  const path = join(runDirectory(artifactsDir, runId), METRICS_INPUT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`no stored metrics for run '${runId}': ${path} does not exist`);
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseRunMetrics(json, path);
}

/**
 * Regenerate the report of a stored run without retraining: reads
 * `<artifacts>/runs/<id>/metrics-input.json` and writes to `outDir`
 * (default `<artifacts>/runs/<id>/report`).
 */
export async function generateReportFromRun(
  artifactsDir: string,
  runId: string,
  outDir?: string,
): Promise<ReportResult> {
  const metrics = await readRunMetrics(artifactsDir, runId);
  return writeReport({ metrics, outDir: outDir ?? join(runDirectory(artifactsDir, runId), 'report') });
}
